"""`make lock` pins every dependency; `make setup` then installs exactly those, or refuses."""

from __future__ import annotations

import re

import pytest
import tomllib

from mlplate import __version__
from tests.projects import new_project, project_python
from tests.shell import run

pytestmark = pytest.mark.slow


def locked_version(lock: str, package: str) -> str:
    entry = re.search(rf'\[\[package\]\]\nname = "{package}"\nversion = "([^"]+)"', lock)
    assert entry, f"{package} is not in uv.lock"
    return entry.group(1)


def test_setup_installs_the_locked_versions_and_refuses_a_stale_lock(tmp_path):
    project = new_project(tmp_path, serving="none", docs=False, pre_commit=False)
    run("make", "lock", cwd=project)
    lock = (project / "uv.lock").read_text()
    run("make", "setup", cwd=project)
    installed = project_python(
        project,
        "import json, importlib.metadata as m; "
        "print(json.dumps({p: m.version(p) for p in ('scikit-learn', 'mlflow', 'pandas')}))",
    )
    assert installed == {name: locked_version(lock, name) for name in installed}
    config = tomllib.loads((project / "pyproject.toml").read_text())
    runtime, *others = config["project"]["dependencies"]
    assert runtime == f"mlplate-runtime=={__version__}"  # the runtime at the template's version
    assert all(">=" in spec for spec in others)  # the team's ranges stay ranges
    assert locked_version(lock, "mlplate-runtime") == __version__  # from .mlplate/wheels
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"pandas>=2.2",', '"pandas>=2.2",\n    "tabulate>=0.9",')
    )
    stale = run("make", "setup", cwd=project, check=False)
    assert stale.returncode != 0
    assert "uv.lock does not match pyproject.toml; run 'make lock'" in stale.stderr
