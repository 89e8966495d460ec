"""A team's own dataset, of any shape, adopted with `use_data`, run through every stage,
registered and served: a binary CSV, a regression CSV, a multi-class Parquet file and a CSV
with awkward names, gaps and free text (generated projects run one of them end to end)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from mlplate_runtime.config import ServingSettings, load_settings
from mlplate_runtime.data.adopt import use_data
from mlplate_runtime.models.loaded import load_model
from mlplate_runtime.models.registry import register
from mlplate_runtime.serving.app import create_app
from support import PROJECT_ROOT
from test_pipeline import run_pipeline


def breast_cancer(path):
    from sklearn.datasets import load_breast_cancer

    load_breast_cancer(as_frame=True).frame.to_csv(path, index=False)


def diabetes(path):
    from sklearn.datasets import load_diabetes

    load_diabetes(as_frame=True, scaled=False).frame.to_csv(path, index=False)


def wine(path):
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    frame.to_parquet(path, index=False)


def renewals(path):
    """Capitals, spaces, dashes, dots and symbols in names; gaps; free text; rows whose target
    is not known yet; a column to leave out."""
    rng = np.random.default_rng(3)
    n = 400
    orders = rng.integers(0, 40, n)
    frame = pd.DataFrame(
        {
            "Customer ID": np.arange(1, n + 1),
            "Monthly Spend ($)": np.where(
                rng.random(n) < 0.1, np.nan, rng.uniform(5, 500, n).round(2)
            ),
            "num.orders": orders,
            "Has-Coupon": rng.choice(["yes", "no"], n),
            "Plan Type": rng.choice(["Basic", "Pro", None], n),
            "notes": [f"called on day {i}" for i in range(n)],
        }
    )
    frame["Will Renew"] = np.where(orders + rng.normal(0, 5, n) > 20, "yes", "no")
    frame.loc[::25, "Will Renew"] = None  # 16 customers not due for renewal yet
    frame["Agent Name"] = rng.choice(["ann", "bob"], n)  # EXCLUDE'd: must not reach the model
    frame.to_csv(path, index=False)


DATASETS = {
    "breast-cancer-binary": (breast_cancer, "breast cancer.csv", "target", None, "roc_auc"),
    "diabetes-regression": (diabetes, "diabetes.csv", "target", "regression", "rmse"),
    "wine-multiclass-parquet": (wine, "wine.parquet", "target", None, "roc_auc"),
    "awkward-names": (renewals, "Renewals 2026.csv", "Will Renew", None, "roc_auc"),
}


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_an_adopted_dataset_trains_registers_and_serves_one_of_its_rows(
    tmp_path, mlflow_store, dataset
):
    make, name, target, task, metric = DATASETS[dataset]
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    for relative in ("params.yaml", "data/contract.yaml"):
        shutil.copy(PROJECT_ROOT / relative, project / relative)
    subprocess.run(
        [sys.executable, "-m", "dvc", "init", "--no-scm", "--quiet"], cwd=project, check=True
    )
    source = tmp_path / name
    make(source)

    exclude = ("Agent Name",) if dataset == "awkward-names" else ()
    adoption = use_data(
        load_settings(project / "params.yaml"), source, target=target, task=task, exclude=exclude
    )
    settings = load_settings(project / "params.yaml").model_copy(
        update={"tracking_uri": mlflow_store}
    )
    assert settings.contract.target == target and adoption.rows > 100
    frame = pd.read_parquet(source) if name.endswith(".parquet") else pd.read_csv(source)
    _, metrics = run_pipeline(settings, frame)
    unlabelled = int(frame[target].isna().sum())
    validation = json.loads(settings.path(settings.params.data.validation_report).read_text())
    assert validation["rows_without_target"] == unlabelled  # counted, and left out of the splits
    prepared = sum(len(pd.read_csv(settings.prepared(split))) for split in ("train", "test"))
    assert prepared == len(frame) - unlabelled
    assert all(settings.contract.columns[name].role == "ignored" for name in exclude)
    if metric == "rmse":
        assert metrics["r2"] > 0.2
    else:
        assert metrics["roc_auc"] > 0.8
    report = register(settings, allow_uncommitted=True)
    assert report["promote"] and report["metric"] == metric
    assert report["model"] == adoption.registered_model

    # The API takes one of the file's own rows as the team would send it.
    record = json.loads(frame.drop(columns=[target]).iloc[[0]].to_json(orient="records"))[0]
    champion = load_model(settings, role="champion", uri=None)
    app = create_app(
        settings, ServingSettings(prediction_log=None), loader=lambda *_: (champion, None)
    )
    # What the file held is observed, not a limit: a value far beyond it is scored and counted.
    contract = settings.contract
    number = next(n for n in contract.features if contract.columns[n].observed_max is not None)
    far = {**record, number: contract.columns[number].observed_max * 10 + 100}
    with TestClient(app) as client:
        answer = client.post("/predict", json={"records": [record]})
        wrong = client.post("/predict", json={"records": [{**record, "no such column": 1}]})
        beyond = client.post("/predict", json={"records": [far]})
        counted = client.get("/metrics").text
    assert answer.status_code == 200, answer.text
    assert beyond.status_code == 200, beyond.text
    assert f'unusual_values_total{{column="{number}",kind="range"}} 1.0' in counted
    prediction = answer.json()["predictions"][0]
    if metric == "rmse":
        assert isinstance(prediction["prediction"], float)
    else:
        classes = [str(value) for value in settings.contract.classes]
        assert str(prediction["label"]) in classes
        assert len(prediction["probabilities"]) == len(classes)
    assert wrong.status_code == 422
