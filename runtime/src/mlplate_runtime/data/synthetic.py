"""Rows made from the contract: valid data of any shape, with a target a model can learn.

The project's tests and the data benchmark use these instead of naming the example's
columns, so they keep working after `make use-data` brings another dataset.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlplate_runtime.data.contract import ColumnSpec, Contract

MISSING_SHARE = 0.05


def _span(spec: ColumnSpec) -> tuple[float, float]:
    """The declared range, else the observed one, else 100 wide."""
    given_low = spec.min if spec.min is not None else spec.observed_min
    given_high = spec.max if spec.max is not None else spec.observed_max
    low = (
        given_low
        if given_low is not None
        else (given_high - 100 if given_high is not None else 0.0)
    )
    high = given_high if given_high is not None else low + 100
    return float(low), float(high)


def _column(spec: ColumnSpec, n_rows: int, rng: np.random.Generator) -> np.ndarray:
    low, high = _span(spec)
    if spec.role == "id":
        return np.arange(math.ceil(low), math.ceil(low) + n_rows)
    if spec.type == "integer":
        return rng.integers(math.ceil(low), math.floor(high) + 1, n_rows)
    if spec.type == "numeric":
        return np.clip(np.round(rng.uniform(low, high, n_rows), 4), low, high)
    if spec.type == "boolean":
        return rng.random(n_rows) < 0.5
    if spec.type == "datetime":  # a day of 2024-2025, in ISO 8601
        days = rng.integers(0, 730, n_rows)
        return (np.datetime64("2024-01-01") + days).astype(str).astype(object)
    if spec.role == "ignored":
        return np.array([f"note {i}" for i in range(n_rows)], dtype=object)
    categories = np.empty(len(spec.categories or ()), dtype=object)
    categories[:] = list(spec.categories or ())
    return rng.choice(categories, n_rows)


def _signal(frame: pd.DataFrame, contract: Contract) -> np.ndarray:
    """A mix of every feature (standardised numbers, category positions) that drives the target."""
    total = np.zeros(len(frame))
    for position, name in enumerate(contract.features):
        spec = contract.columns[name]
        if spec.type == "datetime":
            continue  # the example's target follows the other features
        if spec.is_numeric:
            values = pd.to_numeric(frame[name]).astype(float)
        else:
            lookup = {category: index for index, category in enumerate(spec.categories or ())}
            values = frame[name].map(lookup).astype(float)
        spread = values.std() or 1.0
        weight = 1.0 if position % 2 == 0 else -0.7
        total += weight * ((values - values.mean()) / spread).fillna(0.0).to_numpy()
    return total


def synthetic_frame(contract: Contract, n_rows: int, *, seed: int) -> pd.DataFrame:
    """``n_rows`` valid rows for ``contract``; the target follows the features (plus noise)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            name: _column(spec, n_rows, rng)
            for name, spec in contract.columns.items()
            if name != contract.target
        }
    )
    signal = _signal(frame, contract) + rng.normal(0, 0.3, n_rows)
    order = pd.Series(signal).rank(method="first").to_numpy() / (n_rows + 1)
    target = contract.columns[contract.target]
    if contract.task == "classification":
        classes = np.empty(len(contract.classes), dtype=object)
        classes[:] = list(contract.classes)
        values = classes[np.minimum((order * len(classes)).astype(int), len(classes) - 1)]
    else:
        low, high = _span(target)
        values = low + (high - low) * order
        values = np.clip(np.round(values, 0 if target.type == "integer" else 4), low, high)
    for name, spec in contract.columns.items():
        if spec.nullable and spec.role not in ("id", "target"):
            gaps = rng.random(n_rows) < MISSING_SHARE
            frame[name] = frame[name].astype(object).where(~gaps, None)
            if spec.is_numeric and spec.type != "boolean":
                frame[name] = pd.to_numeric(frame[name])
    frame.insert(list(contract.columns).index(contract.target), contract.target, values)
    return frame


def write_table(path: Path, frame: pd.DataFrame) -> Path:
    """Write ``frame`` as CSV, or Parquet for a .parquet/.pq path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def json_records(frame: pd.DataFrame, contract: Contract) -> list[dict[str, Any]]:
    """The feature columns of ``frame`` as API request records (JSON types, gaps as null)."""
    return [
        {key: _plain(value) for key, value in row.items()}
        for row in frame[list(contract.features)].to_dict(orient="records")
    ]


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value
