"""Drift statistics (pure): per-feature tests chosen by column type, missing rates, prediction shift.

Numbers (numeric, integer) get a two-sample Kolmogorov-Smirnov test; categories and booleans a
chi-square test on their counts; every feature also gets PSI. Below ``min_samples`` current rows
the statistics are reported but never raise the alarm (PSI and p-values mean little there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's comparison between reference and current data."""

    feature: str
    kind: str
    test: str
    statistic: float
    p_value: float
    psi: float
    drifted: bool
    missing_reference: float
    missing_current: float
    importance: float | None = None  # the model's permutation importance, when evaluate wrote it


def population_stability_index(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI between two distributions given as aligned proportions."""
    eps = 1e-6
    ref, cur = np.clip(reference, eps, None), np.clip(current, eps, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def numeric_drift(
    name: str, reference: pd.Series, current: pd.Series, *, p_value: float, kind: str = "numeric"
) -> FeatureDrift:
    """Two-sample Kolmogorov-Smirnov test, plus PSI over reference deciles."""
    ref, cur = reference.dropna().to_numpy(float), current.dropna().to_numpy(float)
    result = stats.ks_2samp(ref, cur)
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, 11)))
    edges[0], edges[-1] = -np.inf, np.inf
    ref_share = np.histogram(ref, edges)[0] / max(len(ref), 1)
    cur_share = np.histogram(cur, edges)[0] / max(len(cur), 1)
    return FeatureDrift(
        name,
        kind,
        "ks",
        float(result.statistic),
        float(result.pvalue),
        population_stability_index(ref_share, cur_share),
        bool(result.pvalue < p_value),
        float(reference.isna().mean()),
        float(current.isna().mean()),
    )


def categorical_drift(
    name: str,
    reference: pd.Series,
    current: pd.Series,
    *,
    p_value: float,
    kind: str = "categorical",
) -> FeatureDrift:
    """Chi-square test on category counts (missing counted as its own category), plus PSI."""
    ref, cur = reference.fillna("<missing>").astype(str), current.fillna("<missing>").astype(str)
    categories = sorted(set(ref) | set(cur))
    ref_counts = ref.value_counts().reindex(categories, fill_value=0).to_numpy()
    cur_counts = cur.value_counts().reindex(categories, fill_value=0).to_numpy()
    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        statistic, p = 0.0, 1.0
    else:
        statistic, p, _, _ = stats.chi2_contingency(table)
    psi = population_stability_index(
        ref_counts / ref_counts.sum(), cur_counts / max(cur_counts.sum(), 1)
    )
    return FeatureDrift(
        name,
        kind,
        "chi2",
        float(statistic),
        float(p),
        psi,
        bool(p < p_value),
        float(reference.isna().mean()),
        float(current.isna().mean()),
    )


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, *, kinds: Mapping[str, str], p_value: float
) -> list[FeatureDrift]:
    """Compare every feature present in both frames; ``kinds`` maps a feature to its column type."""
    results = []
    for name, kind in kinds.items():
        if name not in current or name not in reference:
            continue
        if kind in ("numeric", "integer"):
            results.append(
                numeric_drift(name, reference[name], current[name], p_value=p_value, kind=kind)
            )
        else:  # categorical and boolean: counts per value
            results.append(
                categorical_drift(name, reference[name], current[name], p_value=p_value, kind=kind)
            )
    return results


def rank_by_importance(
    results: list[FeatureDrift], importance: Mapping[str, float]
) -> list[FeatureDrift]:
    """The results with each feature's importance, most important first (features without one
    last, in their order); unchanged when there is no importance."""
    if not importance:
        return results
    ranked = [replace(result, importance=importance.get(result.feature)) for result in results]
    return sorted(ranked, key=lambda result: (result.importance is None, -(result.importance or 0)))


def prediction_shift(reference: np.ndarray, current: np.ndarray, *, p_value: float) -> dict:
    """KS test between the reference and current distributions of the model's predictions."""
    result = stats.ks_2samp(reference, current)
    return {
        "test": "ks",
        "statistic": float(result.statistic),
        "p_value": float(result.pvalue),
        "drifted": bool(result.pvalue < p_value),
        "reference_mean": float(np.mean(reference)),
        "current_mean": float(np.mean(current)),
    }


def summarize(
    results: list[FeatureDrift],
    *,
    threshold: float,
    n_current: int,
    min_samples: int,
    checks: list[dict] | None = None,
) -> dict:
    """The share of drifted features and whether it, or one of the project's own ``checks``,
    raises the alarm (never below min_samples)."""
    checks = checks or []
    failed_checks = [check["name"] for check in checks if check["alarm"]]
    drifted = [result.feature for result in results if result.drifted]
    share = len(drifted) / len(results) if results else 0.0
    enough = n_current >= min_samples
    warnings = (
        []
        if enough
        else [
            f"only {n_current} current rows (monitoring.min_samples is {min_samples}): "
            "too few to judge drift, so no alarm is raised"
        ]
    )
    return {
        "n_features": len(results),
        "drifted_features": drifted,
        "drift_share": share,
        "threshold": threshold,
        "min_samples": min_samples,
        "alarm": enough and (share > threshold or bool(failed_checks)),
        "checks": checks,
        "failed_checks": failed_checks,
        "warnings": warnings,
        "features": [asdict(result) for result in results],
    }
