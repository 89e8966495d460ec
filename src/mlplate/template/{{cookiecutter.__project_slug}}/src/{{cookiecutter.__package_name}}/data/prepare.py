"""Stage `prepare`: ingest the raw data, validate it, split it into train and test."""

from __future__ import annotations

import numpy as np
import pandas as pd

from {{ cookiecutter.__package_name }}.config import Settings
from {{ cookiecutter.__package_name }}.data.ingest import read_raw
from {{ cookiecutter.__package_name }}.data.schema import validate


def stratified_split(
    frame: pd.DataFrame, *, strata: pd.Series, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into (train, test), keeping each stratum's share the same in both."""
    rng = np.random.default_rng(seed)
    test_rows: list[int] = []
    for _, group in frame.groupby(strata, sort=True):
        positions = rng.permutation(len(group))
        n_test = max(1, round(len(group) * test_size)) if len(group) > 1 else 0
        test_rows.extend(group.index[positions[:n_test]])
    is_test = frame.index.isin(test_rows)
    return frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)


def prepare(settings: Settings) -> tuple[int, int]:
    """Run the stage; return the (train, test) row counts. Writes nothing on invalid data."""
    data = settings.params.data
    frame = validate(read_raw(settings.path(data.raw_path)))
{%- if cookiecutter.task == 'regression' %}
    # Deciles of the target as strata: low and high values are in both splits alike.
    strata = pd.qcut(frame[data.target], q=10, labels=False, duplicates="drop")
{%- else %}
    strata = frame[data.target]  # the class balance is the same in both splits
{%- endif %}
    train, test = stratified_split(
        frame, strata=strata, test_size=data.test_size, seed=settings.params.seed
    )
    out = settings.path(data.prepared_dir)
    out.mkdir(parents=True, exist_ok=True)
    train.to_csv(out / "train.csv", index=False)
    test.to_csv(out / "test.csv", index=False)
    return len(train), len(test)
