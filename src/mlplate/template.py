"""Where the template lives and how to reach its pieces."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

TEMPLATE_ROOT = Path(__file__).parent / "template"


def template_root() -> Path:
    """Return the folder holding copier.yml, cookiecutter.json, hooks/ and the body."""
    return TEMPLATE_ROOT


@cache
def load_hook(name: str) -> ModuleType:
    """Import a cookiecutter hook (``pre_gen_project``...) as a module, without running it."""
    path = TEMPLATE_ROOT / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"mlplate_hook_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
