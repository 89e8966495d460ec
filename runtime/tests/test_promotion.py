"""The promotion gate: only a clear improvement replaces the champion."""

from __future__ import annotations

import pytest

from mlplate_runtime.models.promotion import Secondary, decide, regression_exceeds


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


def _log_loss(candidate, champion):
    return Secondary("log_loss", candidate, champion, higher_is_better=False)


def test_a_tie_at_the_ceiling_goes_to_the_candidate_with_the_better_secondary_metric():
    decision = decide(
        1.0, 1.0, metric="roc_auc", min_delta=0.002, secondary=_log_loss(0.0333, 0.0456)
    )
    assert decision.promote and decision.delta == 0.0
    assert decision.reason == (
        "roc_auc ties with the champion at 1.0000, so the secondary metric decides: "
        "log_loss falls from 0.0456 to 0.0333 (better)"
    )
    assert decision.as_dict()["secondary"] == {
        "metric": "log_loss",
        "candidate": 0.0333,
        "champion": 0.0456,
        "higher_is_better": False,
    }


def test_min_delta_is_in_primary_units_so_any_real_secondary_gain_breaks_a_tie():
    # 0.0001 of log loss is far below min_delta (0.002 of ROC AUC): still strictly better
    assert decide(
        1.0, 1.0, metric="roc_auc", min_delta=0.002, secondary=_log_loss(0.0455, 0.0456)
    ).promote


@pytest.mark.parametrize(
    ("candidate", "verdict"),
    [(0.0456, "stays the same from 0.0456 to 0.0456 (no better)"), (0.05, "rises")],
)
def test_a_tie_stays_with_the_champion_unless_the_secondary_metric_is_better(candidate, verdict):
    decision = decide(
        1.0, 1.0, metric="roc_auc", min_delta=0.002, secondary=_log_loss(candidate, 0.0456)
    )
    assert not decision.promote
    assert verdict in decision.reason
    assert decision.reason.endswith("on a tie, promotion needs a better log_loss")


def test_the_secondary_metric_has_its_own_direction():
    higher = Secondary("roc_auc", 0.91, 0.90, higher_is_better=True)
    assert decide(
        0.2, 0.2, metric="log_loss", min_delta=0.01, higher_is_better=False, secondary=higher
    ).promote
    lower = Secondary("roc_auc", 0.89, 0.90, higher_is_better=True)
    assert not decide(
        0.2, 0.2, metric="log_loss", min_delta=0.01, higher_is_better=False, secondary=lower
    ).promote


def test_scores_equal_but_for_rounding_are_a_tie():
    # the same score computed two ways differs in the last bits
    decision = decide(
        0.1 + 0.2, 0.3, metric="roc_auc", min_delta=0.0, secondary=_log_loss(0.1, 0.2)
    )
    assert decision.promote and "ties with the champion" in decision.reason
    same = decide(0.9, 0.9, metric="roc_auc", min_delta=0.0, secondary=_log_loss(0.2, 0.2 + 1e-17))
    assert not same.promote and "(no better)" in same.reason


def test_without_the_champions_secondary_metric_a_tie_keeps_the_champion_as_before():
    today = decide(1.0, 1.0, metric="roc_auc", min_delta=0.002)
    for old in (_log_loss(0.03, None), _log_loss(0.03, float("nan")), None):
        decision = decide(1.0, 1.0, metric="roc_auc", min_delta=0.002, secondary=old)
        assert not decision.promote
        assert (
            decision.reason
            == today.reason
            == (
                "roc_auc stays the same (no better); promotion needs an improvement of at least 0.002"
            )
        )


def test_no_tie_no_tie_break():
    # 0.999 against 1.0 is a real (small) loss: the secondary metric is not asked
    decision = decide(0.999, 1.0, metric="roc_auc", min_delta=0.002, secondary=_log_loss(0.01, 0.5))
    assert not decision.promote and "secondary" not in decision.reason
    first = decide(1.0, None, metric="roc_auc", min_delta=0.002, secondary=_log_loss(0.01, None))
    assert first.promote and first.secondary is not None


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
