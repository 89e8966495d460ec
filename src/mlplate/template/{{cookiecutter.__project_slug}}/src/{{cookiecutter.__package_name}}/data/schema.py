"""The raw data's schema and its validation (plain pandas: fast, no extra dependency).

Edit SCHEMA when your data changes; the data card in the docs is generated from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from {{ cookiecutter.__package_name }}.data.example import (
    CONTRACTS,
    GENDERS,
    PAYMENT_METHODS,
)
from {{ cookiecutter.__package_name }}.errors import DataValidationError

MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class Column:
    """One expected column: its kind, whether it may be missing, its allowed values."""

    name: str
    kind: Literal["int", "float", "category"]
    description: str
    nullable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)


SCHEMA: tuple[Column, ...] = (
    Column("customer_id", "int", "Unique customer identifier", minimum=1),
    Column("age", "int", "Age in years", minimum=18, maximum=100),
    Column(
        "gender", "category", "Self-reported gender (sensitive: fairness only)", categories=GENDERS
    ),
    Column("tenure_months", "int", "Months since sign-up", minimum=0, maximum=600),
    Column("contract", "category", "Contract type", categories=CONTRACTS),
    Column(
        "payment_method", "category", "Payment method", nullable=True, categories=PAYMENT_METHODS
    ),
    Column("monthly_charges", "float", "Monthly bill", minimum=0, maximum=10_000),
    Column("total_charges", "float", "Billed since sign-up", nullable=True, minimum=0),
    Column("support_calls", "int", "Support calls last year", minimum=0, maximum=1_000),
{%- if cookiecutter.task == 'regression' %}
    Column("next_year_spend", "float", "Target: amount billed over the next 12 months", minimum=0),
{%- else %}
    Column("churned", "int", "Target: left within 90 days (1) or not (0)", minimum=0, maximum=1),
{%- endif %}
)


def _rows(mask: pd.Series) -> str:
    rows = [str(label) for label in mask[mask].index[:MAX_ROWS_SHOWN]]
    more = int(mask.sum()) - len(rows)
    return ", ".join(rows) + (f" and {more} more" if more > 0 else "")


def _column_problems(column: Column, values: pd.Series) -> list[str]:
    problems = []
    missing = values.isna()
    if column.kind == "category":
        present = values[~missing].astype(str)
        unknown = ~present.isin(column.categories)
        if unknown.any():
            found = sorted(set(present[unknown]))[:MAX_ROWS_SHOWN]
            problems.append(
                f"column '{column.name}': unknown categories {found} in rows {_rows(unknown)}; "
                f"allowed: {list(column.categories)}"
            )
    else:
        numbers = pd.to_numeric(values, errors="coerce")
        not_numeric = numbers.isna() & ~missing
        if not_numeric.any():
            problems.append(
                f"column '{column.name}': expected {column.kind} values, found text in rows "
                f"{_rows(not_numeric)}"
            )
        if column.kind == "int":
            fractional = numbers.notna() & (numbers % 1 != 0)
            if fractional.any():
                problems.append(
                    f"column '{column.name}': expected whole numbers in rows {_rows(fractional)}"
                )
        low = numbers < column.minimum if column.minimum is not None else None
        high = numbers > column.maximum if column.maximum is not None else None
        for bound, label, limit in (
            (low, "below", column.minimum),
            (high, "above", column.maximum),
        ):
            if bound is not None and bound.any():
                problems.append(
                    f"column '{column.name}': values {label} {limit} in rows {_rows(bound)}"
                )
    if not column.nullable and missing.any():
        problems.append(f"column '{column.name}': missing values in rows {_rows(missing)}")
    return problems


def validation_problems(frame: pd.DataFrame, *, required: Iterable[str] | None = None) -> list[str]:
    """Return every way ``frame`` breaks the schema (empty when it is valid).

    ``required`` limits which columns must be present (all by default); columns that
    are present are always checked.
    """
    if frame.empty:
        return ["dataset has no rows"]
    needed = set(required) if required is not None else {column.name for column in SCHEMA}
    problems = [
        f"missing column '{column.name}'"
        for column in SCHEMA
        if column.name in needed and column.name not in frame.columns
    ]
    for column in SCHEMA:
        if column.name in frame.columns:
            problems.extend(_column_problems(column, frame[column.name]))
    return problems


def validate(frame: pd.DataFrame) -> pd.DataFrame:
    """Raise DataValidationError listing every problem; return the frame with schema types."""
    problems = validation_problems(frame)
    if problems:
        raise DataValidationError("invalid data: " + "; ".join(problems))
    typed = frame[[column.name for column in SCHEMA]].copy()
    for column in SCHEMA:
        if column.kind == "category":
            typed[column.name] = typed[column.name].astype(object)
        elif column.kind == "float":
            typed[column.name] = typed[column.name].astype(float)
        else:
            typed[column.name] = typed[column.name].astype("int64")
    return typed
