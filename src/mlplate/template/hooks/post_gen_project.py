"""Remove the files that the answers turn off, as copier's ``_exclude`` does.

Cookiecutter renders this file with Jinja, which fills ANSWERS_JSON below;
the rest is plain Python. CONDITIONAL_PATHS is the single list of optional
paths: copier.yml's ``_exclude`` mirrors it, and the engine parity test
proves both engines produce the same tree.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""

# (path, answer, values that keep the path)
CONDITIONAL_PATHS: list[tuple[str, str, tuple[str, ...]]] = [
    (".github", "ci", ("github",)),
    (".gitlab-ci.yml", "ci", ("gitlab",)),
]
# Only copier writes its answers file.
ALWAYS_REMOVED = [".copier-answers.yml"]


def paths_to_remove(answers: dict) -> list[str]:
    """Return the optional paths that these answers turn off."""
    removed = [
        path
        for path, key, keep in CONDITIONAL_PATHS
        if str(answers[key]).lower() not in {value.lower() for value in keep}
    ]
    return removed + ALWAYS_REMOVED


def remove_paths(root: Path, paths: list[str]) -> None:
    """Delete each path under root, file or folder, if it exists."""
    for relative in paths:
        target = root / relative
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def main() -> None:
    remove_paths(Path.cwd(), paths_to_remove(json.loads(ANSWERS_JSON)))


if __name__ == "__main__":
    main()
