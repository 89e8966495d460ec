"""Hatch build hook: put the template's release history (a git bundle) and the runtime
wheel (which generated projects install) into the build.

From a git checkout the bundle is built from the repository's releases; the sdist
carries it at its root, so a wheel built from the sdist (no .git) still has it. The sdist
carries runtime/, from which the wheel's runtime wheel is built.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLE = "template-history.bundle"


class TemplateHistoryHook(BuildHookInterface):
    """Bundle every template release into the sdist (at its root) and the wheel."""

    PLUGIN_NAME = "template-history"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return  # an editable install builds the bundle and the runtime wheel when needed
        root = Path(self.root)
        if self.target_name == "wheel" and (root / "runtime" / "pyproject.toml").is_file():
            sys.path.insert(0, str(root / "src"))
            try:
                from mlplate.runtime_wheel import build_runtime_wheel
            finally:
                sys.path.pop(0)
            wheel = build_runtime_wheel(root / "runtime", Path(tempfile.mkdtemp()))
            build_data["force_include"][str(wheel)] = f"mlplate/runtime/{wheel.name}"
        bundle = root / BUNDLE  # present when building from an sdist
        if (root / ".git").exists():
            sys.path.insert(0, str(root / "src"))
            try:
                from mlplate.history import build_bundle
            finally:
                sys.path.pop(0)
            bundle = build_bundle(root, Path(tempfile.mkdtemp()) / BUNDLE)
        if not bundle.is_file():
            return
        target = BUNDLE if self.target_name == "sdist" else f"mlplate/{BUNDLE}"
        build_data["force_include"][str(bundle)] = target
