"""The runtime's code passes its linters and type checker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
TOOLS = Path(sys.executable).parent


def check(*args: str) -> None:
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint_and_format_pass():
    check(str(TOOLS / "ruff"), "check", "src", "tests")
    check(str(TOOLS / "ruff"), "format", "--check", "src", "tests")


def test_mypy_passes():
    check(str(TOOLS / "mypy"))


def test_the_code_passes_ruff_for_every_python_a_project_may_target():
    """Ejected parts are linted by the project's ruff, whose target is the project's Python
    (3.10 to 3.13): rules such as UP041 differ by version."""
    for version in ("py311", "py312", "py313"):
        check(str(TOOLS / "ruff"), "check", "--target-version", version, "src")
