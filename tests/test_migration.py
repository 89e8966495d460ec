"""A project generated before the thin layout (v0.2.27: every module in the project) updates
to this release with `mlplate update`: untouched, it becomes exactly what `mlplate new` writes
today; with edited plumbing files, each is named, an edited part a team may own is ejected with
the edit merged in, and `make ci` is green once the team has moved what the update names."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mlplate import __version__
from mlplate.api import generate
from mlplate.reference import render_release
from mlplate.source import template_url
from tests.conftest import tree
from tests.projects import PACKAGE, PROJECT_NAME, SharedEnvironments, commit_all, served
from tests.shell import run

pytestmark = pytest.mark.slow
LAST_FULL_LAYOUT = "v0.2.27"


def full_layout_project(parent: Path) -> Path:
    project = parent / PROJECT_NAME
    render_release(
        {"_src_path": template_url()}, {"project_name": PROJECT_NAME}, LAST_FULL_LAYOUT, project
    )
    run("git", "init", "--quiet", "--initial-branch=main", cwd=project)
    commit_all(project, f"generated at {LAST_FULL_LAYOUT}")
    assert (project / "src" / PACKAGE / "models" / "train.py").is_file()
    return project


def test_an_untouched_full_layout_project_becomes_what_new_writes_today(cli, tmp_path):
    project = full_layout_project(tmp_path / "old")
    result = cli("update", str(project))
    assert result.exit_code == 0, result.stderr
    assert f"{LAST_FULL_LAYOUT} -> v{__version__}" in result.stdout
    assert "no longer renders" not in result.stdout  # nothing of the team's to name
    (tmp_path / "new").mkdir()
    fresh = generate(tmp_path / "new" / PROJECT_NAME, answers={"project_name": PROJECT_NAME})
    assert tree(project) == tree(fresh.path)  # make ci of a fresh project: the build matrix
    commit_all(project, f"update to v{__version__}")
    assert cli("check", str(project)).exit_code == 0


ROUTE = """    @app.get("/team")
    def team() -> dict[str, str]:
        return {"owner": "churn team"}

    @app.get("/health")"""


def test_edited_plumbing_is_ejected_or_named_and_make_ci_is_green(cli, tmp_path):
    project = full_layout_project(tmp_path)
    package = project / "src" / PACKAGE
    app = package / "serving" / "app.py"
    app.write_text(app.read_text().replace('    @app.get("/health")', ROUTE, 1))
    train = package / "models" / "train.py"
    train.write_text(train.read_text().replace('"""', '"""Our note on training.\n', 1))
    test_monitoring = project / "tests" / "test_monitoring.py"
    test_monitoring.write_text(test_monitoring.read_text() + "\n# our case to add\n")
    commit_all(project, "the team's edits")

    result = cli("update", str(project))
    assert result.exit_code == 1  # two files need a person
    assert f"src/{PACKAGE}/serving/app.py: your change is merged into `serving`" in result.stdout
    waiting = result.stderr.split("needs a person in 2 file(s):")[1]
    assert f"src/{PACKAGE}/models/train.py: you changed it and mlplate-runtime holds it" in waiting
    assert f"move your change to src/{PACKAGE}/model.py (build_estimator)" in waiting
    assert "tests/test_monitoring.py: you changed this test of the runtime's plumbing" in waiting
    assert "Our note on training." in train.read_text()  # kept as the team left it
    assert "# our case to add" in test_monitoring.read_text()
    # The serving part is the project's now, with the team's route and the runtime's newer code.
    assert 'serving = "demo_model.serving"' in (project / "pyproject.toml").read_text()
    ejected = app.read_text()
    assert ejected.startswith("# Ejected from mlplate-runtime")
    assert '@app.get("/team")' in ejected and "<<<<<<<" not in ejected
    assert "from mlplate_runtime.project import current_project" in ejected  # the runtime's
    assert (package / "serving" / "by_id.py").is_file()  # new in the runtime since v0.2.27

    # The team does what the update said, and CI is green.
    train.unlink()
    test_monitoring.unlink()
    commit_all(project, f"update to v{__version__}")
    SharedEnvironments().setup(project)
    run("make", "ci", cwd=project)
    with served(project) as base:
        assert httpx.get(f"{base}/team").json() == {"owner": "churn team"}
    report = cli("check", str(project))
    assert report.exit_code == 0 and "serving" in report.stdout
