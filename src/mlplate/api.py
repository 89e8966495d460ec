"""The library layer: plain functions that return results and never print."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplate import __version__
from mlplate.answers import derived_names, resolve_answers
from mlplate.render import Engine, git_init, render_project


@dataclass(frozen=True)
class Generated:
    """What ``generate`` made."""

    path: Path
    answers: dict[str, Any]
    package_name: str


def generate(
    dest: Path,
    *,
    answers: Mapping[str, Any] | None = None,
    engine: Engine = "copier",
    git: bool = True,
) -> Generated:
    """Generate a project at ``dest`` from validated answers (defaults for the rest).

    The project name defaults to the destination's folder name. Raises
    MlplateError on invalid answers or an unusable destination, leaving nothing on disk.
    """
    dest = Path(dest)
    resolved = resolve_answers({"project_name": dest.absolute().name}, answers or {})

    def finish(project: Path) -> None:
        if git:
            git_init(
                project,
                author_name=resolved["author_name"],
                author_email=resolved["author_email"],
                message=f"Generate {resolved['project_name']} with mlplate {__version__}",
            )

    render_project(dest, resolved, engine=engine, finish=finish)
    return Generated(path=dest, answers=resolved, package_name=derived_names(resolved)[1])
