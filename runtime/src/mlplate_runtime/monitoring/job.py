"""The monitoring job: compare current data with the training data and write the reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlplate_runtime.config import Settings
from mlplate_runtime.data.contract import Contract, unusual_counts, validation_problems
from mlplate_runtime.data.ingest import read_table
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.build import (
    add_features,
    feature_columns,
    feature_matrix,
)
from mlplate_runtime.models.importance import read_importance
from mlplate_runtime.models.store import load_model
from mlplate_runtime.models.tasks import task_for
from mlplate_runtime.monitoring.checks import project_checks, run_checks
from mlplate_runtime.monitoring.drift import (
    feature_drift,
    prediction_shift,
    rank_by_importance,
    summarize,
)
from mlplate_runtime.monitoring.html import render_html

LOG_FIELDS = ("features", "prediction", "request_id", "model", "model_version")


@dataclass(frozen=True)
class CurrentData:
    """The batch to check, where it came from, and how many log lines could not be read."""

    frame: pd.DataFrame
    source: str
    malformed_lines: int = 0


def read_prediction_log(path: Path) -> tuple[pd.DataFrame, int]:
    """Champion predictions from the serving log (one row per record, features flattened), and
    the number of lines skipped because they are not whole log entries."""
    rows, malformed = [], 0
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                malformed += 1
                continue
            if (
                not isinstance(entry, dict)
                or any(field not in entry for field in LOG_FIELDS)
                or not isinstance(entry["features"], dict)
            ):
                malformed += 1
                continue
            if entry.get("shadow"):
                continue
            rows.append(
                {
                    **entry["features"],
                    "prediction": entry["prediction"],
                    "scores": entry.get("scores"),
                    **{field: entry[field] for field in LOG_FIELDS[2:]},
                }
            )
    return pd.DataFrame(rows), malformed


def load_current(settings: Settings, current: Path | None) -> CurrentData:
    """The batch to check: a given file, the monitoring batch, the prediction log, or the holdout."""
    monitoring = settings.params.monitoring
    candidates = [current] if current is not None else [settings.path(monitoring.current_path)]
    for path in candidates:
        if path is not None and path.exists():
            return CurrentData(read_table(path), str(path))
    if current is not None:
        raise ProjectError(f"{current} does not exist")
    log = settings.path(monitoring.prediction_log)
    if log.exists() and log.stat().st_size > 0:
        frame, malformed = read_prediction_log(log)
        return CurrentData(frame, f"prediction log {log}", malformed)
    holdout = settings.prepared("test")
    if not holdout.exists():
        raise ProjectError(f"{holdout} does not exist; run `make all` first")
    return CurrentData(pd.read_csv(holdout), f"held-out split {holdout}")


def _prediction_shift(
    settings: Settings, current: pd.DataFrame, reference: pd.DataFrame, p_value: float
) -> dict[str, Any] | None:
    """The shift of the model's predictions (logged scores when the batch has them)."""
    model_path = settings.path(settings.params.train.model_path)
    if not model_path.exists():
        return None
    contract = settings.contract
    model, task = load_model(model_path, settings), task_for(settings)
    current_scores = (
        np.array([row if len(row) > 1 else row[0] for row in current["scores"]], dtype=float)
        if "scores" in current and current["scores"].notna().all()
        else task.scores(model, feature_matrix(add_features(current, contract), contract))
    )
    reference_scores = task.signal(task.scores(model, feature_matrix(reference, contract)))
    return prediction_shift(
        reference_scores, np.asarray(task.signal(current_scores)), p_value=p_value
    )


def _importance(settings: Settings) -> dict[str, float]:
    """Each input column's importance to the model (reports/importance.json), if evaluated."""
    found = read_importance(settings.path(settings.params.evaluate.importance_path))
    return found.by_feature() if found is not None else {}


def run_monitoring(settings: Settings, *, current: Path | None = None) -> dict[str, Any]:
    """Compute drift and data quality, write drift.json and drift.html; return the summary.

    A report from an earlier run is removed first: a run that cannot finish leaves none.
    """
    params, contract = settings.params, settings.contract
    monitoring = params.monitoring
    out = settings.path(monitoring.report_dir)
    for name in ("drift.json", "drift.html"):
        (out / name).unlink(missing_ok=True)
    reference_path = settings.features("train")
    if not reference_path.exists():
        raise ProjectError(f"{reference_path} does not exist; run `make all` first")
    reference = pd.read_csv(reference_path)
    batch = load_current(settings, current)
    raw = batch.frame
    if raw.empty:
        raise ProjectError(f"{batch.source} has no rows to monitor")
    problems = validation_problems(raw, contract, required=contract.features)
    missing = [name for name in contract.features if name not in raw.columns]
    if missing:
        raise ProjectError(f"{batch.source} lacks the model inputs {missing}; cannot monitor it")
    reference_inputs = feature_matrix(reference, contract)
    try:
        current_inputs = feature_matrix(add_features(raw, contract), contract)
    except (ValueError, TypeError) as error:
        raise ProjectError(
            f"{batch.source} cannot be read as model inputs ({error}); schema problems: "
            f"{'; '.join(problems) or 'none found'}"
        ) from None
    # Times always move on (new data is later): a datetime column is no drift signal.
    kinds = {
        name: contract.columns[name].type
        for name in reference_inputs.columns
        if contract.columns[name].type != "datetime"
    }
    results = feature_drift(
        reference_inputs, current_inputs, kinds=kinds, p_value=monitoring.p_value
    )
    results = rank_by_importance(results, _importance(settings))
    summary = summarize(
        results,
        threshold=monitoring.drift_share_threshold,
        n_current=len(raw),
        min_samples=monitoring.min_samples,
        checks=run_checks(project_checks(), reference_inputs, current_inputs),
    )
    shift = _prediction_shift(settings, raw, reference, monitoring.p_value)
    if shift is not None:
        summary["prediction_shift"] = shift
    unusual = unusual_counts(raw, contract)
    summary["unusual_values"] = unusual  # scored, but outside what training data held
    for name, count in unusual.items():
        summary["warnings"].append(
            f"{count} of {len(raw)} values of {name!r} lie outside what training data held"
        )
    if batch.malformed_lines:
        summary["warnings"].append(
            f"{batch.malformed_lines} malformed prediction-log lines were skipped"
        )
    summary.update(
        current_source=batch.source,
        n_current=len(raw),
        n_reference=len(reference),
        malformed_lines=batch.malformed_lines,
        schema_problems=problems,
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "drift.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "drift.html").write_text(render_html(summary, reference_inputs, current_inputs))
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


@dataclass(frozen=True)
class DriftedBatch:
    """What `simulate-drift` wrote: where, how many rows, from how many holdout rows."""

    path: Path
    rows: int
    holdout_rows: int


def simulate_drift(settings: Settings) -> DriftedBatch:
    """Write a drifted copy of the holdout where `monitor` reads its current data.

    A holdout smaller than monitoring.min_samples is resampled (with replacement) up to that
    size: below it `monitor` only warns, and the alarm this command promises would never fire.
    """
    holdout = settings.prepared("test")
    if not holdout.exists():
        raise ProjectError(f"{holdout} does not exist; run `make all` first")
    frame = pd.read_csv(holdout)
    if frame.empty:
        raise ProjectError(f"{holdout} has no rows; run `make all` on a larger dataset")
    holdout_rows = len(frame)
    seed, min_samples = settings.params.seed + 1, settings.params.monitoring.min_samples
    if holdout_rows < min_samples:
        frame = frame.sample(n=min_samples, replace=True, random_state=seed)
        frame = frame.reset_index(drop=True)
    batch = drifted(frame, settings.contract, seed=seed)
    path = settings.path(settings.params.monitoring.current_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    batch.to_csv(path, index=False)
    return DriftedBatch(path, len(batch), holdout_rows)
