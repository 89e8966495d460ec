"""Catch-up from any release, and a team's project through its life.

`mlplate update` from a release where the layout or a team-facing contract changed (v0.2.0
first; v0.2.9, where the GitLab module became optional; v0.2.20; v0.2.27, the last full
layout; v0.2.32, the first thin one) ends where a new project starts, with no hand edit, in
one jump or release by release.

A project generated at v0.2.20 with a team's edits catches up: it keeps every edit, names what
the team must move, and passes `make ci`. The team then takes over every runtime part
(`mlplate eject`) and changes only its own files, as the README says: LightGBM in place of the
default estimator (model.py and the dependency list), a derived ratio (features.py: the API
still takes raw columns), a route
(routes.py), a monitoring check (checks.py), a stage with its own params section; `make ci`
stays green."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from mlplate import __version__
from mlplate.api import generate
from mlplate.eject import PARTS
from mlplate.reference import render_release
from mlplate.source import template_url
from mlplate.versions import available_versions
from tests.conftest import tree
from tests.projects import (
    PACKAGE,
    PROJECT_NAME,
    SharedEnvironments,
    commit_all,
    project_python,
    served,
)
from tests.shell import run
from tests.test_project_pipeline import serve_and_predict

pytestmark = pytest.mark.slow
STARTS = ["v0.2.0", "v0.2.9", "v0.2.20", "v0.2.27", "v0.2.32"]


def generated_at(release: str, parent: Path) -> Path:
    """A project as `mlplate new --vcs-ref` writes it at ``release``, committed."""
    project = parent / PROJECT_NAME
    render_release({"_src_path": template_url()}, {"project_name": PROJECT_NAME}, release, project)
    run("git", "init", "--quiet", "--initial-branch=main", cwd=project)
    commit_all(project, f"generated at {release}")
    return project


def fresh_project(parent: Path) -> Path:
    parent.mkdir()
    return generate(parent / PROJECT_NAME, answers={"project_name": PROJECT_NAME}).path


@pytest.mark.parametrize("start", STARTS)
def test_everyday_edits_survive_a_catch_up_with_no_conflict(cli, tmp_path, start):
    """A params value, README notes, a target of the team's own and a CI workflow of its own
    are kept through the jump, with no conflict, and every other file is exactly what
    `mlplate new` writes today: files later releases stopped rendering are gone (from v0.2.9 a
    GitHub project has no gitlab.py; from v0.2.32 the plumbing is the runtime's), so nothing
    is left to fail lint. `mlplate check` is clean."""
    project = generated_at(start, tmp_path / "old")
    edit(project / "params.yaml", "test_size: 0.2", "test_size: 0.25")
    edit(project / "README.md", "## Quickstart", "## Our team\n\nThe churn team.\n\n## Quickstart")
    makefile = project / "Makefile"
    makefile.write_text(makefile.read_text() + "\nours:  ## Ours\n\t@echo ours\n")
    workflows = project / ".github" / "workflows"
    (workflows / "team.yml").write_text(TEAM_WORKFLOW)
    commit_all(project, "the team's edits")
    result = cli("update", str(project))
    assert result.exit_code == 0, result.stderr
    assert "test_size: 0.25" in (project / "params.yaml").read_text()
    assert "The churn team." in (project / "README.md").read_text()
    assert "ours:  ## Ours" in makefile.read_text() and "include mlplate.mk" in makefile.read_text()
    assert (workflows / "team.yml").read_text() == TEAM_WORKFLOW
    assert "<<<<<<<" not in run("git", "diff", "HEAD", cwd=project).stdout
    made, fresh = tree(project), tree(fresh_project(tmp_path / "new"))
    edited = {"params.yaml", "README.md", "Makefile", ".github/workflows/team.yml"}
    assert {
        path for path in made.keys() | fresh.keys() if made.get(path) != fresh.get(path)
    } == edited
    commit_all(project, f"update to v{__version__}")
    assert cli("check", str(project)).exit_code == 0


# A team that takes every release: the last few, one by one (the walk grows with every release,
# and one jump from each older start is tested above).
RELEASES_WALKED = 5


def test_release_by_release_ends_where_one_jump_does(cli, tmp_path):
    releases = available_versions({"_src_path": template_url()})
    walked = releases[-RELEASES_WALKED - 1 :]
    first = tuple(int(part) for part in walked[0].removeprefix("v").split("."))
    assert len(walked) == RELEASES_WALKED + 1 and first >= (0, 2, 32)  # thin releases only
    project = generated_at(walked[0], tmp_path / "old")
    for release in walked[1:]:
        result = cli("update", str(project), "--to", release)
        assert result.exit_code == 0, f"{release}: {result.stderr}"
        commit_all(project, f"update to {release}")
    assert tree(project) == tree(fresh_project(tmp_path / "new"))


LIGHTGBM_MODEL = '''"""The estimator: LightGBM."""

from __future__ import annotations

from typing import Any

import lightgbm


def build_estimator(params: dict[str, Any], *, task: str, seed: int) -> Any:
    """A LightGBM model for ``task``."""
    if task == "regression":
        return lightgbm.LGBMRegressor(random_state=seed, verbose=-1)
    return lightgbm.LGBMClassifier(random_state=seed, verbose=-1)
'''
RATIO = """

DERIVED_FEATURES = {"charges_per_month": "numeric"}


def add_features(frame: pd.DataFrame) -> pd.DataFrame:
    \"\"\"Charges per month of tenure.\"\"\"
    return frame.assign(
        charges_per_month=frame["total_charges"] / frame["tenure_months"].clip(lower=1)
    )
"""
ROUTES = '''"""Routes of our own."""

from fastapi import APIRouter

router = APIRouter()


@router.get("/owner")
def owner() -> dict[str, str]:
    """Who owns this model."""
    return {"owner": "churn team"}
'''
MONITORING = '''"""Our monitoring check: customers on high charges."""

import pandas as pd


def high_charges(reference: pd.DataFrame, current: pd.DataFrame) -> dict:
    """The share of customers paying more than nine in ten did in training."""
    limit = reference["monthly_charges"].quantile(0.9)
    share = float((current["monthly_charges"] > limit).mean())
    return {"value": share, "alarm": share > 0.2}


CHECKS = [high_charges]
'''
STAGE_MODULE = '''"""Our own stage: a summary of the prepared training split."""

import json
from pathlib import Path

import pandas as pd
import yaml


def main() -> None:
    """Write reports/summary.json with the first rows params.yaml's summary.rows asks for."""
    rows = yaml.safe_load(Path("params.yaml").read_text())["summary"]["rows"]
    frame = pd.read_csv("data/prepared/train.csv").head(rows)
    Path("reports/summary.json").write_text(json.dumps({"rows": len(frame)}))


if __name__ == "__main__":
    main()
'''
TEAM_TESTS = f'''"""Tests of our route, our check and our stage."""

import json

import pandas as pd
from fastapi import FastAPI
from fastapi.testclient import TestClient

from {PACKAGE} import checks, routes, summary


def test_the_team_route_names_the_owner():
    app = FastAPI()
    app.include_router(routes.router)
    assert TestClient(app).get("/owner").json() == {{"owner": "churn team"}}


def test_high_charges_alarms_when_many_pay_more_than_nine_in_ten_did():
    reference = pd.DataFrame({{"monthly_charges": range(100)}})
    assert not checks.high_charges(reference, reference)["alarm"]
    assert checks.high_charges(reference, reference + 50)["alarm"]


def test_the_summary_counts_the_rows_asked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("summary:\\n  rows: 2\\n")
    (tmp_path / "data" / "prepared").mkdir(parents=True)
    (tmp_path / "reports").mkdir()
    pd.DataFrame({{"a": [1, 2, 3]}}).to_csv("data/prepared/train.csv", index=False)
    summary.main()
    assert json.loads((tmp_path / "reports" / "summary.json").read_text()) == {{"rows": 2}}
'''
STAGE = f"""
  summary:
    cmd: python -m {PACKAGE}.summary
    deps:
      - data/prepared
      - src/{PACKAGE}/summary.py
    params:
      - summary.rows
    outs:
      - reports/summary.json:
          cache: false
"""


ROUTE = """    @app.get("/team")
    def team() -> dict[str, str]:
        return {"owner": "churn team"}

    @app.get("/health")"""
TEAM_WORKFLOW = """name: team
on: [push]
jobs:
  notify:
    runs-on: ubuntu-latest
    steps:
      - run: echo "our own step"
"""


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


# A class: xdist's loadscope schedules it apart from the module's other tests.
class TestATeamsProject:
    def test_catches_up_takes_over_the_runtime_and_grows_with_ci_green(self, cli, tmp_path):
        project = generated_at("v0.2.20", tmp_path)
        package = project / "src" / PACKAGE
        # What teams change: a params value, a target of their own, README notes, a CI workflow
        # of their own, a route in the serving app, a training note, a case in a plumbing test.
        edit(project / "params.yaml", "test_size: 0.2 ", "test_size: 0.25 ")
        makefile = project / "Makefile"
        makefile.write_text(
            makefile.read_text() + "\n.PHONY: deploy-internal\ndeploy-internal:  ## Ours\n"
            "\t@echo deploying $(PKG)\n"
        )
        edit(
            project / "README.md",
            "## Quickstart",
            "## Our team\n\nThe churn team.\n\n## Quickstart",
        )
        (project / ".github" / "workflows" / "team.yml").write_text(TEAM_WORKFLOW)
        edit(package / "serving" / "app.py", '    @app.get("/health")', ROUTE)
        train = package / "models" / "train.py"
        edit(train, '"""', '"""Our note on training.\n')
        test_monitoring = project / "tests" / "test_monitoring.py"
        test_monitoring.write_text(test_monitoring.read_text() + "\n# our case to add\n")
        commit_all(project, "the team's edits")

        result = cli("update", str(project))
        assert result.exit_code == 1  # two files need a person: each is named with what to do
        waiting = result.stderr.split("needs a person in 2 file(s):")[1]
        assert (
            f"src/{PACKAGE}/models/train.py: you changed it and mlplate-runtime holds it" in waiting
        )
        assert f"move your change to src/{PACKAGE}/model.py (build_estimator)" in waiting
        assert (
            "tests/test_monitoring.py: you changed this test of the runtime's plumbing" in waiting
        )
        assert (
            f"src/{PACKAGE}/serving/app.py: your change is merged into `serving`" in result.stdout
        )
        assert "<<<<<<<" not in run("git", "diff", "HEAD", cwd=project).stdout  # no conflict
        assert "test_size: 0.25 " in (project / "params.yaml").read_text()
        assert "The churn team." in (project / "README.md").read_text()
        assert (project / ".github" / "workflows" / "team.yml").read_text() == TEAM_WORKFLOW
        assert "Our note on training." in train.read_text()  # kept as the team left it
        # The Makefile is the team's now: the new one, with the team's target carried over.
        assert "include mlplate.mk" in makefile.read_text()
        assert "deploy-internal:  ## Ours" in makefile.read_text()
        # The serving part is the project's now, with the team's route in the runtime's newer code.
        assert 'serving = "demo_model.serving"' in (project / "pyproject.toml").read_text()
        app = (package / "serving" / "app.py").read_text()
        assert app.startswith("# Ejected from mlplate-runtime") and '@app.get("/team")' in app
        assert "from mlplate_runtime.project import current_project" in app  # the runtime's code
        assert (package / "serving" / "by_id.py").is_file()  # new in the runtime since v0.2.20

        # The team does what the update said, and CI is green.
        train.unlink()
        test_monitoring.unlink()
        commit_all(project, f"update to v{__version__}")
        SharedEnvironments().setup(project)
        assert f"deploying {PACKAGE}" in run("make", "deploy-internal", cwd=project).stdout
        report = cli("check", str(project))
        assert report.exit_code == 0, report.stdout
        assert "ejected (the project's own): serving" in report.stdout

        # Every other part of the runtime becomes the project's too, and the runtime uses them.
        for part in sorted(set(PARTS) - {"serving"}):
            assert cli("eject", part, str(project)).exit_code == 0, part
        # The team's own code, in its own files only.
        (package / "model.py").write_text(LIGHTGBM_MODEL)
        edit(
            project / "pyproject.toml",
            '    "pandas>=2.2",\n',
            '    "pandas>=2.2",\n    "lightgbm>=4",\n',
        )
        features = package / "features.py"
        features.write_text(features.read_text().split("\n\n# name ->")[0] + RATIO)
        (package / "routes.py").write_text(ROUTES)
        (package / "checks.py").write_text(MONITORING)
        (package / "summary.py").write_text(STAGE_MODULE)
        (project / "tests" / "test_team.py").write_text(TEAM_TESTS)
        edit(project / "dvc.yaml", "\nstages:\n", "\nstages:" + STAGE)
        params = project / "params.yaml"
        params.write_text(params.read_text() + "\nsummary:\n  rows: 7\n")
        run("make", "setup", cwd=project)  # lightgbm, and the ejected parts declared
        # The runtime imports the project's copies of its parts.
        modules = {part: f"mlplate_runtime.{part}" for part in PARTS}
        where = project_python(
            project,
            "import importlib, json; print(json.dumps({p: importlib.import_module(m).__file__ "
            f"for p, m in {json.dumps(modules)}.items()}}))",
        )
        for part, path in where.items():
            assert path.startswith(str(package / part)), (part, path)

        run("make", "format", cwd=project)  # as a team would before committing
        commit_all(project, "our parts, estimator, feature, route, check and stage")
        run("make", "ci", cwd=project)

        assert json.loads((project / "reports" / "summary.json").read_text()) == {"rows": 7}
        promotion = json.loads((project / "reports" / "promotion.json").read_text())
        assert promotion["promote"]  # (a new version of the same model: the runtime's tests)
        assert not run("git", "status", "--porcelain", "--", "mlplate.mk", cwd=project).stdout
        metadata = serve_and_predict(project)  # the API takes the raw columns
        assert metadata["champion"]["version"] == "1"
        with served(project) as base:
            assert httpx.get(f"{base}/team").json() == {"owner": "churn team"}  # ejected app
            assert httpx.get(f"{base}/owner").json() == {"owner": "churn team"}  # routes.py
        # The app logs JSON lines, its own and uvicorn's (each request with its path and status).
        logs = [path.read_text() for path in (project / "logs").glob("serve-*.log")]
        lines = [line for text in logs for line in text.splitlines()]
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        requests = [{"path": e.get("path"), "status": e.get("status")} for e in entries]
        assert {"path": "/owner", "status": 200} in requests
        assert any(e["message"].startswith("serving the champion") for e in entries)
        # The team's check runs beside the drift tests; drifted data raises its alarm.
        assert "check high_charges:" in run("make", "monitor", cwd=project).stdout
        run("make", "simulate-drift", cwd=project)
        alarm = run("make", "monitor", cwd=project, check=False)
        assert alarm.returncode != 0 and "high_charges" in alarm.stderr.split("drift alarm:")[1]
        checked = cli("check", str(project))
        assert checked.exit_code == 0, checked.stdout
