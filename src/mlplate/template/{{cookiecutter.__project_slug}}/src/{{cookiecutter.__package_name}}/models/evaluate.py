"""Stage `evaluate`: score the holdout, write metrics, plots and per-group metrics.

MLflow is not imported here (it costs a second per stage); `register` logs these
results to the training run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from {{ cookiecutter.__package_name }}.config import EvaluateParams, Settings
from {{ cookiecutter.__package_name }}.features.build import feature_matrix
from {{ cookiecutter.__package_name }}.models.metrics import (
    predict_scores,
    quality_metrics,
    {{ 'residual_points' if cookiecutter.task == 'regression' else 'roc_points' }},
)


def load_holdout(settings: Settings) -> pd.DataFrame:
    """The featurized test split every model is compared on."""
    return pd.read_csv(settings.path(settings.params.data.features_dir / "test.csv"))


def score(model: Any, frame: pd.DataFrame) -> np.ndarray:
    """What ``model`` predicts for each row of a featurized ``frame``."""
    return predict_scores(model, feature_matrix(frame))


def group_metrics(
    frame: pd.DataFrame,
    y_score: np.ndarray,
    *,
    target: str,
    group_by: str,
    params: EvaluateParams,
) -> dict[str, dict[str, float]]:
    """Metrics for each value of a (sensitive) column, with the group's size."""
    groups = {}
    for value, rows in frame.groupby(group_by).groups.items():
        positions = frame.index.get_indexer(rows)
        metrics = quality_metrics(frame[target].to_numpy()[positions], y_score[positions], params)
        groups[str(value)] = {"n": len(positions), **metrics}
    return groups


def write_json(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n")


{% if cookiecutter.task == 'regression' -%}
def save_residuals_png(y_true: np.ndarray, y_score: np.ndarray, path: Path) -> None:
    """Residuals against predictions (viewable offline, embedded by `dvc plots show`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4.2, 3.2), dpi=100)
    axes.scatter(y_score, y_true - y_score, s=6, alpha=0.5)
    axes.axhline(0.0, color="black", linewidth=0.8)
    axes.set(xlabel="predicted", ylabel="actual - predicted", title="Residuals")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
{%- else -%}
def save_confusion_png(y_true: np.ndarray, y_pred: np.ndarray, path: Path) -> None:
    """A small confusion-matrix image (viewable offline, embedded by `dvc plots show`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.zeros((2, 2), dtype=int)
    for actual, predicted in zip(y_true, y_pred, strict=True):
        counts[actual, predicted] += 1
    figure, axes = plt.subplots(figsize=(3.6, 3.2), dpi=100)
    axes.imshow(counts, cmap="Blues")
    for (row, col), count in np.ndenumerate(counts):
        colour = "white" if count > counts.max() / 2 else "black"
        axes.text(col, row, str(count), ha="center", va="center", color=colour)
    axes.set(
        xticks=[0, 1], yticks=[0, 1], xlabel="predicted", ylabel="actual", title="Confusion matrix"
    )
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
{%- endif %}


def evaluate(settings: Settings) -> dict[str, float]:
    """Run the stage; return the holdout metrics."""
    params = settings.params
    model = joblib.load(settings.path(params.train.model_path))
    frame = load_holdout(settings)
    y_true = frame[params.data.target].to_numpy()
    y_score = score(model, frame)
    metrics = quality_metrics(y_true, y_score, params.evaluate)
    write_json(settings.path(params.evaluate.metrics_path), {**metrics, "n_test": len(frame)})

    groups = group_metrics(
        frame,
        y_score,
        target=params.data.target,
        group_by=params.data.sensitive_feature,
        params=params.evaluate,
    )
    write_json(
        settings.path(params.evaluate.fairness_path),
        {"sensitive_feature": params.data.sensitive_feature, "groups": groups},
    )

    plots = settings.path(params.evaluate.plots_dir)
    plots.mkdir(parents=True, exist_ok=True)
{%- if cookiecutter.task == 'regression' %}
    write_json(plots / "residuals.json", residual_points(y_true, y_score))
    save_residuals_png(y_true, y_score, plots / "residuals.png")
{%- else %}
    y_pred = (y_score >= params.evaluate.threshold).astype(int)
    write_json(plots / "roc.json", roc_points(y_true, y_score))
    write_json(
        plots / "confusion.json",
        [{"actual": int(a), "predicted": int(p)} for a, p in zip(y_true, y_pred, strict=True)],
    )
    save_confusion_png(y_true, y_pred, plots / "confusion_matrix.png")
{%- endif %}

    return metrics
