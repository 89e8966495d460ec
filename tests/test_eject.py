"""`mlplate eject PART`: the project takes over one part of the runtime, which then imports the
project's copy (test_catch_up ejects every part offered and runs the project's `make ci`)."""

from __future__ import annotations

import pytest

from mlplate import __version__
from mlplate.eject import ejected_parts
from tests.projects import PACKAGE, commit_all, new_project
from tests.test_update_check_policy import one_error


def test_eject_copies_the_part_declares_it_and_refuses_to_do_it_twice(cli, tmp_path):
    project = new_project(tmp_path)
    result = cli("eject", "alerts", str(project))
    assert result.exit_code == 0, result.stderr
    copy = project / "src" / PACKAGE / "alerts.py"
    assert copy.read_text().startswith(f"# Ejected from mlplate-runtime {__version__}")
    assert "def send_alert(" in copy.read_text()
    assert ejected_parts(project) == ["alerts"]
    pyproject = (project / "pyproject.toml").read_text()
    assert f'alerts = "{PACKAGE}.alerts"' in pyproject
    assert f'"src/{PACKAGE}/alerts.py",  # ejected from mlplate-runtime' in pyproject
    one_error(cli("eject", "alerts", str(project)), 1, "alerts is already the project's")
    commit_all(project, "ejected alerts")
    checked = cli("check", str(project))
    assert checked.exit_code == 0, checked.stdout  # the team's code, not drift
    assert "ejected (the project's own): alerts" in checked.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eject", "cli"], "no runtime part 'cli'; parts: alerts, model_card, monitoring"),
        (["eject", "../../etc"], "no runtime part '../../etc'"),
    ],
)
def test_an_unknown_part_is_one_line_and_writes_nothing(cli, tmp_path, args, message):
    project = new_project(tmp_path)
    before = (project / "pyproject.toml").read_text()
    one_error(cli(*args, str(project)), 1, message)
    assert (project / "pyproject.toml").read_text() == before


def test_a_file_in_the_way_is_never_overwritten(cli, tmp_path):
    project = new_project(tmp_path)
    mine = project / "src" / PACKAGE / "report.py"
    mine.write_text("# the team's own report\n")
    one_error(cli("eject", "report", str(project)), 1, "report.py exists; move it away")
    assert mine.read_text() == "# the team's own report\n"
    assert ejected_parts(project) == []
