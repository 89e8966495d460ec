"""Parts of the runtime a project has taken over (`mlplate eject PART`).

An ejected part lives in the project (``src/<package>/<part>``) and is declared in its
pyproject.toml::

    [project.entry-points."mlplate.ejected"]
    serving = "churn_model.serving"

From then on every import of ``mlplate_runtime.<part>`` (and of its modules), by the runtime or
by the copy itself, gives the project's module: the runtime uses the team's copy everywhere
without any call site changing.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from types import ModuleType

ENTRY_POINT_GROUP = "mlplate.ejected"
PACKAGE = "mlplate_runtime"


class _Alias(importlib.abc.Loader):
    """Loads a module by importing the project's copy under the runtime's name."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """The project's module ran when it was imported."""


class EjectedParts(importlib.abc.MetaPathFinder):
    """Redirects ``mlplate_runtime.<part>[.<module>]`` to the project's copy."""

    def __init__(self, parts: dict[str, str]) -> None:
        self.parts = parts  # part -> the project's module, e.g. serving -> churn_model.serving

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        prefix = f"{PACKAGE}."
        if not fullname.startswith(prefix):
            return None
        name = fullname.removeprefix(prefix)
        for part, module in self.parts.items():
            if name == part or name.startswith(f"{part}."):
                return importlib.util.spec_from_loader(
                    fullname, _Alias(module + name.removeprefix(part))
                )
        return None


def ejected_parts() -> dict[str, str]:
    """The parts the installed project declares as its own (part -> its module)."""
    return {point.name: point.value for point in entry_points(group=ENTRY_POINT_GROUP)}


def install() -> None:
    """Put the redirect in front of the import system (once), if any part is ejected."""
    parts = ejected_parts()
    if parts and not any(isinstance(finder, EjectedParts) for finder in sys.meta_path):
        sys.meta_path.insert(0, EjectedParts(parts))
