"""A team's own dataset, of any shape, adopted with `use_data`, run through every stage,
registered, served and batch-scored: a binary CSV, a regression CSV, a multi-class Parquet file,
a CSV with awkward names, gaps and free text, a daily history with ISO dates and a Parquet file
with timestamps (generated projects run one of them end to end)."""

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
from mlplate_runtime.models.batch import predict_batch
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


def daily_demand(path):
    """A daily history (ISO dates, in order): demand follows the weekday and the season."""
    rng = np.random.default_rng(5)
    days = pd.date_range("2022-01-01", periods=500, freq="D")
    price = rng.uniform(1, 3, len(days)).round(2)
    weekend = days.dayofweek >= 5
    demand = (
        100
        + 40 * weekend
        - 15 * price
        + 20 * np.sin(days.dayofyear / 58)
        + rng.normal(0, 3, len(days))
    )
    frame = pd.DataFrame(
        {"date": days.strftime("%Y-%m-%d"), "price": price, "demand": demand.round(1)}
    )
    frame.to_csv(path, index=False)


def orders(path):
    """Parquet with a timestamp column (rows not in time order) and an epoch-day edge case."""
    rng = np.random.default_rng(6)
    n = 300
    placed = pd.Timestamp("1970-01-01") + pd.to_timedelta(rng.integers(0, 20_000, n), unit="D")
    placed += pd.to_timedelta(rng.integers(0, 24, n), unit="h")
    amount = rng.uniform(5, 500, n).round(2)
    late = np.where((placed.hour >= 18) & (amount > 100), "late", "on time")
    frame = pd.DataFrame({"placed at": placed, "amount": amount, "status": late})
    frame.to_parquet(path, index=False)


DATASETS = {
    "breast-cancer-binary": (breast_cancer, "breast cancer.csv", "target", None, "roc_auc"),
    "diabetes-regression": (diabetes, "diabetes.csv", "target", "regression", "rmse"),
    "wine-multiclass-parquet": (wine, "wine.parquet", "target", None, "roc_auc"),
    "awkward-names": (renewals, "Renewals 2026.csv", "Will Renew", None, "roc_auc"),
    "daily-dates-csv": (daily_demand, "demand.csv", "demand", "regression", "rmse"),
    "timestamps-parquet": (orders, "deliveries.parquet", "status", None, "roc_auc"),
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
    times = settings.contract.datetime_features
    assert times == {"daily-dates-csv": ("date",), "timestamps-parquet": ("placed at",)}.get(
        dataset, ()
    )
    if dataset == "daily-dates-csv":  # rows in date order: the latest are held out
        assert metrics["r2"] > 0.6  # the weekday and season, from the date, explain most
        assert settings.params.data.split == "time"
        test = pd.read_csv(settings.prepared("test"))
        assert test["date"].min() > pd.read_csv(settings.prepared("train"))["date"].max()
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
    record = json.loads(
        frame.drop(columns=[target]).iloc[[0]].to_json(orient="records", date_format="iso")
    )[0]
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
        # Python reads 2024-W22-6 as a date, pandas does not: refused, as batch scoring would
        late = [{**record, name: bad} for name in times for bad in ("next tuesday", "2024-W22-6")]
        not_a_time = client.post("/predict", json={"records": late}) if times else None
    assert answer.status_code == 200, answer.text
    assert beyond.status_code == 200, beyond.text
    for name in times:  # sent as ISO 8601 text, as JSON has no time type
        assert isinstance(record[name], str)
    if not_a_time is not None:
        assert not_a_time.status_code == 422
        refused = not_a_time.json()["detail"]
        assert len(refused) == 2 and all("ISO 8601" in problem["msg"] for problem in refused)

    # The whole file scores in batch, and what joins predictions back to rows comes along.
    result = predict_batch(settings, source, tmp_path / "scored.parquet")
    assert result.rejected == 0 and result.scored == len(frame)
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    kept = [name for name in frame.columns if settings.contract.columns[name].role in ("id",)]
    assert set(kept) | set(times) <= set(scored.columns)
    if times:
        kind = scored[times[0]].dtype  # UTC times (ns under pandas 2, us under pandas 3)
        assert isinstance(kind, pd.DatetimeTZDtype) and str(kind.tz) == "UTC"
    assert f'unusual_values_total{{column="{number}",kind="range"}} 1.0' in counted
    prediction = answer.json()["predictions"][0]
    if metric == "rmse":
        assert isinstance(prediction["prediction"], float)
    else:
        classes = [str(value) for value in settings.contract.classes]
        assert str(prediction["label"]) in classes
        assert len(prediction["probabilities"]) == len(classes)
    assert wrong.status_code == 422
