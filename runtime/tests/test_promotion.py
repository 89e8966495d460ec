"""The promotion gate: only a clear improvement replaces the champion."""

from __future__ import annotations

import pytest

from mlplate_runtime.models.promotion import decide, regression_exceeds


def test_first_model_becomes_champion():
    decision = decide(0.71, None, metric="roc_auc", min_delta=0.002)
    assert decision.promote
    assert decision.champion is None


def test_better_model_is_promoted():
    decision = decide(0.80, 0.75, metric="roc_auc", min_delta=0.002)
    assert decision.promote
    assert decision.delta == pytest.approx(0.05)


def test_worse_model_is_not_promoted():
    decision = decide(0.70, 0.75, metric="roc_auc", min_delta=0.002)
    assert not decision.promote
    assert decision.delta == pytest.approx(-0.05)


def test_equal_model_is_not_promoted():
    assert not decide(0.75, 0.75, metric="roc_auc", min_delta=0.0).promote


def test_improvement_below_min_delta_is_not_promoted():
    assert not decide(0.751, 0.75, metric="roc_auc", min_delta=0.002).promote


def test_lower_is_better_metrics_invert_the_comparison():
    assert decide(0.9, 1.0, metric="rmse", min_delta=0.05, higher_is_better=False).promote
    assert not decide(1.1, 1.0, metric="rmse", min_delta=0.05, higher_is_better=False).promote


def test_regression_threshold():
    assert regression_exceeds(0.70, 0.75, max_regression=0.01)
    assert not regression_exceeds(0.745, 0.75, max_regression=0.01)
    assert not regression_exceeds(0.80, 0.75, max_regression=0.01)


def test_lower_is_better_metrics_are_explained_with_their_real_sign():
    worse = decide(197.68, 100.0, metric="rmse", min_delta=0.5, higher_is_better=False)
    assert not worse.promote
    assert worse.reason.startswith("rmse rises by 97.6800 (worse)")
    better = decide(90.0, 100.0, metric="rmse", min_delta=0.5, higher_is_better=False)
    assert better.promote
    assert better.reason.startswith("rmse falls by 10.0000 (better")


def test_a_model_that_does_not_beat_the_baseline_is_not_promoted_even_first():
    decision = decide(
        0.5010,
        None,
        metric="roc_auc",
        min_delta=0.002,
        baseline=0.5,
        baseline_name="baseline (prior)",
    )
    assert not decision.promote and decision.baseline == 0.5
    assert decision.reason.startswith("roc_auc 0.5010 does not beat the baseline (prior) (0.5000)")
    assert decide(0.81, None, metric="roc_auc", min_delta=0.002, baseline=0.5).promote


def test_the_baseline_follows_the_metrics_direction():
    # rmse: lower is better; a model at 1.80 loses to predicting the mean at 1.72
    worse = decide(1.80, None, metric="rmse", min_delta=0.0, higher_is_better=False, baseline=1.72)
    assert not worse.promote and "does not beat the baseline" in worse.reason
    better = decide(1.20, 1.50, metric="rmse", min_delta=0.1, higher_is_better=False, baseline=1.72)
    assert better.promote and better.baseline == 1.72


def test_a_slice_below_its_floor_is_named_and_blocks_promotion():
    from mlplate_runtime.models.promotion import hold_to_slice_floors, slice_floor_misses

    scores = {"biscoe": 0.71, "heavy": 0.93, "tiny": None}
    misses = slice_floor_misses(
        scores, {"biscoe": 0.8, "heavy": 0.9, "tiny": 0.5}, metric="roc_auc"
    )
    assert misses == [
        "slice 'biscoe' has roc_auc 0.7100, below its floor 0.8",
        "slice 'tiny' has no roc_auc on the holdout to hold to its floor 0.5",
    ]
    decision = hold_to_slice_floors(decide(0.9, 0.8, metric="roc_auc", min_delta=0.002), misses)
    assert not decision.promote and decision.candidate == 0.9 and decision.delta is not None
    assert decision.reason.startswith("slice 'biscoe' has roc_auc 0.7100, below its floor 0.8;")
    assert "(promotion.slice_floors): not promoted, although otherwise roc_auc rises" in (
        decision.reason
    )


def test_a_slice_floor_of_a_lower_is_better_metric_is_a_ceiling():
    from mlplate_runtime.models.promotion import slice_floor_misses

    floors = {"north": 10.0}
    assert slice_floor_misses({"north": 9.5}, floors, metric="rmse", higher_is_better=False) == []
    assert slice_floor_misses({"north": 10.5}, floors, metric="rmse", higher_is_better=False) == [
        "slice 'north' has rmse 10.5000, above its floor 10"
    ]
    assert slice_floor_misses({"north": 9.5}, floors, metric="r2", higher_is_better=True)


def test_slice_floors_leave_a_refused_candidate_and_an_empty_list_alone():
    from mlplate_runtime.models.promotion import hold_to_slice_floors

    refused = decide(0.7, 0.8, metric="roc_auc", min_delta=0.002)
    assert hold_to_slice_floors(refused, ["slice 'a' has roc_auc 0.1000"]) == refused
    promoted = decide(0.9, None, metric="roc_auc", min_delta=0.002)
    assert hold_to_slice_floors(promoted, []) == promoted
