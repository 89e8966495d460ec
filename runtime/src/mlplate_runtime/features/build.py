"""Features from the contract (pure functions) and the `featurize` stage.

Numeric, integer and boolean feature columns go to the model as floats (gaps stay NaN for
the imputer); categorical ones as text. Add engineered columns in ``add_features``.
"""

from __future__ import annotations

from typing import get_args

import numpy as np
import pandas as pd

from mlplate_runtime.config import Settings, Split
from mlplate_runtime.data.contract import (
    Contract,
    as_boolean,
    as_numbers,
    category_text,
)


def add_features(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Return a copy of ``frame`` holding the columns the pipeline carries, in contract order.

    This is the place for engineered features: add columns here and to ``feature_columns``.
    """
    return frame[[name for name in contract.kept if name in frame.columns]].copy()


def feature_columns(contract: Contract) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The model's (numeric, categorical) input columns."""
    return contract.numeric_features, contract.categorical_features


def feature_matrix(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The model's input columns, in order: numbers as floats, categories as text."""
    numeric, categorical = feature_columns(contract)
    out = {}
    for name in numeric:
        values = frame[name]
        if contract.columns[name].type == "boolean" and not pd.api.types.is_numeric_dtype(values):
            values = values.map(as_boolean)
        out[name] = as_numbers(values)
    for name in categorical:
        text = category_text(frame[name])
        out[name] = text.astype(object).where(text.notna(), np.nan)
    return pd.DataFrame(out, index=frame.index)


def read_features(settings: Settings, split: Split) -> pd.DataFrame:
    """A split as training and evaluation read it: through the feature store when there is one."""
    if settings.params.feature_store is not None:
        from mlplate_runtime.features.store import historical_features

        return historical_features(settings, split)
    return pd.read_csv(settings.features(split))


def featurize(settings: Settings) -> None:
    """Run the stage: add features to the prepared train and test splits."""
    settings.path(settings.params.data.features_dir).mkdir(parents=True, exist_ok=True)
    for split in get_args(Split):
        frame = pd.read_csv(settings.prepared(split))
        add_features(frame, settings.contract).to_csv(settings.features(split), index=False)
