"""A team changes only its own files, as the project README says, and `make ci` stays green:
LightGBM in place of the default estimator (model.py and the dependency list), a derived ratio
(features.py only: the API still takes raw columns; the new model is a new version of the same
registered model), an API route of its own (routes.py), a monitoring check (checks.py), a
pipeline stage with its own params section (dvc.yaml, params.yaml and its module). No runtime
file is touched."""

from __future__ import annotations

import json

import pytest

from tests.projects import PACKAGE, SharedEnvironments, commit_all, new_project, served
from tests.shell import run
from tests.test_project_pipeline import serve_and_predict

pytestmark = pytest.mark.slow

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


@router.get("/team")
def team() -> dict[str, str]:
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
TEAM_TESTS = f'''"""Tests of our route and our stage."""

import json

import pandas as pd
from fastapi import FastAPI
from fastapi.testclient import TestClient

from {PACKAGE} import routes, summary


def test_the_team_route_names_the_owner():
    app = FastAPI()
    app.include_router(routes.router)
    assert TestClient(app).get("/team").json() == {{"owner": "churn team"}}


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


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def test_a_team_changes_only_its_own_files_and_make_ci_stays_green(tmp_path):
    project = new_project(tmp_path)
    environments = SharedEnvironments()
    environments.setup(project)
    run("make", "all", cwd=project)
    commit_all(project, "first model")
    package = project / "src" / PACKAGE

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
    (project / "params.yaml").write_text(
        (project / "params.yaml").read_text() + "\nsummary:\n  rows: 7\n"
    )
    run("make", "setup", cwd=project)
    run("make", "format", cwd=project)  # as a team would before committing
    commit_all(project, "our estimator, feature, route and stage")
    run("make", "ci", cwd=project)

    assert json.loads((project / "reports" / "summary.json").read_text()) == {"rows": 7}
    report = json.loads((project / "reports" / "promotion.json").read_text())
    assert report["candidate_version"] == 2  # the same registered model, a new version
    metadata = serve_and_predict(project)  # the API takes the raw columns
    assert metadata["champion"]["version"] in ("1", "2")
    import httpx

    with served(project) as base:
        assert httpx.get(f"{base}/team").json() == {"owner": "churn team"}
    # The app logs JSON lines, its own and uvicorn's (each request with its path and status).
    log = next((project / "logs").glob("serve-*.log")).read_text().splitlines()
    entries = [json.loads(line) for line in log if line.startswith("{")]
    assert {"path": "/team", "status": 200} in [
        {"path": e.get("path"), "status": e.get("status")} for e in entries
    ]
    assert any(e["message"].startswith("serving the champion") for e in entries)
    # The team's check runs beside the drift tests; drifted data raises its alarm.
    assert "check high_charges:" in run("make", "monitor", cwd=project).stdout
    run("make", "simulate-drift", cwd=project)
    alarm = run("make", "monitor", cwd=project, check=False)
    assert alarm.returncode != 0 and "high_charges" in alarm.stderr.split("drift alarm:")[1]
    assert not run("git", "status", "--porcelain", "--", "mlplate.mk", cwd=project).stdout
