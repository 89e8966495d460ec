"""Permutation importance per raw input column: the column a model uses ranks first, one it
ignores scores zero, lower-is-better metrics count a growing error as importance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlplate_runtime.models import importance as module
from mlplate_runtime.models.importance import (
    permutation_importance,
    read_importance,
    write_importance,
)
from mlplate_runtime.models.tasks import Classification, Regression


class Copies:
    """A fitted 'model' that predicts the column ``signal`` (regression) or its sign (binary)."""

    classes_ = np.array([0, 1])

    def fit(self, *args: object) -> Copies:
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame["signal"].to_numpy(float)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        positive = 1 / (1 + np.exp(-frame["signal"].to_numpy(float)))
        return np.column_stack([1 - positive, positive])


def _inputs(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "noise": rng.normal(size=rows),
            "signal": rng.normal(size=rows),
            "plan": rng.choice(["basic", "pro"], rows).astype(object),
        }
    )


@pytest.mark.parametrize(
    ("task", "metric"),
    [(Regression(), "rmse"), (Regression(), "r2"), (Classification((0, 1)), "roc_auc")],
)
def test_the_column_the_model_uses_ranks_first_and_unused_ones_score_zero(task, metric):
    inputs = _inputs()
    signal = inputs["signal"].to_numpy()
    y_true = signal if task.name == "regression" else (signal > 0).astype(int)
    result = permutation_importance(Copies(), inputs, y_true, task=task, metric=metric, seed=1)
    assert result.features[0].feature == "signal"
    ranked = result.by_feature()
    assert ranked["signal"] > 0.1  # rmse: the error grows; r2 and roc_auc: the score falls
    assert ranked["noise"] == ranked["plan"] == 0.0
    assert (result.metric, result.rows, result.repeats) == (metric, 300, module.REPEATS)


def test_at_most_max_rows_are_shuffled(monkeypatch):
    monkeypatch.setattr(module, "MAX_ROWS", 50)
    inputs = _inputs(400)
    result = permutation_importance(
        Copies(), inputs, inputs["signal"].to_numpy(), task=Regression(), metric="rmse", seed=1
    )
    assert result.rows == 50


def test_the_ranking_round_trips_through_its_file_and_a_bad_file_reads_as_none(tmp_path):
    inputs = _inputs()
    result = permutation_importance(
        Copies(), inputs, inputs["signal"].to_numpy(), task=Regression(), metric="mae", seed=1
    )
    path = tmp_path / "reports" / "importance.json"
    write_importance(path, result)
    assert read_importance(path) == result
    path.write_text('{"metric": "mae", "features": "no"}')
    assert read_importance(path) is None
    assert read_importance(tmp_path / "missing.json") is None
