"""What `use-data` sets when a class is rare: class weights and a primary metric that sees it.

A rare class barely moves accuracy or a binary F1 of the other class, and an unweighted model
can ignore it at little cost. Binary data keeps ROC AUC: it does not depend on a threshold or
on which class is called positive (average precision would, and the rare class need not be the
contract's positive one). Multi-class data is compared on macro F1, where every class counts
the same, the rarest too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mlplate_runtime.data.contract import Contract

RARE_SHARE = 0.10  # a class under this share of the rows (with a target) makes data imbalanced


@dataclass(frozen=True)
class ImbalanceAdvice:
    """params.yaml values for imbalanced classes, and the line `use-data` prints about them."""

    values: dict[str, object]
    note: str


def imbalance_advice(frame: pd.DataFrame, contract: Contract) -> ImbalanceAdvice | None:
    """Class weights and a primary metric when the target's rarest class is under 10% of the
    rows; None for regression or balanced enough classes."""
    if contract.task != "classification":
        return None
    shares = frame[contract.target].dropna().value_counts(normalize=True)
    if shares.empty or shares.min() >= RARE_SHARE:
        return None
    binary = len(shares) == 2
    metric = "roc_auc" if binary else "f1_macro"
    why = (
        "threshold-free, whichever class is rare"
        if binary
        else "every class counts the same, the rare ones too"
    )
    rarest = shares.idxmin()
    return ImbalanceAdvice(
        values={"model.class_weight": "balanced", "evaluate.primary_metric": metric},
        note=(
            f"the rarest class of {contract.target!r}, {str(rarest)!r}, is {shares.min():.1%} of "
            f"the rows (under {RARE_SHARE:.0%}): params.yaml weighs classes by their frequency "
            f"(model.class_weight: balanced) and compares models on {metric} ({why})"
        ),
    )
