"""An ejected part is imported from the project wherever the runtime imports it."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

import pytest

import mlplate_runtime
from mlplate_runtime.ejected import EjectedParts

RUNTIME = Path(mlplate_runtime.__file__).parent


@pytest.fixture
def ejected_alerts(tmp_path, monkeypatch):
    """A project package holding its own copy of the runtime's alerts module, edited."""
    package = tmp_path / "team_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copy(RUNTIME / "alerts.py", package / "alerts.py")
    with (package / "alerts.py").open("a") as copy:
        copy.write("\nOWNED_BY_THE_TEAM = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = {name: module for name, module in sys.modules.items() if "alerts" in name}
    for name in saved:
        del sys.modules[name]
    finder = EjectedParts({"alerts": "team_pkg.alerts"})
    sys.meta_path.insert(0, finder)
    yield
    sys.meta_path.remove(finder)
    for name in [name for name in sys.modules if "alerts" in name]:
        del sys.modules[name]
    sys.modules.update(saved)


def test_the_runtime_imports_the_projects_copy_of_an_ejected_part(ejected_alerts):
    alerts = importlib.import_module("mlplate_runtime.alerts")
    assert alerts.OWNED_BY_THE_TEAM is True
    assert alerts is sys.modules["team_pkg.alerts"]
    from mlplate_runtime.alerts import send_alert  # the runtime's own call sites, unchanged

    assert send_alert is alerts.send_alert


def test_parts_not_ejected_stay_the_runtimes(ejected_alerts):
    lineage = importlib.import_module("mlplate_runtime.lineage")
    assert Path(lineage.__file__).parent == RUNTIME
