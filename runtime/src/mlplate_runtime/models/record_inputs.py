"""The model's input matrix built straight from validated API records, without pandas.

One record through the fitted scikit-learn pipeline costs ~4 ms, almost all of it pandas and
per-call checks in the ColumnTransformer (a few microseconds of arithmetic). For the pipeline
the runtime builds itself (models.train.build_model: typed inputs, median imputation and
scaling of numbers, most-frequent imputation and one-hot encoding of categories), this module
reads the fitted steps' parameters once and applies the same arithmetic to records, then hands
the matrix to the estimator. Anything else (derived features, dates, a team's own pipeline, a
value the API passes as another type) takes the general path, and the encoder is only used
after it produced exactly the general path's matrix on probe records (see ``checked_encoder``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class NotDirect(Exception):
    """A record or a pipeline the direct path does not handle: use the general one."""


@dataclass(frozen=True)
class _Numbers:
    columns: tuple[str, ...]
    fill: np.ndarray  # the imputer's medians
    mean: np.ndarray | None
    scale: np.ndarray | None

    def block(self, records: Sequence[dict[str, Any]]) -> np.ndarray:
        values = np.array([[_number(r.get(c)) for c in self.columns] for r in records], float)
        missing = np.isnan(values)
        if missing.any():
            values[missing] = np.broadcast_to(self.fill, values.shape)[missing]
        if self.mean is not None:
            values -= self.mean
        if self.scale is not None:
            values /= self.scale
        return values


@dataclass(frozen=True)
class _Categories:
    columns: tuple[str, ...]
    fill: tuple[str, ...]  # the imputer's most frequent values
    positions: tuple[dict[str, int], ...]  # category -> its one-hot column, per input column
    offsets: tuple[int, ...]
    width: int

    def block(self, records: Sequence[dict[str, Any]]) -> np.ndarray:
        out = np.zeros((len(records), self.width))
        for row, record in enumerate(records):
            for column, fill, positions, offset in zip(
                self.columns, self.fill, self.positions, self.offsets, strict=True
            ):
                value = record.get(column)
                if value is None:
                    value = fill
                elif type(value) is not str:  # 40.0 as the category "40": the general path
                    raise NotDirect(column)
                position = positions.get(value)
                if position is not None:  # an unseen category is all zeros (handle_unknown)
                    out[row, offset + position] = 1.0
        return out


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    if type(value) in (float, int, bool):
        return float(value)
    raise NotDirect(value)


@dataclass(frozen=True)
class RecordEncoder:
    """The fitted preprocessing of a runtime-built pipeline, applied to records directly."""

    blocks: tuple[_Numbers | _Categories, ...]
    estimator: Any

    def matrix(self, records: Sequence[dict[str, Any]]) -> np.ndarray:
        """The estimator's input for ``records``; NotDirect when one needs the general path."""
        return np.hstack([block.block(records) for block in self.blocks])


def encoder_for(pipeline: Any) -> RecordEncoder:
    """The direct encoder of ``pipeline``; NotDirect when its shape is not the runtime's."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    from mlplate_runtime.features.build import ProjectInputs

    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 3:
        raise NotDirect("not the runtime's three-step pipeline")
    inputs, preprocess, estimator = (step for _, step in pipeline.steps)
    if type(inputs) is not ProjectInputs or inputs.derived:
        raise NotDirect("derived features")
    if type(preprocess) is not ColumnTransformer or getattr(preprocess, "sparse_output_", True):
        raise NotDirect("not a dense ColumnTransformer")
    if hasattr(estimator, "feature_names_in_"):  # fitted on a DataFrame (transform_output)
        raise NotDirect("an estimator that takes named columns")
    blocks: list[_Numbers | _Categories] = []
    for name, transformer, columns in preprocess.transformers_:
        if transformer == "drop" or len(columns) == 0:
            continue
        if name == "numeric":
            blocks.append(_numbers(transformer, columns))
        elif name == "categorical":
            blocks.append(_categories(transformer, columns))
        else:
            raise NotDirect(f"transformer {name}")
    return RecordEncoder(tuple(blocks), estimator)


def _steps(transformer: Any, kinds: tuple[type, type]) -> list[Any]:
    from sklearn.pipeline import Pipeline

    steps = [step for _, step in transformer.steps] if isinstance(transformer, Pipeline) else []
    if [type(step) for step in steps] != list(kinds):
        raise NotDirect(f"steps {steps}")
    return steps


def _numbers(transformer: Any, columns: Sequence[str]) -> _Numbers:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    imputer, scaler = _steps(transformer, (SimpleImputer, StandardScaler))
    fill = np.asarray(imputer.statistics_, dtype=float)
    if imputer.add_indicator or len(fill) != len(columns) or np.isnan(fill).any():
        raise NotDirect("an imputer that adds or drops columns")
    mean = np.asarray(scaler.mean_, float) if scaler.with_mean else None
    scale = np.asarray(scaler.scale_, float) if scaler.with_std else None
    return _Numbers(tuple(columns), fill, mean, scale)


def _categories(transformer: Any, columns: Sequence[str]) -> _Categories:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    imputer, encoder = _steps(transformer, (SimpleImputer, OneHotEncoder))
    fill = tuple(imputer.statistics_)
    if (
        imputer.add_indicator
        or len(fill) != len(columns)
        or not all(isinstance(value, str) for value in fill)
        or encoder.handle_unknown != "ignore"
        or encoder.drop_idx_ is not None
        or getattr(encoder, "_infrequent_enabled", False)
    ):
        raise NotDirect("an encoder the direct path does not know")
    positions, offsets, width = [], [], 0
    for categories in encoder.categories_:
        if not all(isinstance(category, str) for category in categories):
            raise NotDirect("categories that are not text")
        positions.append({category: index for index, category in enumerate(categories)})
        offsets.append(width)
        width += len(categories)
    return _Categories(tuple(columns), fill, tuple(positions), tuple(offsets), width)


def checked_encoder(
    pipeline: Any, general: Any, probes: list[dict[str, Any]]
) -> RecordEncoder | None:
    """The direct encoder of ``pipeline`` if it gives exactly the general path's matrix on
    ``probes`` (``general(records)``: the preprocessing through pandas and scikit-learn);
    None, and the general path is used, otherwise."""
    try:
        encoder = encoder_for(pipeline)
        direct = encoder.matrix(probes)
    except NotDirect as reason:
        log.debug("scoring records through pandas (%s)", reason)
        return None
    try:
        expected = np.asarray(general(probes), dtype=float)
    except Exception as error:  # the general path has its own errors, per request
        log.warning("cannot check the direct record path (%s); scoring through pandas", error)
        return None
    if direct.shape != expected.shape or not np.array_equal(direct, expected, equal_nan=True):
        log.warning("the direct record path differs from the pipeline's; scoring through pandas")
        return None
    return encoder


def probe_records(contract: Any, rows: int = 48) -> list[dict[str, Any]]:
    """Records of every kind the API lets through: synthetic rows of the contract, each nullable
    feature missing in turn, and a category training never saw."""
    from mlplate_runtime.data.synthetic import json_records, synthetic_frame

    records = json_records(synthetic_frame(contract, rows, seed=0), contract)
    for index, name in enumerate(contract.features):
        spec = contract.columns[name]
        record = dict(records[index % len(records)])
        if spec.nullable:
            records.append({**record, name: None})
        if spec.type == "categorical" and spec.open:
            records.append({**record, name: "a category never seen"})
    return records
