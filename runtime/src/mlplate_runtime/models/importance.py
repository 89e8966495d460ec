"""Permutation importance of each input column on the holdout (`evaluate` writes it).

The model takes the contract's raw columns and derives its features inside itself
(features/build.py ``ProjectInputs``), so a column is shuffled before the derivation: its
importance includes every derived feature made from it. Importance is how much the primary
metric worsens when one column's values are shuffled, in the metric's units (for rmse and
mae, how much the error grows), averaged over a few shuffles of at most ``MAX_ROWS`` rows.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlplate_runtime.models.tasks import Task

MAX_ROWS = 2000  # holdout rows shuffled: the cost grows with rows x columns x repeats
REPEATS = 5
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ColumnImportance:
    """One input column: the metric's mean loss when it is shuffled, and its spread."""

    feature: str
    importance: float | None
    std: float | None


@dataclass(frozen=True)
class Importance:
    """The ranking, most important first, and how it was measured."""

    metric: str
    rows: int
    repeats: int
    features: tuple[ColumnImportance, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def by_feature(self) -> dict[str, float]:
        """Column -> importance (columns without a value left out)."""
        return {c.feature: c.importance for c in self.features if c.importance is not None}


def _finite(value: Any) -> float | None:
    """A finite number, rounded for the report; anything else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        return None
    return round(float(value), 6) if math.isfinite(value) else None


def permutation_importance(
    model: Any,
    inputs: pd.DataFrame,
    y_true: np.ndarray,
    *,
    task: Task,
    metric: str,
    seed: int,
) -> Importance:
    """Shuffle each column of ``inputs`` (the model's raw input columns) and measure the loss."""
    from sklearn.inspection import permutation_importance as permute
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    if len(inputs) > MAX_ROWS:  # a fixed sample: the baseline and the shuffles share rows
        rows = np.sort(rng.choice(len(inputs), MAX_ROWS, replace=False))
        inputs, y_true = inputs.iloc[rows], y_true[rows]
    sign = 1.0 if task.higher_is_better[metric] else -1.0

    def scorer(estimator: Any, features: pd.DataFrame, labels: np.ndarray) -> float:
        return sign * task.metrics(labels, task.scores(estimator, features))[metric]

    started = time.perf_counter()
    # Dozens of small scoring calls: native threads (OpenMP in tree models) cost more than they
    # save there, and on a busy machine much more.
    with threadpool_limits(limits=1):
        result = permute(
            model, inputs, y_true, scoring=scorer, n_repeats=REPEATS, random_state=seed, n_jobs=1
        )
    log.info(
        "permutation importance: %d columns x %d rows x %d repeats in %.2f s",
        inputs.shape[1],
        len(inputs),
        REPEATS,
        time.perf_counter() - started,
    )
    columns = [
        ColumnImportance(name, _finite(mean), _finite(std))
        for name, mean, std in zip(
            inputs.columns, result.importances_mean, result.importances_std, strict=True
        )
    ]
    ranked = sorted(
        columns,
        key=lambda c: (c.importance is None, -(c.importance or 0.0), c.feature),
    )
    return Importance(metric, len(inputs), REPEATS, tuple(ranked))


def write_importance(path: Path, importance: Importance) -> None:
    """reports/importance.json (DVC draws ``features`` as a bar chart)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(importance.as_dict(), indent=2) + "\n")


def read_importance(path: Path) -> Importance | None:
    """The ranking `evaluate` wrote, or None when there is none (or it cannot be read)."""
    try:
        raw = json.loads(path.read_text())
        return Importance(
            str(raw["metric"]),
            int(raw["rows"]),
            int(raw["repeats"]),
            tuple(
                ColumnImportance(
                    str(c["feature"]), _finite(c.get("importance")), _finite(c.get("std"))
                )
                for c in raw["features"]
            ),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
