"""Request models built from the data schema, so the API validates what training validated."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from {{ cookiecutter.__package_name }}.data.schema import SCHEMA, Column
from {{ cookiecutter.__package_name }}.features.build import RAW_INPUTS

PYTHON_TYPES: dict[str, type] = {"int": int, "float": float}


def _field(column: Column) -> tuple[Any, Any]:
    kind: Any = (
        Literal[column.categories]  # type: ignore[valid-type]
        if column.kind == "category"
        else PYTHON_TYPES[column.kind]
    )
    if column.nullable:
        kind = kind | None
    return kind, Field(
        default=None if column.nullable else ...,
        ge=column.minimum,
        le=column.maximum,
        description=column.description,
    )


Record: type[BaseModel] = create_model(
    "Record",
    __config__=ConfigDict(extra="forbid"),
    **{column.name: _field(column) for column in SCHEMA if column.name in RAW_INPUTS},
)


def request_model(max_batch_size: int) -> type[BaseModel]:
    """The /predict body: a non-empty batch of at most ``max_batch_size`` records."""
    return create_model(
        "PredictRequest",
        __config__=ConfigDict(extra="forbid"),
        records=(list[Record], Field(min_length=1, max_length=max_batch_size)),  # type: ignore[valid-type]
    )
