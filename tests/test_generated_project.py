"""Generated projects install and pass their own lint and tests (slow: real installs)."""

from __future__ import annotations

import pytest

from mlplate.api import generate
from tests.shell import run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("ci", ["github", "gitlab", "none"])
def test_generated_project_passes_its_own_lint_and_tests(tmp_path, ci):
    project = generate(tmp_path / f"model-{ci}", answers={"ci": ci}).path
    run("make", "setup", cwd=project)
    run("make", "lint", cwd=project)
    run("make", "test", cwd=project)
