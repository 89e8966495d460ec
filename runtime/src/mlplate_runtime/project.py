"""The project the runtime works for: its name, summary and the team's package.

A generated project declares itself with an entry point in its pyproject.toml::

    [project.entry-points."mlplate.project"]
    churn-model = "churn_model"

so the runtime finds it wherever the project is installed (a laptop, CI, an image), without
reading any file. With several projects in one environment, MLPLATE_PROJECT picks one.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

from mlplate_runtime.errors import ProjectError

ENTRY_POINT_GROUP = "mlplate.project"


@dataclass(frozen=True)
class Project:
    """Who the runtime works for."""

    name: str  # the distribution name, e.g. churn-model
    package: str | None  # the team's import package, e.g. churn_model
    summary: str = ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "project"


def _project_here(found: Mapping[str, EntryPoint]) -> str | None:
    """The installed project whose package is in the working folder (or PIPELINE_ROOT), as
    src/<package>/: several share one environment only in a monorepo or a test set-up."""
    folders = [Path.cwd(), Path(os.environ.get("PIPELINE_ROOT") or Path.cwd())]
    for name, point in found.items():
        if any((folder / "src" / point.value).is_dir() for folder in folders):
            return name
    return None


@cache
def current_project() -> Project:
    """The installed project (its entry point; with several, the one in the working folder),
    or, where none is installed, one named after the working folder."""
    found = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}
    wanted = os.environ.get("MLPLATE_PROJECT")
    if wanted and wanted not in found:
        raise ProjectError(
            f"MLPLATE_PROJECT={wanted!r} is not an installed mlplate project "
            f"(installed: {sorted(found) or 'none'}); run `make setup` in the project"
        )
    if not wanted and len(found) > 1:
        wanted = _project_here(found)
    if wanted or len(found) == 1:
        point = found[wanted] if wanted else next(iter(found.values()))
        summary = (point.dist.metadata["Summary"] or "") if point.dist is not None else ""
        return Project(name=point.name, package=point.value, summary=summary)
    if len(found) > 1:
        raise ProjectError(
            f"several mlplate projects are installed here ({sorted(found)}); "
            "set MLPLATE_PROJECT to the one to run"
        )
    return Project(name=_slug(Path.cwd().name), package=None)


RUNTIME_COMMAND = "mlplate-run"  # the runtime's own console script, when no project is installed


def command_name() -> str:
    """The command that runs the project's CLI (its package's script; pipeline steps call it)."""
    return current_project().package or RUNTIME_COMMAND


def team_module(name: str) -> ModuleType | None:
    """The project's own module ``name`` (features, model, ...), or None where it has none.

    These modules are the extension points: the runtime calls the functions they define
    (see mlplate_runtime.features.build and mlplate_runtime.models.estimators).
    """
    package = current_project().package
    if package is None:
        return None
    try:
        return importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as error:
        if error.name in (f"{package}.{name}", package):
            return None
        raise
