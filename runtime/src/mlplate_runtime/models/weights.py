"""Class weighting (params.yaml `model.class_weight: balanced`) for whatever estimator model.py
builds, without model.py knowing about it.

An estimator with a ``class_weight`` parameter gets it set. One without it but whose ``fit``
takes ``sample_weight`` gets balanced per-row weights through the pipeline at every fit
(training and each cross-validated fit of tuning). Any other estimator is refused in one line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplate_runtime.errors import ProjectError

ESTIMATOR_STEP = "estimator"  # the pipeline's last step (models/train.py build_model)


def takes_class_weight(estimator: Any) -> bool:
    """Whether the estimator weighs classes itself (scikit-learn's ``class_weight``)."""
    get_params = getattr(estimator, "get_params", None)
    return callable(get_params) and "class_weight" in get_params(deep=False)


def weigh_classes(estimator: Any, *, class_weight: str | None, task: str) -> Any:
    """``estimator`` set to weigh classes as params.yaml asks; unchanged when it asks nothing
    or when the weights go through ``fit`` instead (see ``fit_options``)."""
    from sklearn.utils.validation import has_fit_parameter

    if class_weight is None:
        return estimator
    if task != "classification":
        raise ProjectError(
            f"params.yaml model.class_weight is {class_weight!r}, but this project's task is "
            f"{task}: class weights are for classification; remove the line"
        )
    if takes_class_weight(estimator):
        return estimator.set_params(class_weight=class_weight)
    if has_fit_parameter(estimator, "sample_weight"):
        return estimator
    raise ProjectError(
        f"params.yaml model.class_weight is {class_weight!r}, but model.py's estimator "
        f"{type(estimator).__name__} takes neither class_weight nor fit(sample_weight=...): "
        "remove the line or build an estimator that takes one of them"
    )


def fit_options(estimator: Any, target: np.ndarray, *, class_weight: str | None) -> dict[str, Any]:
    """Keyword arguments for the pipeline's ``fit``: balanced sample weights for an estimator
    that weighs classes only through them, else nothing."""
    if class_weight is None or takes_class_weight(estimator):
        return {}
    from sklearn.utils.class_weight import compute_sample_weight

    return {f"{ESTIMATOR_STEP}__sample_weight": compute_sample_weight(class_weight, target)}
