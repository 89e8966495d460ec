"""The runtime's tests use the fixtures it ships to projects, on a project from tests/projects."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import PROJECT_ROOT

pytest_plugins = ["mlplate_runtime.testing"]


@pytest.fixture(scope="module")
def mlplate_project_root() -> Path:
    return PROJECT_ROOT
