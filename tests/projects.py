"""Build generated projects for the slow tests, sharing one installed environment.

Installing the generated project's dependencies dominates test time, so the
first project runs its real `make setup` and later projects with the same
dependencies link to that `.venv` and re-point the editable install at
themselves (a fraction of a second).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mlplate.api import generate
from tests.shell import run

PROJECT_NAME = "demo-model"
PACKAGE = "demo_model"


class SharedEnvironments:
    """One `.venv` per distinct dependency set (the generated pyproject's dependencies)."""

    def __init__(self) -> None:
        self._venvs: dict[str, Path] = {}

    def setup(self, project: Path) -> None:
        """Give ``project`` a working `.venv`: a real `make setup` the first time."""
        key = dependency_key(project)
        venv = self._venvs.get(key)
        if venv is None:
            run("make", "setup", cwd=project)
            self._venvs[key] = project / ".venv"
            return
        os.symlink(venv, project / ".venv")
        run(
            "uv",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--python",
            str(project / ".venv" / "bin" / "python"),
            "-e",
            ".",
            cwd=project,
        )


def dependency_key(project: Path) -> str:
    import tomllib

    config = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    return json.dumps([config["dependencies"], config.get("optional-dependencies", {})])


def new_project(parent: Path, **answers: Any) -> Path:
    """Generate a project (git-initialised) named PROJECT_NAME in its own folder."""
    parent.mkdir(parents=True, exist_ok=True)
    return generate(parent / PROJECT_NAME, answers={"project_name": PROJECT_NAME, **answers}).path


def project_python(project: Path, code: str) -> Any:
    """Run Python code in the project's environment; return what it prints as JSON."""
    result = run(str(project / ".venv" / "bin" / "python"), "-c", code, cwd=project)
    return json.loads(result.stdout.strip().splitlines()[-1])


def commit_all(project: Path, message: str) -> None:
    run("git", "add", "--all", cwd=project)
    run("git", "commit", "--quiet", "-m", message, cwd=project)
