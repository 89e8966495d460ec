"""The project's own code, called by the runtime: derived features (features.py) and the
estimator (model.py). Serving, batch scoring, monitoring and the registry follow them."""

from __future__ import annotations

import json
import textwrap
import uuid

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from mlplate_runtime import project
from mlplate_runtime.config import ServingSettings
from mlplate_runtime.data.synthetic import json_records
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.models import batch
from mlplate_runtime.models.loaded import LoadedModel, load_model
from mlplate_runtime.models.registry import register
from mlplate_runtime.models.store import load_model as load_model_file
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.monitoring.job import run_monitoring, simulate_drift
from mlplate_runtime.serving.app import create_app
from test_pipeline import run_pipeline


@pytest.fixture
def team(tmp_path, monkeypatch):
    """Write the project's own modules: ``team(features=..., model=...)`` (source text)."""
    name = f"team_{uuid.uuid4().hex[:8]}"
    package = tmp_path / "code" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.setattr(
        project, "current_project", lambda: project.Project(name="team-model", package=name)
    )

    def write(**modules: str) -> None:
        for module, source in modules.items():
            (package / f"{module}.py").write_text(textwrap.dedent(source))

    return write


def ratio_feature(contract) -> str:
    """features.py deriving the ratio of the contract's first two numeric features."""
    a, b = [n for n in contract.features if contract.columns[n].type in ("numeric", "integer")][:2]
    return f"""
        import pandas as pd

        DERIVED_FEATURES = {{"ratio": "numeric"}}

        def add_features(frame: pd.DataFrame) -> pd.DataFrame:
            return frame.assign(ratio=frame[{a!r}] / frame[{b!r}].abs().clip(lower=1))
        """


def test_a_derived_feature_flows_through_serving_batch_monitoring_and_the_registry(
    settings, sample, team, tmp_path
):
    first, _ = run_pipeline(settings, sample)
    assert register(settings, allow_uncommitted=True)["candidate_version"] == 1
    team(features=ratio_feature(settings.contract))
    second, _ = run_pipeline(settings, sample)
    fitted = load_model_file(settings.path(settings.params.train.model_path), settings)
    assert fitted.named_steps["inputs"].derived == {"ratio": "numeric"}
    assert "ratio" in fitted.named_steps["preprocess"].transformers_[0][2]
    # A change of derived features is a new version of the same registered model.
    report = register(settings, allow_uncommitted=True)
    assert (
        report["candidate_version"] == 2
        and report["model"] == settings.params.mlflow.registered_model
    )

    # The API still takes the raw columns.
    candidate = load_model(settings, role="challenger", uri=second["model_uri"])
    records = json_records(sample.head(5), settings.contract)
    serving = ServingSettings(prediction_log=None)
    app = create_app(settings, serving, loader=lambda *_: (candidate, None))
    with TestClient(app) as client:
        answered = client.post("/predict", json={"records": records})
    assert answered.status_code == 200, answered.text
    assert len(answered.json()["predictions"]) == 5

    # Batch scoring and monitoring read raw files.
    raw = tmp_path / "batch.csv"
    sample.drop(columns=[settings.contract.target]).to_csv(raw, index=False)
    out = tmp_path / "scored.csv"
    result = batch.predict_batch(settings, raw, out, model_uri=second["model_uri"])
    assert result.scored == len(sample) and len(pd.read_csv(out)) == len(sample)
    simulate_drift(settings)
    summary = run_monitoring(settings)
    assert summary["n_features"] == len(settings.contract.features)  # raw columns, not derived
    assert first["run_id"] != second["run_id"]


def test_a_custom_estimator_trains_logs_loads_and_registers(settings, sample, team):
    team(
        model="""
        from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

        def build_estimator(params, *, task, seed):
            trees = ExtraTreesRegressor if task == "regression" else ExtraTreesClassifier
            return trees(n_estimators=params["extra_trees"]["n_estimators"], random_state=seed)
        """
    )
    model = settings.params.model.model_validate(
        {"type": "extra_trees", "extra_trees": {"n_estimators": 25}}
    )
    settings = settings.model_copy(
        update={"params": settings.params.model_copy(update={"model": model})}
    )
    run_info, metrics = run_pipeline(settings, sample)
    stored = load_model_file(settings.path(settings.params.train.model_path), settings)
    assert type(stored.named_steps["estimator"]).__name__.startswith("ExtraTrees")
    assert register(settings, allow_uncommitted=True)["promote"]
    served = load_model(settings, role="champion", uri=None)
    assert len(served.score(json_records(sample.head(3), settings.contract))) == 3
    logged = MlflowClient(settings.tracking_uri).get_run(run_info["run_id"]).data.params
    assert logged["n_estimators"] == "25" and logged["model_type"] == "extra_trees"
    assert metrics[settings.params.evaluate.primary_metric] == pytest.approx(
        json.loads(settings.path(settings.params.evaluate.metrics_path).read_text())[
            settings.params.evaluate.primary_metric
        ]
    )


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        (
            {
                "features": 'DERIVED_FEATURES = {"twice": "numeric"}\ndef add_features(f):\n    return f\n'
            },
            r"add_features did not add the declared columns \['twice'\]",
        ),
        ({"features": 'DERIVED_FEATURES = {"x": "text"}\n'}, 'to "numeric" or "categorical"'),
        (
            {"model": "def build_estimator(params, *, task, seed):\n    return 42\n"},
            "returned int, which is not a scikit-learn estimator",
        ),
        (
            {"model": "def build_estimator(params, *, task, seed):\n    return params['nope']\n"},
            r"build_estimator failed with params.yaml's model section: KeyError",
        ),
    ],
)
def test_team_code_that_breaks_the_contract_gets_one_line(settings, sample, team, modules, message):
    team(**modules)
    with pytest.raises(ProjectError, match=message):
        run_pipeline(settings, sample)


def test_params_may_hold_the_teams_own_sections(settings):
    from mlplate_runtime.config import Params

    raw = {**settings.params.model_dump(mode="json"), "my_stage": {"window": 7}}
    assert Params.model_validate(raw).model_extra == {"my_stage": {"window": 7}}


ROUTES = """
    from fastapi import APIRouter

    router = APIRouter()


    @router.get("/team/owner")
    def owner() -> dict:
        return {"team": "fraud"}
    """


def test_the_projects_router_adds_routes_beside_the_runtimes(module_settings, fitted, team):
    team(routes=ROUTES)
    model = LoadedModel(
        "champion",
        "models:/x@champion",
        fitted,
        module_settings.contract,
        task_for(module_settings),
    )
    app = create_app(
        module_settings, ServingSettings(prediction_log=None), loader=lambda *_: (model, None)
    )
    with TestClient(app) as client:
        assert client.get("/team/owner").json() == {"team": "fraud"}
        assert client.get("/health").status_code == 200
        metrics = client.get("/metrics").text
    assert 'route="/team/owner"' in metrics  # counted like the runtime's routes


def test_a_project_route_cannot_take_a_runtime_path(module_settings, team):
    team(routes=ROUTES.replace("/team/owner", "/predict"))
    with pytest.raises(ProjectError, match=r"\['/predict'\] are the runtime's routes"):
        create_app(module_settings, ServingSettings(prediction_log=None))


CHECKS = """
    def mean_moved(reference, current):
        column = {column!r}
        moved = abs(current[column].mean() - reference[column].mean())
        return {{"value": moved, "alarm": moved >= 0, "note": "alarms on any data"}}


    def rows(reference, current):
        return {{"value": len(current), "alarm": False}}


    CHECKS = [mean_moved, rows]
    """


@pytest.fixture
def monitored(settings):
    from mlplate_runtime.data.prepare import prepare
    from mlplate_runtime.data.synthetic import synthetic_frame, write_table
    from mlplate_runtime.features.build import featurize

    raw = synthetic_frame(settings.contract, 1500, seed=settings.params.seed)
    write_table(settings.path(settings.params.data.raw_path), raw)
    prepare(settings)
    featurize(settings)
    return settings


def test_the_projects_monitoring_checks_run_beside_drift_and_can_raise_the_alarm(
    monitored, team, monkeypatch
):
    from typer.testing import CliRunner

    from mlplate_runtime import cli

    assert not run_monitoring(monitored)["alarm"]  # the holdout: no drift, no checks
    numeric = monitored.contract.numeric_features[0]
    team(checks=CHECKS.format(column=numeric))
    summary = run_monitoring(monitored)
    assert summary["drift_share"] <= summary["threshold"]  # the drift tests see nothing
    assert summary["alarm"] and summary["failed_checks"] == ["mean_moved"]
    assert [(c["name"], c["alarm"]) for c in summary["checks"]] == [
        ("mean_moved", True),
        ("rows", False),
    ]
    assert summary["checks"][0]["note"] == "alarms on any data"
    assert summary["checks"][1]["value"] == summary["n_current"]
    report = monitored.path(monitored.params.monitoring.report_dir)
    assert json.loads((report / "drift.json").read_text())["failed_checks"] == ["mean_moved"]
    assert "the project's checks alarmed: mean_moved" in (report / "drift.html").read_text()
    monkeypatch.setattr(cli, "_settings", lambda params: monitored)
    result = CliRunner().invoke(cli.app, ["monitor"])
    assert result.exit_code == 1 and "drift alarm: mean_moved" in result.output


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("CHECKS = 'mean'\n", "checks.py must define CHECKS, a list of functions"),
        (
            "def broken(reference, current):\n    return 42\nCHECKS = [broken]\n",
            r'monitoring check broken returned 42; return \{"value": <a finite number>',
        ),
        (
            "def nan(reference, current):\n    return {'value': float('nan'), 'alarm': False}\n"
            "CHECKS = [nan]\n",
            "monitoring check nan returned",
        ),
        (
            "def failing(reference, current):\n    return current['nope']\nCHECKS = [failing]\n",
            "monitoring check failing failed: KeyError: 'nope'",
        ),
    ],
)
def test_a_monitoring_check_that_breaks_the_contract_gets_one_line(
    monitored, team, source, message
):
    team(checks=source)
    with pytest.raises(ProjectError, match=message):
        run_monitoring(monitored)


def test_the_previous_form_of_add_features_works_for_a_release_with_a_warning(
    settings, sample, team, monkeypatch
):
    from support import PROJECT_ROOT

    monkeypatch.setenv("PIPELINE_ROOT", str(PROJECT_ROOT))  # where its params.yaml is
    first = settings.contract.numeric_features[0]
    team(
        features=f"""
        DERIVED_FEATURES = {{"doubled": "numeric"}}

        def add_features(frame, contract):  # the v0.2.27 form
            assert contract.target
            return frame.assign(doubled=frame[{first!r}] * 2)
        """
    )
    with pytest.warns(
        FutureWarning, match=r"add_features\(frame, contract\) is the form of v0.2.27"
    ):
        run_pipeline(settings, sample)
    fitted = load_model_file(settings.path(settings.params.train.model_path), settings)
    assert "doubled" in fitted.named_steps["preprocess"].transformers_[0][2]
