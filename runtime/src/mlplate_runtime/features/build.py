"""Features from the contract (pure functions), the project's derived features, and the
`featurize` stage.

Numeric, integer and boolean feature columns go to the model as floats (gaps stay NaN for
the imputer); categorical ones as text. A project derives more columns in its own
``features.py`` (an extension point)::

    DERIVED_FEATURES = {"charges_per_month": "numeric"}   # name -> numeric or categorical

    def add_features(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(charges_per_month=frame["charges"] / frame["tenure"].clip(lower=1))

``add_features`` receives the contract's feature columns, typed (numbers as floats, categories
as text, gaps as NaN), and returns them with the derived columns added. The derivation is the
first step of the model itself (``ProjectInputs``), so the model takes the raw columns:
serving, batch scoring and monitoring follow every change of derived features, and such a
change is a new version of the same registered model.
"""

from __future__ import annotations

import inspect
import os
import warnings
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mlplate_runtime.config import Settings, Split
from mlplate_runtime.data.contract import (
    Contract,
    as_boolean,
    as_numbers,
    category_text,
    parse_datetimes,
)
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.project import team_module

FeatureKind = Literal["numeric", "categorical"]


def add_features(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Return a copy of ``frame`` holding the columns the pipeline carries, in contract order.

    This is the place for engineered features: add columns here and to ``feature_columns``.
    """
    return frame[[name for name in contract.kept if name in frame.columns]].copy()


def derived_features() -> dict[str, FeatureKind]:
    """The derived columns the project's features.py declares (name -> numeric/categorical)."""
    module = team_module("features")
    declared = getattr(module, "DERIVED_FEATURES", None) or {}
    if not isinstance(declared, dict) or any(
        not isinstance(name, str) or kind not in ("numeric", "categorical")
        for name, kind in declared.items()
    ):
        raise ProjectError(
            "features.py: DERIVED_FEATURES must map each derived column's name to "
            '"numeric" or "categorical", e.g. {"charges_per_month": "numeric"}'
        )
    if declared and not callable(getattr(module, "add_features", None)):
        raise ProjectError("features.py declares DERIVED_FEATURES but has no add_features(frame)")
    return dict(declared)


def feature_columns(contract: Contract) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The contract's (numeric, categorical) input columns (datetimes are taken apart later)."""
    return contract.numeric_features, contract.categorical_features


# What the model takes from a date or time (the column itself is no model input): calendar
# parts that repeat (month, day of week, hour) and a count that orders time (days since 1970).
DATE_PARTS = ("year", "month", "day_of_week", "hour", "days")


def date_part_columns(contract: Contract) -> tuple[str, ...]:
    """The numeric inputs made from the datetime features: "<column>.<part>"."""
    return tuple(f"{name}.{part}" for name in contract.datetime_features for part in DATE_PARTS)


def date_parts(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` with each datetime column's parts added as floats (missing times give NaN)."""
    if not columns:
        return frame
    out = frame.copy()
    for name in columns:
        times = (
            out[name]
            if pd.api.types.is_datetime64_any_dtype(out[name])
            else parse_datetimes(out[name])
        )
        parts = {
            "year": times.dt.year,
            "month": times.dt.month,
            "day_of_week": times.dt.dayofweek,
            "hour": times.dt.hour,
            "days": (times - EPOCH).dt.total_seconds() / 86400,
        }
        for part in DATE_PARTS:
            out[f"{name}.{part}"] = parts[part].astype("float64")
    return out


EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


def model_columns(
    contract: Contract, derived: dict[str, FeatureKind]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (numeric, categorical) columns the estimator sees: the contract's, then derived."""
    clash = sorted(set(derived) & set(contract.columns))
    if clash:
        raise ProjectError(
            f"features.py derives {clash}, which the data contract already has; give derived "
            "columns new names"
        )
    numeric, categorical = feature_columns(contract)
    return (
        (
            *numeric,
            *date_part_columns(contract),
            *(name for name, kind in derived.items() if kind == "numeric"),
        ),
        (*categorical, *(name for name, kind in derived.items() if kind == "categorical")),
    )


def derive(typed: pd.DataFrame, derived: dict[str, FeatureKind]) -> pd.DataFrame:
    """The typed inputs with the project's derived columns (numbers as floats, text as text)."""
    if not derived:
        return typed
    module = team_module("features")
    out = _call_add_features(module.add_features, typed.copy()) if module is not None else None
    if not isinstance(out, pd.DataFrame) or len(out) != len(typed):
        raise ProjectError(
            "features.py: add_features(frame) must return the frame, one row per row"
        )
    missing = [name for name in derived if name not in out.columns]
    if missing:
        raise ProjectError(
            f"features.py: add_features did not add the declared columns {missing}; add them "
            "or remove them from DERIVED_FEATURES"
        )
    result = typed.copy()
    for name, kind in derived.items():
        values = out[name]
        if kind == "numeric":
            result[name] = pd.to_numeric(values, errors="coerce").astype(float)
        else:
            text = category_text(values)
            result[name] = text.astype(object).where(text.notna(), np.nan)
    return result.replace([np.inf, -np.inf], np.nan)


# The previous forms of the contract with features.py, accepted (with a warning) for at least
# one release after it changed; see "Extension points" in docs/runtime.md.
OLD_ADD_FEATURES = (
    "features.py: add_features(frame, contract) is the form of v0.2.27 and before; since "
    "v0.2.31 it is add_features(frame), the frame holding the contract's columns typed. Drop "
    "the contract argument: the old form is accepted until v0.3.0"
)


def _call_add_features(function: Any, frame: pd.DataFrame) -> Any:
    """The project's add_features on ``frame``, in its current form or the previous one."""
    try:
        parameters = [
            parameter
            for parameter in inspect.signature(function).parameters.values()
            if parameter.default is inspect.Parameter.empty
            and parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):  # no signature to read: call it the current way
        parameters = []
    if len(parameters) == 2:
        from mlplate_runtime.config import load_settings

        warnings.warn(OLD_ADD_FEATURES, FutureWarning, stacklevel=2)
        root = Path(os.environ.get("PIPELINE_ROOT") or ".")  # in a pipeline image: the project
        return function(frame, load_settings(root / "params.yaml").contract)
    return function(frame)


class DateParts(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """The model's step after the project's derived columns: each datetime input's parts."""

    def __init__(self, columns: tuple[str, ...] = ()) -> None:
        self.columns = columns

    def fit(self, frame: pd.DataFrame, target: Any = None) -> DateParts:
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return date_parts(frame, tuple(self.columns))


class ProjectInputs(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """The model's first step: the typed raw inputs plus the project's derived columns.

    It records the derived columns it was built with (what the estimator was fitted on); the
    project's add_features must still produce them when the model scores.
    """

    def __init__(self, derived: dict[str, Any] | None = None) -> None:
        self.derived = derived

    def fit(self, frame: pd.DataFrame, target: Any = None) -> ProjectInputs:
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return derive(frame, dict(self.derived or {}))


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
    for name in contract.datetime_features:
        out[name] = contract.columns[name].datetimes(frame[name])
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
