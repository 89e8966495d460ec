"""Hatch build hook: put the template's release history (a git bundle) into the wheel."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class TemplateHistoryHook(BuildHookInterface):
    """Bundle every tagged template release plus this version's template."""

    PLUGIN_NAME = "template-history"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        if not (root / ".git").exists():
            return  # building from an sdist: no history to bundle
        sys.path.insert(0, str(root / "src"))
        try:
            from mlplate.history import build_bundle
        finally:
            sys.path.pop(0)
        init = (root / "src/mlplate/__init__.py").read_text()
        current = re.search(r'__version__ = "([^"]+)"', init).group(1)  # type: ignore[union-attr]
        out = Path(tempfile.mkdtemp()) / "template-history.bundle"
        build_bundle(root, out, current_version=current)
        build_data["force_include"][str(out)] = "mlplate/template-history.bundle"
