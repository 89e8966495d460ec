"""Where the template lives and how to reach its pieces.

The repository root is the template (copier.yml, cookiecutter.json, hooks/ and the
project body), so `copier copy <repo>` and `cookiecutter <repo>` work on it directly.
A wheel carries the same files under ``mlplate/template/`` (see pyproject.toml).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

PACKAGED_TEMPLATE = Path(__file__).parent / "template"
SOURCE_ROOT = Path(__file__).parents[2]
# The files and folders that make up the template, relative to its root.
TEMPLATE_PATHS = ("copier.yml", "cookiecutter.json", "hooks", "{{cookiecutter.__project_slug}}")


def template_root() -> Path:
    """Return the folder holding copier.yml, cookiecutter.json, hooks/ and the body."""
    if (PACKAGED_TEMPLATE / "copier.yml").is_file():
        return PACKAGED_TEMPLATE
    return SOURCE_ROOT


@cache
def load_hook(name: str) -> ModuleType:
    """Import a cookiecutter hook (``pre_gen_project``...) as a module, without running it."""
    path = template_root() / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"mlplate_hook_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
