"""The monitoring job: compare current data with the training data and write the reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from {{ cookiecutter.__package_name }}.config import Settings
from {{ cookiecutter.__package_name }}.data.contract import Contract, validation_problems
from {{ cookiecutter.__package_name }}.data.ingest import read_table
from {{ cookiecutter.__package_name }}.errors import ProjectError
from {{ cookiecutter.__package_name }}.features.build import (
    add_features,
    feature_columns,
    feature_matrix,
)
from {{ cookiecutter.__package_name }}.models.store import load_model
from {{ cookiecutter.__package_name }}.models.tasks import task_for
from {{ cookiecutter.__package_name }}.monitoring.drift import (
    feature_drift,
    prediction_shift,
    summarize,
)
from {{ cookiecutter.__package_name }}.monitoring.html import render_html


def read_prediction_log(path: Path) -> pd.DataFrame:
    """Champion predictions from the serving log, one row per record, with features flattened."""
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        if entry.get("shadow"):
            continue
        rows.append(
            {
                **entry["features"],
                "prediction": entry["prediction"],
                "scores": entry.get("scores"),
                "request_id": entry["request_id"],
                "model": entry["model"],
                "model_version": entry["model_version"],
            }
        )
    return pd.DataFrame(rows)


def load_current(settings: Settings, current: Path | None) -> tuple[pd.DataFrame, str]:
    """The batch to check: a given file, the monitoring batch, the prediction log, or the holdout."""
    monitoring = settings.params.monitoring
    candidates = [current] if current is not None else [settings.path(monitoring.current_path)]
    for path in candidates:
        if path is not None and path.exists():
            return read_table(path), str(path)
    if current is not None:
        raise ProjectError(f"{current} does not exist")
    log = settings.path(monitoring.prediction_log)
    if log.exists() and log.stat().st_size > 0:
        return read_prediction_log(log), f"prediction log {log}"
    holdout = settings.path(settings.params.data.prepared_dir / "test.csv")
    if not holdout.exists():
        raise ProjectError(f"{holdout} does not exist; run `make all` first")
    return pd.read_csv(holdout), f"held-out split {holdout}"


def run_monitoring(settings: Settings, *, current: Path | None = None) -> dict[str, Any]:
    """Compute drift and data quality, write drift.json and drift.html; return the summary."""
    params = settings.params
    reference_path = settings.path(params.data.features_dir / "train.csv")
    if not reference_path.exists():
        raise ProjectError(f"{reference_path} does not exist; run `make all` first")
    reference = pd.read_csv(reference_path)
    raw, source = load_current(settings, current)
    if raw.empty:
        raise ProjectError(f"{source} has no rows to monitor")
    contract = settings.contract
    problems = validation_problems(raw, contract, required=contract.features)
    missing = [name for name in contract.features if name not in raw.columns]
    if missing:
        raise ProjectError(f"{source} lacks the model inputs {missing}; cannot monitor it")
    current_features = add_features(raw, contract)
    monitoring = params.monitoring
    numeric, categorical = feature_columns(contract)
    results = feature_drift(
        reference,
        current_features,
        numeric=numeric,
        categorical=categorical,
        p_value=monitoring.p_value,
    )
    summary = summarize(results, threshold=monitoring.drift_share_threshold)
    model_path = settings.path(params.train.model_path)
    if model_path.exists():
        model, task = load_model(model_path), task_for(settings)
        current_scores = (
            np.array([row if len(row) > 1 else row[0] for row in raw["scores"]], dtype=float)
            if "scores" in raw and raw["scores"].notna().all()
            else task.scores(model, feature_matrix(current_features, contract))
        )
        reference_scores = task.signal(task.scores(model, feature_matrix(reference, contract)))
        current_scores = task.signal(current_scores)
        summary["prediction_shift"] = prediction_shift(
            reference_scores, np.asarray(current_scores), p_value=monitoring.p_value
        )
    summary.update(
        current_source=source,
        n_current=len(raw),
        n_reference=len(reference),
        schema_problems=problems,
    )
    out = settings.path(monitoring.report_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "drift.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "drift.html").write_text(render_html(summary, reference, current_features))
    return summary


def drifted(frame: pd.DataFrame, contract: Contract, *, seed: int) -> pd.DataFrame:
    """A visibly drifted copy of ``frame`` that still satisfies the contract.

    Numeric features are redrawn from the top third of their own values; categorical ones
    mostly take their rarest category. Every value stays inside the contract's ranges.
    """
    rng = np.random.default_rng(seed)
    out = frame.copy()
    numeric, categorical = feature_columns(contract)
    for name in numeric:
        values = out[name].dropna()
        if values.nunique() > 1:
            top = values[values >= values.quantile(2 / 3)].to_numpy()
            present = out[name].notna()
            out.loc[present, name] = rng.choice(top, int(present.sum()))
    for name in categorical:
        counts = out[name].value_counts()
        if len(counts) > 1:
            rarest = counts.index[-1]
            flip = rng.random(len(out)) < 0.85
            out[name] = out[name].astype(object).where(~flip, rarest)
    return out


def simulate_drift(settings: Settings) -> Path:
    """Write a drifted copy of the holdout where `monitor` reads its current data."""
    holdout = settings.path(settings.params.data.prepared_dir / "test.csv")
    if not holdout.exists():
        raise ProjectError(f"{holdout} does not exist; run `make all` first")
    frame = drifted(pd.read_csv(holdout), settings.contract, seed=settings.params.seed + 1)
    path = settings.path(settings.params.monitoring.current_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path
