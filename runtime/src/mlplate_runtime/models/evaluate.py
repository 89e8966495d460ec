"""Stage `evaluate`: score the holdout, write metrics, plots and per-group metrics.

MLflow is not imported here (it costs a second per stage); `register` logs these
results to the training run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlplate_runtime.config import Settings
from mlplate_runtime.data.contract import Contract
from mlplate_runtime.data.slices import SliceError, parse_condition, slice_mask
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.features.build import feature_matrix, read_features
from mlplate_runtime.models.importance import permutation_importance, write_importance
from mlplate_runtime.models.store import load_model
from mlplate_runtime.models.tasks import Classification, Regression, Task, task_for


def load_holdout(settings: Settings) -> pd.DataFrame:
    """The featurized test split every model is compared on."""
    return read_features(settings, "test")


def score(model: Any, frame: pd.DataFrame, settings: Settings) -> np.ndarray:
    """What ``model`` predicts for each row of a featurized ``frame``."""
    return task_for(settings).scores(model, feature_matrix(frame, settings.contract))


def group_metrics(
    frame: pd.DataFrame, y_true: np.ndarray, scores: np.ndarray, *, group_by: str, task: Task
) -> dict[str, dict[str, float]]:
    """Metrics for each value of a (sensitive) column, with the group's size."""
    groups = {}
    for value, rows in frame.groupby(group_by, dropna=False).groups.items():
        positions = frame.index.get_indexer(rows)
        label = "(missing)" if pd.isna(value) else str(value)
        groups[label] = {"n": len(positions), **task.metrics(y_true[positions], scores[positions])}
    return groups


def slice_metrics(
    frame: pd.DataFrame,
    y_true: np.ndarray,
    scores: np.ndarray,
    *,
    slices: dict[str, str],
    contract: Contract,
    task: Task,
) -> dict[str, dict[str, float | int | None]]:
    """Metrics on each slice (name -> condition) with its size; a metric a slice is too small
    for (no rows, one class) is None."""
    results: dict[str, dict[str, float | int | None]] = {}
    for name, text in slices.items():
        try:
            rows = slice_mask(frame, parse_condition(text), contract)
        except SliceError as error:
            raise ProjectError(f"params.yaml: evaluate.slices.{name}: {error}") from None
        n = int(rows.sum())
        metrics = task.metrics(y_true[rows], scores[rows]) if n else {}
        results[name] = {"n": n}
        for metric in task.higher_is_better:
            value = metrics.get(metric, float("nan"))
            results[name][metric] = value if math.isfinite(value) else None
    return results


def _write_slices(
    settings: Settings, frame: pd.DataFrame, y_true: np.ndarray, scores: np.ndarray, task: Task
) -> None:
    """reports/slices.json: the metrics of every evaluate.slices subgroup of the holdout."""
    params = settings.params.evaluate
    slices = slice_metrics(
        frame, y_true, scores, slices=dict(params.slices), contract=settings.contract, task=task
    )
    write_json(settings.path(params.slices_path), {"slices": slices})


def _write_importance(
    settings: Settings, model: Any, frame: pd.DataFrame, y_true: np.ndarray, task: Task
) -> None:
    """reports/importance.json: permutation importance of each input column on the holdout."""
    params = settings.params
    importance = permutation_importance(
        model,
        feature_matrix(frame, settings.contract),
        y_true,
        task=task,
        metric=params.evaluate.primary_metric,
        seed=params.seed,
    )
    write_importance(settings.path(params.evaluate.importance_path), importance)


def write_json(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n")


def _baseline_metrics(settings: Settings, task: Task, y_true: np.ndarray) -> dict[str, Any] | None:
    """The holdout metrics of the constant prediction train recorded (mean, or class prior)."""
    path = settings.path(settings.params.train.run_info_path)
    recorded = json.loads(path.read_text()).get("baseline") if path.is_file() else None
    if not isinstance(recorded, dict):  # a run from before baselines: nothing to compare
        return None
    scores = task.baseline_scores(recorded, len(y_true))
    return {"strategy": recorded["strategy"], **task.metrics(y_true, scores)}


def prediction_range(
    model: Any, frame: pd.DataFrame, settings: Settings, task: Regression, scores: np.ndarray
) -> dict[str, Any]:
    """Regression: how many holdout predictions were clipped to the target's declared limits,
    and how many lie outside the values of the target training data held."""
    target = settings.contract.columns[settings.contract.target]
    raw = task.unclipped(model, feature_matrix(frame, settings.contract))
    low, high = target.observed_min, target.observed_max
    outside = np.zeros(len(scores), dtype=bool)
    if low is not None:
        outside |= scores < low
    if high is not None:
        outside |= scores > high
    return {
        "n": len(scores),
        "clipped_to_declared_range": int((raw != scores).sum()),
        "outside_observed_target": int(outside.sum()),
        "observed_target": [low, high],
        "min": float(scores.min()) if len(scores) else None,
        "max": float(scores.max()) if len(scores) else None,
    }


def evaluate(settings: Settings) -> dict[str, float]:
    """Run the stage; return the holdout metrics. A NaN primary metric stops it."""
    params, contract = settings.params, settings.contract
    task = task_for(settings)
    model = load_model(settings.path(params.train.model_path), settings)
    frame = load_holdout(settings)
    y_true = task.labels(frame[contract.target])
    scores = score(model, frame, settings)
    metrics = task.metrics(y_true, scores)
    primary = params.evaluate.primary_metric
    if not math.isfinite(metrics[primary]):
        raise ProjectError(
            f"{primary} is not a number on the {len(frame)}-row holdout (too few rows or a single "
            "class there); raise data.test_size or choose another evaluate.primary_metric"
        )
    written: dict[str, Any] = {**metrics, "n_test": len(frame)}
    baseline = _baseline_metrics(settings, task, y_true)
    if baseline is not None:
        written["baseline"] = baseline
    if isinstance(task, Classification):  # a rare class's recall hides in the averages
        written["per_class"] = task.per_class(y_true, scores)
    else:
        written["predictions"] = prediction_range(model, frame, settings, task, scores)
    write_json(settings.path(params.evaluate.metrics_path), written)
    fairness = {
        column: group_metrics(frame, y_true, scores, group_by=column, task=task)
        for column in contract.sensitive
    }
    write_json(settings.path(params.evaluate.fairness_path), {"groups_by": fairness})
    plots = settings.path(params.evaluate.plots_dir)
    plots.mkdir(parents=True, exist_ok=True)
    task.write_plots(y_true, scores, plots)
    _write_slices(settings, frame, y_true, scores, task)
    _write_importance(settings, model, frame, y_true, task)
    return metrics
