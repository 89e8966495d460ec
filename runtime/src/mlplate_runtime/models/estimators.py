"""The estimator: what the project's model.py builds, or the runtime's default.

A project chooses its estimator in its own ``model.py`` (an extension point)::

    def build_estimator(params: dict, *, task: str, seed: int):
        return lightgbm.LGBMClassifier(random_state=seed, **params["lightgbm"])

``params`` is params.yaml's ``model:`` section as a dict, ``task`` is "classification" or
"regression". Any scikit-learn-compatible estimator works: classifiers need predict_proba.
Preprocessing (imputation, scaling, one-hot encoding) and the derived features come before it.
``model.class_weight: balanced`` is applied to the returned estimator by the runtime
(models/weights.py): build_estimator need not read it.
"""

from __future__ import annotations

from typing import Any

from mlplate_runtime.errors import ProjectError
from mlplate_runtime.project import team_module


def default_estimator(params: dict[str, Any], *, task: str, seed: int) -> Any:
    """Histogram gradient boosting, or a linear model, as ``params["type"]`` selects."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge

    kind = params.get("type", "hist_gradient_boosting")
    if kind == "hist_gradient_boosting":
        chosen = params.get("hist_gradient_boosting", {})
        boosting = (
            HistGradientBoostingRegressor
            if task == "regression"
            else HistGradientBoostingClassifier
        )
        return boosting(random_state=seed, **chosen)
    if kind == "linear":
        alpha = float(params.get("linear", {}).get("alpha", 1.0))
        if task == "regression":
            return Ridge(alpha=alpha)
        return LogisticRegression(C=1.0 / alpha, max_iter=1000)
    raise ProjectError(
        f"params.yaml model.type {kind!r} is not one the default estimator knows "
        "(hist_gradient_boosting, linear); build yours in the project's model.py"
    )


def build_estimator(params: dict[str, Any], *, task: str, seed: int) -> Any:
    """The project's estimator (its model.py's build_estimator), else the default."""
    module = team_module("model")
    build = getattr(module, "build_estimator", None) if module is not None else None
    if build is None:
        return default_estimator(params, task=task, seed=seed)
    try:
        estimator = build(dict(params), task=task, seed=seed)
    except (KeyError, TypeError, ValueError) as error:
        raise ProjectError(
            f"model.py: build_estimator failed with params.yaml's model section: "
            f"{type(error).__name__}: {error}"
        ) from None
    if not hasattr(estimator, "fit") or (
        task == "classification" and not hasattr(estimator, "predict_proba")
    ):
        raise ProjectError(
            f"model.py: build_estimator returned {type(estimator).__name__}, which is not a "
            "scikit-learn estimator (fit, predict; predict_proba for classification)"
        )
    return estimator
