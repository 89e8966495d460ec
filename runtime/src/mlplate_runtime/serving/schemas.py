"""Request models built from the data contract, so the API validates what training validated.

Column names that are not Python names ("mean radius", "Petal.Width") keep their exact
spelling as JSON field names (pydantic aliases).
"""

from __future__ import annotations

import keyword
import re
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictFloat,
    StrictInt,
    StrictStr,
    create_model,
)

from mlplate_runtime.data.contract import (
    FALSE_TEXT,
    TRUE_TEXT,
    ColumnSpec,
    Contract,
)

BOOLEAN_TEXT = TRUE_TEXT | FALSE_TEXT


def _whole_number(value: Any) -> Any:
    """40.0 is the JSON number 40; 40.5, "42" and true are left for the strict check to refuse."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _boolean_word(value: Any) -> Any:
    """The spellings the data contract reads as booleans (true/false, yes/no, 1/0)."""
    if isinstance(value, str) and value.strip().lower() in BOOLEAN_TEXT:
        return value.strip().lower() in TRUE_TEXT
    if type(value) is int and value in (0, 1):
        return bool(value)
    return value


# Strict, as the data contract reads values: numbers are JSON numbers (never "3.5" or true),
# integers are whole numbers (40 or 40.0, never "42", 40.5 or true), booleans are true/false or
# the contract's words for them (yes/no, 1/0). The value's range is checked on the type itself
# (before the lenient spellings are read), so the OpenAPI document states it as minimum/maximum.
PYTHON_TYPES: dict[str, tuple[type, tuple[Any, ...]]] = {
    "numeric": (float, ()),
    "integer": (int, (BeforeValidator(_whole_number),)),
    "boolean": (bool, (BeforeValidator(_boolean_word),)),
}


def value_type(spec: ColumnSpec) -> Any:
    """The strict type of a numeric, integer or boolean column, with its range."""
    base, readers = PYTHON_TYPES[spec.type]
    finite = False if spec.type == "numeric" else None
    kind: Any = Annotated[base, Strict(), Field(ge=spec.min, le=spec.max, allow_inf_nan=finite)]
    for reader in readers:  # after the range: Annotated[Annotated[T, a], b] is Annotated[T, a, b]
        kind = Annotated[kind, reader]
    return kind


def datetime_type(spec: ColumnSpec) -> Any:
    """A date or time as text (ISO 8601, or the column's format), kept as sent: the model takes
    it apart as training did."""

    def readable(value: str) -> str:
        # pandas reads it, as training and batch scoring do (Python's own ISO reader takes
        # forms such as 2024-W22-6 that pandas does not)
        if spec.datetimes(pd.Series([value], dtype=object)).isna().iloc[0]:
            form = f" or {spec.format}" if spec.format else ""
            raise ValueError(f"expected a date or time in ISO 8601 (2024-01-31T09:30){form}")
        return value

    return Annotated[StrictStr, AfterValidator(readable)]


def attribute_name(column: str, taken: set[str]) -> str:
    """A unique Python identifier for a column name (the JSON field keeps the original)."""
    name = re.sub(r"\W", "_", column).strip("_").lower() or "column"
    if name[0].isdigit() or keyword.iskeyword(name) or name in dir(BaseModel):
        name = f"f_{name}"
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate


def _field(name: str, spec: ColumnSpec) -> tuple[Any, Any]:
    """A feature is required unless nullable; id, sensitive and ignored columns are optional.

    Ranges sit on the value's own type (inside ``| None``), so the OpenAPI document states
    them as `minimum`/`maximum` where clients and fuzzers read them.
    """
    optional = spec.nullable or spec.role != "feature"
    kind: Any
    if spec.role == "ignored":
        kind = Any
    elif spec.type == "datetime":
        kind = datetime_type(spec)
    elif spec.type == "categorical" and spec.open:  # a value not seen in training is scored
        kind = Literal[spec.categories] | StrictStr | StrictInt | StrictFloat  # type: ignore[valid-type]
    elif spec.type == "categorical":
        kind = Literal[spec.categories]  # type: ignore[valid-type]
    else:
        kind = value_type(spec)
    if optional:
        kind = kind | None
    return kind, Field(
        default=None if optional else ..., alias=name, description=spec.description or None
    )


def record_model(contract: Contract) -> type[BaseModel]:
    """One record: the contract's columns but the target, with their types, ranges, categories.

    Only features reach the model; an id, sensitive or ignored column may come along (a whole
    row of the dataset is a valid request) and is kept in the prediction log.
    """
    taken: set[str] = set()
    fields = {
        attribute_name(name, taken): _field(name, spec)
        for name, spec in contract.columns.items()
        if name != contract.target
    }
    return create_model(  # type: ignore[call-overload, no-any-return]
        "Record", __config__=ConfigDict(extra="forbid", allow_inf_nan=False), **fields
    )


def request_model(record: type[BaseModel], max_batch_size: int) -> type[BaseModel]:
    """The /predict body: a non-empty batch of at most ``max_batch_size`` records."""
    return create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        records=(list[record], Field(min_length=1, max_length=max_batch_size)),  # type: ignore[valid-type]
    )
