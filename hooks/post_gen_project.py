"""Remove the files that the answers turn off, as copier's ``_exclude`` does.

copier.yml's ``_exclude`` is the one list of optional paths: this hook renders its
conditional entries with the answers, exactly as copier does, and removes what they name.
cookiecutter.json carries those entries (``_conditional_excludes``), so the hook needs no
copier.yml when cookiecutter or cruft runs it. Cookiecutter renders this file with Jinja,
which fills ANSWERS_JSON below; the rest is plain Python. mlplate imports this module and
calls it itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""
# Only copier writes its answers file.
ALWAYS_REMOVED = [".copier-answers.yml"]


def conditional_excludes(answers: dict) -> list[str]:
    """The ``_exclude`` entries of copier.yml that depend on answers (they hold Jinja): from
    cookiecutter's context, or, when mlplate imports this module, from copier.yml beside it.

    (This file is itself rendered by cookiecutter: it must not spell a Jinja tag.)
    """
    if "_conditional_excludes" in answers:
        return list(answers["_conditional_excludes"])
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = (Path(__file__).resolve().parent.parent / "copier.yml").read_text(encoding="utf-8")
    return [
        entry for entry in yaml.load(text, Loader=loader)["_exclude"] if "cookiecutter." in entry
    ]


def paths_to_remove(answers: dict) -> list[str]:
    """Return the optional paths that these answers turn off."""
    from jinja2.sandbox import SandboxedEnvironment

    environment = SandboxedEnvironment()
    context = {"cookiecutter": answers}
    removed = [
        rendered
        for entry in conditional_excludes(answers)
        if (rendered := environment.from_string(entry).render(context).strip())
    ]
    return removed + ALWAYS_REMOVED


def remove_paths(root: Path, paths: list[str]) -> None:
    """Delete each path (or glob) under root, file or folder, if it exists."""
    for pattern in paths:
        for target in root.glob(pattern):
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink()


def main() -> None:
    remove_paths(Path.cwd(), paths_to_remove(json.loads(ANSWERS_JSON)))


if __name__ == "__main__":
    main()
