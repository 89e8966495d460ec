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

# (path or glob, {answer: values that keep the path}): kept only when every answer matches.
CONDITIONAL_PATHS: list[tuple[str, dict[str, tuple[object, ...]]]] = [
    (".github", {"ci": ("github",)}),
    (".gitlab-ci.yml", {"ci": ("gitlab",)}),
    ("src/*/serving", {"serving": ("fastapi",)}),
    ("tests/test_serving.py", {"serving": ("fastapi",)}),
    ("tests/test_prediction_log.py", {"serving": ("fastapi",)}),
    ("tests/test_api_fuzz.py", {"serving": ("fastapi",)}),
    ("Dockerfile", {"serving": ("fastapi",), "docker": (True,)}),
    (".dockerignore", {"serving": ("fastapi",), "docker": (True,)}),
    ("docs", {"docs": (True,)}),
    ("mkdocs.yml", {"docs": (True,)}),
    ("src/*/model_card.py", {"docs": (True,)}),
    ("tests/test_model_card.py", {"docs": (True,)}),
    (".pre-commit-config.yaml", {"pre_commit": (True,)}),
    ("src/*/orchestration", {"orchestrator": ("kubeflow",)}),
    ("tests/test_orchestration.py", {"orchestrator": ("kubeflow",)}),
    ("pipeline.Dockerfile", {"orchestrator": ("kubeflow",)}),
]
# Only copier writes its answers file.
ALWAYS_REMOVED = [".copier-answers.yml"]


def paths_to_remove(answers: dict) -> list[str]:
    """Return the optional paths that these answers turn off."""

    def matches(key: str, keep: tuple[object, ...]) -> bool:
        return str(answers[key]).lower() in {str(value).lower() for value in keep}

    removed = [
        path
        for path, conditions in CONDITIONAL_PATHS
        if not all(matches(key, keep) for key, keep in conditions.items())
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
