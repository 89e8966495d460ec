"""`make setup` on a machine without uv on PATH still installs with uv (bootstrapped in .venv)."""

from __future__ import annotations

import shutil

import pytest

from tests.projects import PACKAGE, new_project
from tests.shell import run

pytestmark = pytest.mark.slow
NO_UV_PATH = "/usr/local/bin:/usr/bin:/bin"


def test_setup_bootstraps_uv_in_the_project_when_it_is_not_on_path(tmp_path):
    project = new_project(tmp_path)
    assert shutil.which("uv", path=NO_UV_PATH) is None, "this machine has uv on the plain PATH"
    result = run("make", "setup", cwd=project, PATH=NO_UV_PATH)
    uv = project / ".venv" / "bin" / "uv"
    assert uv.is_file(), result.stdout
    run(str(project / ".venv" / "bin" / PACKAGE), "--help", cwd=project, PATH=NO_UV_PATH)
    installed = uv.stat().st_mtime_ns
    run("make", "setup", cwd=project, PATH=NO_UV_PATH)  # found in .venv now: not installed again
    assert uv.stat().st_mtime_ns == installed
