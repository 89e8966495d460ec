"""Model-quality metrics (pure functions of labels and scores)."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

HIGHER_IS_BETTER = {
    "roc_auc": True,
    "f1": True,
    "accuracy": True,
    "precision": True,
    "recall": True,
}


def classification_metrics(
    y_true: np.ndarray, y_score: np.ndarray, *, threshold: float
) -> dict[str, float]:
    """Return ROC AUC, F1, accuracy, precision and recall for scores cut at ``threshold``."""
    y_pred = (y_score >= threshold).astype(int)
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
