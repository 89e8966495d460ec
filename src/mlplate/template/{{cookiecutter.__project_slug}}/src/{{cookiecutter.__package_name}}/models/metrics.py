"""What the model outputs and how good it is (pure functions of labels and predictions).

Every stage scores models through ``predict_scores`` and ``quality_metrics``, so the
task-specific parts of the pipeline live here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm

from {{ cookiecutter.__package_name }}.config import EvaluateParams
{% if cookiecutter.task == 'regression' %}
HIGHER_IS_BETTER = {"rmse": False, "mae": False, "r2": True}


def predict_scores(model: Any, features: Any) -> np.ndarray:
    """The model's predicted target value for each row."""
    return np.asarray(model.predict(features), dtype=float)


def quality_metrics(
    y_true: np.ndarray, y_score: np.ndarray, params: EvaluateParams
) -> dict[str, float]:
    """Return RMSE, MAE and R² of the predictions."""
    del params  # regression needs no cut-off
    return {
        "rmse": float(np.sqrt(skm.mean_squared_error(y_true, y_score))),
        "mae": float(skm.mean_absolute_error(y_true, y_score)),
        "r2": float(skm.r2_score(y_true, y_score)) if len(y_true) > 1 else float("nan"),
    }


def residual_points(
    y_true: np.ndarray, y_score: np.ndarray, *, max_points: int = 500
) -> list[dict[str, float]]:
    """Return at most ``max_points`` {predicted, residual} records (evenly sampled rows)."""
    keep = np.unique(np.linspace(0, len(y_true) - 1, min(max_points, len(y_true))).astype(int))
    return [
        {
            "predicted": round(float(y_score[i]), 4),
            "residual": round(float(y_true[i] - y_score[i]), 4),
        }
        for i in keep
    ]
{%- else %}
HIGHER_IS_BETTER = {
    "roc_auc": True,
    "f1": True,
    "accuracy": True,
    "precision": True,
    "recall": True,
}


def predict_scores(model: Any, features: Any) -> np.ndarray:
    """The model's positive-class probability for each row."""
    return model.predict_proba(features)[:, 1]


def quality_metrics(
    y_true: np.ndarray, y_score: np.ndarray, params: EvaluateParams
) -> dict[str, float]:
    """Return ROC AUC, F1, accuracy, precision and recall for scores cut at the threshold."""
    y_pred = (y_score >= params.threshold).astype(int)
    both_classes = len(np.unique(y_true)) == 2
    return {
        "roc_auc": float(skm.roc_auc_score(y_true, y_score)) if both_classes else float("nan"),
        "f1": float(skm.f1_score(y_true, y_pred, zero_division=0)),
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision": float(skm.precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(skm.recall_score(y_true, y_pred, zero_division=0)),
    }


def roc_points(y_true: np.ndarray, y_score: np.ndarray, *, max_points: int = 200) -> list[dict]:
    """Return the ROC curve as at most ``max_points`` {fpr, tpr} records."""
    fpr, tpr, _ = skm.roc_curve(y_true, y_score)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(max_points, len(fpr))).astype(int))
    return [{"fpr": round(float(fpr[i]), 5), "tpr": round(float(tpr[i]), 5)} for i in keep]
{%- endif %}
