"""Request models built from the data contract, so the API validates what training validated.

Column names that are not Python names ("mean radius", "Petal.Width") keep their exact
spelling as JSON field names (pydantic aliases).
"""

from __future__ import annotations

import keyword
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, create_model

from {{ cookiecutter.__package_name }}.data.contract import ColumnSpec, Contract

# Strict: "42", true and 40.0 are not integers; "3.5" is not a number (JSON has numbers).
PYTHON_TYPES: dict[str, Any] = {
    "numeric": Annotated[float, Strict()],
    "integer": Annotated[int, Strict()],
    "boolean": Annotated[bool, Strict()],
}


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
    """A feature is required unless nullable; id, sensitive and ignored columns are optional."""
    optional = spec.nullable or spec.role != "feature"
    kind: Any = (
        Any
        if spec.role == "ignored"
        else Literal[spec.categories]  # type: ignore[valid-type]
        if spec.type == "categorical"
        else PYTHON_TYPES[spec.type]
    )
    if optional:
        kind = kind | None
    return kind, Field(
        default=None if optional else ...,
        alias=name,
        ge=spec.min,
        le=spec.max,
        allow_inf_nan=False if spec.type == "numeric" else None,
        description=spec.description or None,
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
