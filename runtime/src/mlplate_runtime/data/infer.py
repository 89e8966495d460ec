"""Infer a data contract from a table: types, observed ranges and categories, nullability.

What it infers is what the data held (soft: other values are scored and counted), never a
limit: only a team declares `min`/`max` or a closed list of categories.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from mlplate_runtime.data.contract import (
    FALSE_TEXT,
    TRUE_TEXT,
    ColumnSpec,
    ColumnType,
    Contract,
    Role,
    parse_datetimes,
)

MAX_CATEGORIES = 50  # more distinct texts than this: free text or an identifier, ignored
MAX_CLASSES = 20  # a whole-number target with at most this many values is a class label


def _outward(value: float, *, down: bool) -> float:
    """``value`` to 6 significant digits, rounded down or up (the range still holds it)."""
    if value == 0 or not math.isfinite(value):
        return value
    step = 10.0 ** (math.floor(math.log10(abs(value))) - 5)
    scaled = value / step
    if abs(scaled - round(scaled)) < 1e-6:  # already 6 digits (5.0 / 1e-5 is 499999.99...)
        scaled = round(scaled)
    digits = math.floor(scaled) if down else math.ceil(scaled)
    return float(f"{digits * step:.6g}")


def _whole(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(
        pd.api.types.is_integer_dtype(values)
        or (np.isfinite(present).all() and (present % 1 == 0).all())
    )


def _observed(values: pd.Series, *, whole: bool) -> tuple[float, float]:
    """The smallest and largest finite value (rounded outward to 6 significant digits)."""
    finite = values[np.isfinite(values)] if len(values) else values
    low, high = float(finite.min()), float(finite.max())
    if whole:
        return float(math.floor(low)), float(math.ceil(high))
    return _outward(low, down=True), _outward(high, down=False)


def _is_boolean(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values):
        return True
    if pd.api.types.is_numeric_dtype(values):
        return False
    text = values.dropna().astype(str).str.strip().str.lower()
    return (
        len(text) > 0
        and text.isin(TRUE_TEXT | FALSE_TEXT).all()
        and text.nunique() <= 2
        and not text.isin({"0", "1"}).all()
    )


def _looks_like_id(name: str, values: pd.Series) -> bool:
    words = re.findall(r"[A-Za-z0-9]+", name)
    named = (bool(words) and words[-1].lower() == "id") or bool(
        re.search(r"[a-z0-9]Id$|_id$", name)
    )
    return named and bool(values.notna().all()) and bool(values.is_unique)


def _categories(values: pd.Series, *, whole: bool) -> tuple[Any, ...]:
    present = values.dropna()
    if pd.api.types.is_numeric_dtype(present) and whole:
        return tuple(int(v) for v in sorted(present.unique()))
    return tuple(sorted(str(v) for v in present.unique()))


# Formats tried, in order, when a text column is not ISO 8601 (day first before month first:
# both read 03/04/2024, and a note asks for a review then).
DATE_FORMATS = (
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
)
DATE_SAMPLE = 1000  # values tried per column (all must read as times)


def datetime_format(values: pd.Series) -> tuple[bool, str | None, str | None]:
    """(is a datetime column, its strptime format when not ISO 8601, a note on ambiguity)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return True, None, None
    present = values.dropna()
    if (
        present.empty
        or pd.api.types.is_numeric_dtype(present)
        or pd.api.types.is_bool_dtype(present)
    ):
        return False, None, None
    sample = present.iloc[:DATE_SAMPLE]
    if sample.map(lambda value: isinstance(value, date)).all():  # Parquet DATE columns
        return parse_datetimes(present).notna().all(), None, None
    if not sample.map(lambda value: isinstance(value, str)).all():
        return False, None, None
    # ISO 8601 needs a year, month and day (pandas would read "2024" or "12" as dates too)
    if sample.str.match(r"^\d{4}-\d{2}-\d{2}").all() and parse_datetimes(sample).notna().all():
        readable: list[str | None] = [None]
    else:
        readable = [
            form
            for form in DATE_FORMATS
            if pd.to_datetime(sample, format=form, errors="coerce").notna().all()
        ]
    # every value, not only the sample, must read (else it is text, and validation would fail)
    if not readable or parse_datetimes(present, readable[0]).isna().any():
        return False, None, None
    note = None
    if len(readable) > 1 and readable[0] and readable[1] == readable[0].replace("%d/%m", "%m/%d"):
        note = f"reads as day/month and as month/day: check `format: {readable[0]}`"
    return True, readable[0], note


def infer_task(values: pd.Series) -> str:
    """Classification for text, booleans or few whole numbers; regression otherwise."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return "classification"
    return "classification" if _whole(values) and values.nunique() <= MAX_CLASSES else "regression"


def infer_column(
    name: str, values: pd.Series, *, role: Role, task: str
) -> tuple[ColumnSpec, str | None]:
    """One column's spec, and a note for the user to review when the guess is uncertain."""
    nullable = bool(values.isna().any())
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    whole = numeric and _whole(values)
    if role == "target" and task == "classification":
        return ColumnSpec(
            type="categorical", role=role, categories=_categories(values, whole=whole)
        ), None
    if _is_boolean(values):
        return ColumnSpec(type="boolean", role=role, nullable=nullable), None
    is_time, form, ambiguous = datetime_format(values)
    if is_time and role != "target":
        spec = ColumnSpec(type="datetime", role=role, nullable=nullable, format=form)
        return spec, f"'{name}' {ambiguous}" if ambiguous else None
    if numeric:
        if role == "feature" and whole and _looks_like_id(name, values):
            return ColumnSpec(type="integer", role="id"), (
                f"'{name}' looks like an identifier: role id (not a model input)"
            )
        low, high = _observed(values.dropna().astype(float), whole=whole)
        kind: ColumnType = "integer" if whole else "numeric"
        spec = ColumnSpec(
            type=kind, role=role, nullable=nullable, observed_min=low, observed_max=high
        )
        return spec, None
    distinct = values.dropna().astype(str).nunique()
    if role == "feature" and distinct > MAX_CATEGORIES:
        return (
            ColumnSpec(type="categorical", role="ignored", nullable=True),
            f"'{name}' has {distinct} distinct texts (free text or an identifier): ignored",
        )
    return ColumnSpec(
        type="categorical",
        role=role,
        nullable=nullable,
        categories=_categories(values, whole=False),
        open=True,  # the categories training data held; a new one is scored and counted
    ), None


def infer_contract(
    frame: pd.DataFrame,
    *,
    name: str,
    target: str,
    task: str | None = None,
    sensitive: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> tuple[Contract, list[str]]:
    """A contract describing ``frame``, and notes on what deserves a review. ``exclude`` names
    columns left out of everything (role ignored). Rows without a target are `prepare`'s to
    drop: the target is described from the others."""
    labels = frame[target].dropna()
    notes = (
        []
        if task
        else [f"task: {infer_task(labels)} (guessed from the target's values; TASK= sets it)"]
    )
    task = task or infer_task(labels)
    columns = {}
    for column in frame.columns:
        if column in exclude:
            columns[str(column)] = ColumnSpec(type="categorical", role="ignored", nullable=True)
            continue
        role: Role = (
            "target" if column == target else "sensitive" if column in sensitive else "feature"
        )
        values = labels if column == target else frame[column]
        spec, note = infer_column(str(column), values, role=role, task=task)
        columns[str(column)] = spec
        if note:
            notes.append(note)
    contract = Contract(name=name, task=task, target=target, columns=columns)  # type: ignore[arg-type]
    return contract, notes
