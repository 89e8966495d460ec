"""The estimator: which model learns from the features, built from params.yaml's `model:`.

What belongs here: the choice of estimator and how params.yaml configures it. Any
scikit-learn-compatible estimator works (classifiers need predict_proba): to use LightGBM,
add `lightgbm` to pyproject.toml's dependencies, a `lightgbm:` block to params.yaml's model
section, and return `lightgbm.LGBMClassifier(random_state=seed, **params["lightgbm"])` here.
What does not: imputation, scaling and one-hot encoding (the runtime puts them before the
estimator, from data/contract.yaml) and derived columns (features.py).
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge


def build_estimator(params: dict[str, Any], *, task: str, seed: int) -> Any:
    """The estimator for ``task`` ("classification" or "regression"), as params["type"] says."""
    if params["type"] == "linear":
        alpha = params["linear"]["alpha"]  # L2 strength
        if task == "regression":
            return Ridge(alpha=alpha)
        return LogisticRegression(C=1 / alpha, max_iter=1000)
    boosting = params["hist_gradient_boosting"]
    if task == "regression":
        return HistGradientBoostingRegressor(random_state=seed, **boosting)
    return HistGradientBoostingClassifier(random_state=seed, **boosting)
