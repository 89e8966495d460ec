"""The promotion gate's decision (pure): does the candidate replace the champion?"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class Decision:
    """The gate's verdict with both scores, ready to write to reports/promotion.json."""

    promote: bool
    reason: str
    metric: str
    candidate: float
    champion: float | None
    delta: float | None
    min_delta: float
    baseline: float | None = None  # the constant prediction's score on the same holdout

    def as_dict(self) -> dict:
        return asdict(self)


def decide(
    candidate: float,
    champion: float | None,
    *,
    metric: str,
    min_delta: float,
    higher_is_better: bool = True,
    baseline: float | None = None,
    baseline_name: str = "baseline",
) -> Decision:
    """Promote a candidate that beats the baseline (a constant prediction) by >= min_delta and,
    when there is a champion, beats the champion by >= min_delta too."""
    if baseline is not None:
        margin = candidate - baseline if higher_is_better else baseline - candidate
        if not (margin >= min_delta and margin > 0):
            return Decision(
                False,
                f"{metric} {candidate:.4f} does not beat the {baseline_name} ({baseline:.4f}) by "
                f"at least {min_delta}: a constant prediction does as well, so no champion "
                "alias",
                metric,
                candidate,
                champion,
                None if champion is None else candidate - champion,
                min_delta,
                baseline,
            )
    decision = _against_champion(candidate, champion, metric, min_delta, higher_is_better)
    return Decision(**{**decision.as_dict(), "baseline": baseline})


def _against_champion(
    candidate: float, champion: float | None, metric: str, min_delta: float, higher_is_better: bool
) -> Decision:
    if champion is None:
        return Decision(
            True,
            "no champion yet: the first model becomes champion",
            metric,
            candidate,
            None,
            None,
            min_delta,
        )
    delta = candidate - champion if higher_is_better else champion - candidate
    promote = delta >= min_delta and delta > 0
    return Decision(
        promote,
        explain(metric, candidate - champion, delta, min_delta),
        metric,
        candidate,
        champion,
        delta,
        min_delta,
    )


def explain(metric: str, change: float, delta: float, min_delta: float) -> str:
    """Say how the metric moved, with the sign it really has ("rmse rises by 97.68 (worse)")."""
    direction = "rises" if change > 0 else "falls" if change < 0 else "stays the same"
    amount = f" by {abs(change):.4f}" if change else ""
    verdict = "better" if delta > 0 else "worse" if delta < 0 else "no better"
    if delta >= min_delta and delta > 0:
        return f"{metric} {direction}{amount} ({verdict} by at least {min_delta})"
    return f"{metric} {direction}{amount} ({verdict}); promotion needs an improvement of at least {min_delta}"


def regression_exceeds(
    candidate: float, baseline: float, *, max_regression: float, higher_is_better: bool = True
) -> bool:
    """True when the candidate is worse than the baseline by more than ``max_regression``."""
    loss = baseline - candidate if higher_is_better else candidate - baseline
    return loss > max_regression


def slice_floor_misses(
    scores: Mapping[str, float | None],
    floors: Mapping[str, float],
    *,
    metric: str,
    higher_is_better: bool = True,
) -> list[str]:
    """One phrase per slice whose score misses its floor (the worst value allowed: a minimum,
    or a maximum for lower-is-better metrics); a slice without a score misses it too."""
    misses = []
    for name, floor in floors.items():
        value = scores.get(name)
        if value is None or not math.isfinite(value):
            misses.append(
                f"slice {name!r} has no {metric} on the holdout to hold to its floor {floor:g}"
            )
        elif value < floor if higher_is_better else value > floor:
            side = "below" if higher_is_better else "above"
            misses.append(f"slice {name!r} has {metric} {value:.4f}, {side} its floor {floor:g}")
    return misses


def hold_to_slice_floors(decision: Decision, misses: list[str]) -> Decision:
    """The decision with promotion refused when the candidate misses a slice floor."""
    if not decision.promote or not misses:
        return decision
    return replace(
        decision,
        promote=False,
        reason=f"{'; '.join(misses)} (promotion.slice_floors): not promoted, although "
        f"otherwise {decision.reason}",
    )
