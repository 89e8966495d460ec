"""The promotion gate's decision (pure): does the candidate replace the champion?"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

# Two scores this close are a tie (the same score computed twice may differ in the last bits).
TIE_RELATIVE = 1e-9
TIE_ABSOLUTE = 1e-12


@dataclass(frozen=True)
class Secondary:
    """The metric that decides a tie on the primary one, with both models' scores."""

    metric: str
    candidate: float | None
    champion: float | None  # None: not known for the champion (then no tie-break)
    higher_is_better: bool = False


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
    secondary: Secondary | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def tied(a: float, b: float) -> bool:
    """Whether two scores are equal but for floating-point noise."""
    return math.isclose(a, b, rel_tol=TIE_RELATIVE, abs_tol=TIE_ABSOLUTE)


def decide(
    candidate: float,
    champion: float | None,
    *,
    metric: str,
    min_delta: float,
    higher_is_better: bool = True,
    baseline: float | None = None,
    baseline_name: str = "baseline",
    secondary: Secondary | None = None,
) -> Decision:
    """Promote a candidate that beats the baseline (a constant prediction) by >= min_delta and,
    when there is a champion, beats the champion by >= min_delta too.

    A tie with the champion on ``metric`` (both at ROC AUC 1.0, say) goes to ``secondary``: the
    candidate wins when it is strictly better there. min_delta is in the primary metric's
    units, so it does not apply to the secondary one; any gain beyond floating-point noise
    counts (a retrained copy of the champion scores the same and does not replace it).
    """
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
                secondary,
            )
    decision = _against_champion(candidate, champion, metric, min_delta, higher_is_better)
    if champion is not None and tied(candidate, champion):
        decision = _break_tie(decision, secondary)
    return replace(decision, baseline=baseline, secondary=secondary)


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


def _break_tie(decision: Decision, secondary: Secondary | None) -> Decision:
    """Decide a tie on the primary metric by the secondary one; without both of its scores
    (a champion logged before it existed) the tie keeps the champion, as it always did."""
    if (
        secondary is None
        or secondary.candidate is None
        or secondary.champion is None
        or not math.isfinite(secondary.candidate)
        or not math.isfinite(secondary.champion)
    ):
        return decision
    new, old = secondary.candidate, secondary.champion
    gain = new - old if secondary.higher_is_better else old - new
    better = gain > 0 and not tied(new, old)
    move = "rises" if new > old else "falls" if new < old else "stays the same"
    verdict = "better" if better else "no better" if tied(new, old) else "worse"
    reason = (
        f"{decision.metric} ties with the champion at {decision.candidate:.4f}, so the secondary "
        f"metric decides: {secondary.metric} {move} from {old:.4f} to {new:.4f} ({verdict})"
    )
    if not better:
        reason += f"; on a tie, promotion needs a better {secondary.metric}"
    return replace(decision, promote=better, reason=reason)


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
