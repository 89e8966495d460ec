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
    if delta >= min_delta and delta > 0:
        reason = f"{metric} improves by {delta:+.4f} (>= {min_delta})"
        return Decision(True, reason, metric, candidate, champion, delta, min_delta)
    reason = f"{metric} changes by {delta:+.4f}, less than the required {min_delta}"
    return Decision(False, reason, metric, candidate, champion, delta, min_delta)


def regression_exceeds(
    candidate: float, baseline: float, *, max_regression: float, higher_is_better: bool = True
) -> bool:
    """True when the candidate is worse than the baseline by more than ``max_regression``."""
    loss = baseline - candidate if higher_is_better else candidate - baseline
    return loss > max_regression
