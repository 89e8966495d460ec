"""The promotion gate's decision (pure): does the candidate replace the champion?"""

from __future__ import annotations

from dataclasses import asdict, dataclass


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

    def as_dict(self) -> dict:
        return asdict(self)


def decide(
    candidate: float,
    champion: float | None,
    *,
    metric: str,
    min_delta: float,
    higher_is_better: bool = True,
) -> Decision:
    """Promote when there is no champion, or when the candidate beats it by >= min_delta."""
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
