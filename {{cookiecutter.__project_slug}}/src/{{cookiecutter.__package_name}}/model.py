"""The estimator: which model learns from the features, built from params.yaml's `model:`.

What belongs here: the choice of estimator and how params.yaml configures it. Any
scikit-learn-compatible estimator works (classifiers need predict_proba). To use LightGBM, add
`lightgbm` to pyproject.toml's dependencies and return, for example,
`lightgbm.LGBMClassifier(random_state=seed, verbose=-1)` from build_estimator (its settings
can go in a `lightgbm:` block of params.yaml's model section).
What does not: imputation, scaling and one-hot encoding (the runtime puts them before the
estimator, from data/contract.yaml) and derived columns (features.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge

# (task, params.yaml model.type) -> the estimator, from that type's block of params.yaml.
ESTIMATORS: dict[tuple[str, str], Callable[[dict[str, Any], int], Any]] = {
    ("classification", "hist_gradient_boosting"): lambda block, seed: (
        HistGradientBoostingClassifier(random_state=seed, **block)
    ),
    ("regression", "hist_gradient_boosting"): lambda block, seed: HistGradientBoostingRegressor(
        random_state=seed, **block
    ),
    ("classification", "linear"): lambda block, seed: LogisticRegression(
        C=1 / block["alpha"], max_iter=1000
    ),  # alpha: L2 strength
    ("regression", "linear"): lambda block, seed: Ridge(alpha=block["alpha"]),
}


def build_estimator(params: dict[str, Any], *, task: str, seed: int) -> Any:
    """The estimator for ``task`` ("classification" or "regression"), as params["type"] says."""
    return ESTIMATORS[task, params["type"]](params[params["type"]], seed)
