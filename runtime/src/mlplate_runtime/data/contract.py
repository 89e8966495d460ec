"""The data contract (data/contract.yaml): columns, types, roles and allowed values.

Validation, features, the API's request model, drift tests, the cards and the tests all
read this one description, so replacing the dataset means replacing the contract.
Validation is vectorised pandas, one pass per column (see the README for why not pandera).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mlplate_runtime.errors import DataValidationError, ProjectError
from mlplate_runtime.yaml_limits import load_yaml

ColumnType = Literal["numeric", "integer", "boolean", "categorical", "datetime"]
Role = Literal["feature", "target", "id", "sensitive", "ignored"]
Category = bool | int | float | str
MAX_LINES_SHOWN = 5
FIRST_DATA_LINE = 2  # as a spreadsheet shows a file: the header is line 1
TRUE_TEXT = frozenset({"true", "1", "1.0", "yes"})
FALSE_TEXT = frozenset({"false", "0", "0.0", "no"})


class ColumnSpec(BaseModel):
    """One column: its type, role, whether it may be missing, and its allowed values.

    Limits the team declares are hard: ``min``/``max``, and ``categories`` of a closed column
    (the default) refuse other values everywhere (validation, a 422 in the API, a rejected row in
    batch). What training data held is soft: ``observed_min``/``observed_max``, and the
    categories of an ``open`` column; other values are scored, counted (the API's /metrics, batch
    summaries) and flagged by monitoring.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ColumnType
    role: Role = "feature"
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    observed_min: float | None = None
    observed_max: float | None = None
    categories: tuple[Category, ...] | None = Field(default=None, min_length=1)
    open: bool = False  # categorical: values beyond `categories` are scored, not refused
    format: str | None = None  # datetime written otherwise than ISO 8601 (strptime codes)
    description: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSpec:
        if self.type == "categorical" and not self.categories and self.role != "ignored":
            raise ValueError("a categorical column needs a list of categories")
        if self.type != "categorical" and (self.categories or self.open):
            raise ValueError(f"a {self.type} column takes no categories or open")
        if self.type in ("categorical", "datetime") and (
            self.observed_min is not None or self.observed_max is not None
        ):
            raise ValueError(f"a {self.type} column takes no observed_min/max")
        if self.type == "datetime" and (self.min is not None or self.max is not None):
            raise ValueError("a datetime column takes no min/max")
        return self

    @model_validator(mode="after")
    def _readable(self) -> ColumnSpec:
        if self.format is not None and self.type != "datetime":
            raise ValueError("only a datetime column takes a format")
        if self.format is not None:
            try:
                pd.to_datetime(pd.Series(["x"]), format=self.format, errors="coerce")
            except ValueError as error:
                raise ValueError(f"format {self.format!r}: {error}") from None
        if self.open and self.role == "target":
            raise ValueError("a target's categories are its classes: it cannot be open")
        for low, high, name in (
            (self.min, self.max, "min"),
            (self.observed_min, self.observed_max, "observed_min"),
        ):
            if low is not None and high is not None and low > high:
                raise ValueError(f"{name} {low} is above {name.replace('min', 'max')} {high}")
        return self

    def unusual(self, values: pd.Series) -> pd.Series:
        """True where a value lies outside what training data held (observed range, or an open
        column's categories): scored, but worth counting. Missing values are not unusual."""
        if self.type == "categorical":
            if not self.open or not self.categories:
                return pd.Series(False, index=values.index)
            known = np.array(values.isin(self.categories) | values.isna(), dtype=bool)
            if not known.all():  # 1.0 read beside gaps is the category 1: compare as text
                text = category_text(values[~known])
                known[~known] = text.isin([str(c) for c in self.categories]).to_numpy(dtype=bool)
            return pd.Series(~known, index=values.index)
        if self.observed_min is None and self.observed_max is None:
            return pd.Series(False, index=values.index)
        numbers = as_numbers(values) if self.type != "boolean" else values.map(as_boolean)
        low = -np.inf if self.observed_min is None else self.observed_min
        high = np.inf if self.observed_max is None else self.observed_max
        return (numbers < low) | (numbers > high)

    @property
    def is_numeric(self) -> bool:
        return self.type in ("numeric", "integer", "boolean")

    def datetimes(self, values: pd.Series) -> pd.Series:
        """A datetime column's values as UTC times (text that is no time becomes NaT)."""
        return parse_datetimes(values, self.format)


class Contract(BaseModel):
    """The dataset: a name, the task, the target, and every column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    task: Literal["classification", "regression"]
    target: str
    example: bool = False
    columns: dict[str, ColumnSpec] = Field(min_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        spec = self.columns.get(self.target)
        if spec is None:
            raise ValueError(f"target {self.target!r} is not one of the columns")
        if spec.role != "target":
            raise ValueError(f"column {self.target!r} is the target: give it role: target")
        others = [
            name for name, c in self.columns.items() if c.role == "target" and name != self.target
        ]
        if others:
            raise ValueError(f"only the target may have role: target, not {others}")
        if spec.nullable:
            raise ValueError(f"target {self.target!r} cannot be nullable")
        if self.task == "classification" and (
            spec.type != "categorical" or len(spec.categories or ()) < 2
        ):
            raise ValueError("a classification target is categorical with at least 2 categories")
        if self.task == "regression" and spec.type not in ("numeric", "integer"):
            raise ValueError("a regression target is numeric or integer")
        if not self.features:
            raise ValueError("no column has role: feature")
        return self

    def _names(self, *roles: str) -> tuple[str, ...]:
        return tuple(name for name, spec in self.columns.items() if spec.role in roles)

    @property
    def features(self) -> tuple[str, ...]:
        """The model's inputs (the API's request fields), in contract order."""
        return self._names("feature")

    @property
    def numeric_features(self) -> tuple[str, ...]:
        return tuple(name for name in self.features if self.columns[name].is_numeric)

    @property
    def categorical_features(self) -> tuple[str, ...]:
        return tuple(name for name in self.features if self.columns[name].type == "categorical")

    @property
    def datetime_features(self) -> tuple[str, ...]:
        """Date and time inputs (the model takes their parts: year, month, day of week...)."""
        return tuple(name for name in self.features if self.columns[name].type == "datetime")

    @property
    def sensitive(self) -> tuple[str, ...]:
        """Columns kept out of the model; metrics are reported per group of each."""
        return self._names("sensitive")

    @property
    def kept(self) -> tuple[str, ...]:
        """Every column the pipeline carries (all but the ignored ones)."""
        return tuple(name for name, spec in self.columns.items() if spec.role != "ignored")

    @property
    def classes(self) -> tuple[Category, ...]:
        """The target's classes (classification), in contract order."""
        return self.columns[self.target].categories or ()


def load_contract(path: Path) -> Contract:
    """Read and check the contract; a mistake in it is one line naming the key."""
    if not path.exists():
        raise ProjectError(f"{path} does not exist; run `make use-data DATA=... TARGET=...`")
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"), str(path))
    except yaml.YAMLError as error:
        raise ProjectError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from None
    try:
        return Contract.model_validate(raw)
    except ValidationError as error:
        raise ProjectError(f"{path}: {first_error(error)}") from None


def _field_names(model: type[BaseModel] | None, path: tuple[Any, ...]) -> list[str]:
    """The keys ``model`` accepts at ``path`` (a nested section's own keys)."""
    for part in path:
        field = model.model_fields.get(str(part)) if model is not None else None
        annotation = field.annotation if field is not None else None
        options = [annotation, *get_args(annotation)] if annotation is not None else []
        model = next(
            (kind for kind in options if isinstance(kind, type) and issubclass(kind, BaseModel)),
            None,
        )
    return list(model.model_fields) if model is not None else []


def first_error(error: ValidationError, model: type[BaseModel] | None = None) -> str:
    """The first problem pydantic found, as 'key.path: message' (an unknown key first, with
    the closest key ``model`` accepts there)."""
    errors = error.errors(include_url=False)
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    found = unknown[0] if unknown else errors[0]
    where = ".".join(str(part) for part in found["loc"]) or "(top level)"
    message = found["msg"]
    if unknown:
        parent = found["loc"][:-1]
        missing = [
            str(e["loc"][-1]) for e in errors if e["type"] == "missing" and e["loc"][:-1] == parent
        ]
        known = missing + _field_names(model, tuple(parent))
        close = difflib.get_close_matches(str(found["loc"][-1]), known, n=1)
        message = "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    more = len(errors) - 1
    return f"{where}: {message}" + (f" (and {more} more)" if more else "")


def contract_yaml(contract: Contract, header: str) -> str:
    """The contract as YAML with a comment header (what `use-data` writes)."""
    body = contract.model_dump(mode="json", exclude_defaults=True)
    body.setdefault("task", contract.task)
    ordered = {
        key: body[key] for key in ("name", "task", "target", "example", "columns") if key in body
    }
    return header + yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)


def category_text(values: pd.Series) -> pd.Series:
    """Values as text for category matching: 1.0 (a whole float read beside gaps) is '1'."""
    if pd.api.types.is_float_dtype(values):
        present = values.dropna()
        if np.isfinite(present).all() and (present % 1 == 0).all():
            values = values.astype("Int64")
    if pd.api.types.is_bool_dtype(values):
        return values.map({True: "True", False: "False"}).astype("string")
    return values.astype("string")


# A time with its zone: 09:30Z, 09:30:00+01:00, 09:30:00.5-0500 (a date alone has none).
ZONE_SUFFIX = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"


def _iso_times(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")


def parse_datetimes(values: pd.Series, form: str | None = None) -> pd.Series:
    """Dates and times as UTC (a time without a zone is read as UTC): datetime columns as they
    are, text in ISO 8601 (2024-01-31, 2024-01-31T09:30:00+01:00) or in ``form`` (strptime
    codes); anything else, numbers included, becomes NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        times = pd.Series(values, index=values.index)
        return times.dt.tz_localize("UTC") if times.dt.tz is None else times.dt.tz_convert("UTC")
    if form is not None and pd.api.types.is_integer_dtype(values):  # 20240131 read as a number
        values = values.astype("string").astype(object)
    dates = values.map(lambda value: isinstance(value, date))  # Parquet DATE: date objects
    if dates.any():
        parsed_dates = pd.to_datetime(values[dates], utc=True)
        rest = parse_datetimes(values.where(~dates, None), form)
        return rest.where(~dates, parsed_dates)
    text = values.where(values.map(lambda value: isinstance(value, str)), None)
    zoned = text.str.contains(ZONE_SUFFIX, regex=True, na=False)
    if zoned.any() and (text.notna() & ~zoned).any():
        # Times with and without a zone apart: pandas 2 reads a time without one in the zone of
        # the first value when the first has one (so the answer would follow the row order).
        parts = [_iso_times(text[zoned]), _iso_times(text[~zoned])]
        parsed = pd.concat(parts).reindex(text.index)
    else:
        parsed = _iso_times(text)
    if form is not None and parsed.isna().any():
        other = pd.to_datetime(text[parsed.isna()], format=form, utc=True, errors="coerce")
        parsed = parsed.fillna(other) if len(other) else parsed
    return pd.Series(parsed, index=values.index)


def as_numbers(values: pd.Series) -> pd.Series:
    """Values as float64; text that is no number becomes NaN (one fast pass when all are)."""
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        try:  # text from pyarrow's reader: its parser (exact, as pandas') in one C pass
            numbers = pc.cast(pa.array(values), pa.float64())
            return pd.Series(numbers.to_numpy(zero_copy_only=False), index=values.index)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # some text is no number (or not in pyarrow's syntax): pandas decides
    try:
        return values.astype("float64")
    except (ValueError, TypeError):
        return pd.to_numeric(values, errors="coerce").astype("float64")


def _lines(mask: pd.Series) -> str:
    labels = mask[mask].index[:MAX_LINES_SHOWN]
    shown = [
        str(int(label) + FIRST_DATA_LINE) if isinstance(label, (int, np.integer)) else str(label)
        for label in labels
    ]
    more = int(mask.sum()) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class Failure:
    """One way a column breaks its spec, and the rows where it does."""

    column: str
    reason: str  # "values above 100"
    rows: pd.Series  # True where the row breaks it
    detail: str = ""  # said after the lines: "; allowed: [...]"
    each: str = ""  # the reason for one row, "{value}" its own value (default: ``reason``)

    def message(self) -> str:
        """'column 'age': values above 100 at lines 7, 9 and 3 more'."""
        return f"column '{self.column}': {self.reason} at lines {_lines(self.rows)}{self.detail}"


def _numeric_failures(
    name: str, spec: ColumnSpec, values: pd.Series, missing: pd.Series
) -> list[Failure]:
    numbers = as_numbers(values).to_numpy(dtype="float64")
    infinite = np.isinf(numbers)
    finite = np.where(infinite, np.nan, numbers)
    with np.errstate(invalid="ignore"):  # NaN compares False, as pandas compares it
        found = [
            (
                f"expected {spec.type} values, found text",
                np.isnan(numbers) & ~missing.to_numpy(dtype=bool),
            ),
            ("infinite values", infinite),
        ]
        if spec.type == "integer":
            found.append(
                ("expected whole numbers", ~np.isnan(finite) & (np.trunc(finite) != finite))
            )
        if spec.min is not None:
            found.append((f"values below {spec.min:g}", finite < spec.min))
        if spec.max is not None:
            found.append((f"values above {spec.max:g}", finite > spec.max))
    return [
        Failure(name, reason, pd.Series(rows, index=values.index))
        for reason, rows in found
        if rows.any()
    ]


def _category_failures(
    name: str, spec: ColumnSpec, values: pd.Series, missing: pd.Series
) -> list[Failure]:
    allowed = spec.categories or ()
    if spec.open:  # other values are scored and counted (ColumnSpec.unusual), not refused
        return []
    matched = values.isin(allowed) | missing
    if matched.all():
        return []
    text = category_text(values[~matched])
    unknown = ~text.isin([str(category) for category in allowed])
    if not unknown.any():
        return []
    rows = pd.Series(False, index=values.index)
    rows[unknown[unknown].index] = True
    found = sorted(set(text[unknown].astype(str)))[:MAX_LINES_SHOWN]
    return [
        Failure(
            name,
            f"unknown categories {found}",
            rows,
            f"; allowed: {list(allowed)}",
            each="unknown category {value}",
        )
    ]


def _boolean_failures(name: str, values: pd.Series, missing: pd.Series) -> list[Failure]:
    if pd.api.types.is_bool_dtype(values):
        return []
    text = values[~missing].astype(str).str.strip().str.lower()
    bad = ~text.isin(TRUE_TEXT | FALSE_TEXT)
    if not bad.any():
        return []
    rows = pd.Series(False, index=values.index)
    rows[bad[bad].index] = True
    return [Failure(name, "expected true/false values", rows)]


def _datetime_failures(
    name: str, spec: ColumnSpec, values: pd.Series, missing: pd.Series
) -> list[Failure]:
    unreadable = spec.datetimes(values).isna() & ~missing
    if not unreadable.any():
        return []
    form = f" or {spec.format}" if spec.format else ""
    reason = f"expected dates or times (ISO 8601, e.g. 2024-01-31 or 2024-01-31T09:30{form})"
    return [Failure(name, reason, unreadable)]


def column_failures(name: str, spec: ColumnSpec, values: pd.Series) -> list[Failure]:
    """Every way one column breaks its spec, with the rows that break it."""
    missing = values.isna()
    if spec.type in ("numeric", "integer"):
        failures = _numeric_failures(name, spec, values, missing)
    elif spec.type == "datetime":
        failures = _datetime_failures(name, spec, values, missing)
    elif spec.type == "boolean":
        failures = _boolean_failures(name, values, missing)
    else:
        failures = _category_failures(name, spec, values, missing)
    # A row without a target is no error: `prepare` drops it and the validation report counts it.
    if not spec.nullable and spec.role != "target" and missing.any():
        failures.append(Failure(name, "missing values", missing))
    return failures


def column_problems(name: str, spec: ColumnSpec, values: pd.Series) -> list[str]:
    """Every way one column breaks its spec, as messages naming the lines."""
    return [failure.message() for failure in column_failures(name, spec, values)]


def unusual_counts(frame: pd.DataFrame, contract: Contract) -> dict[str, int]:
    """Per feature column present in ``frame``, how many values lie outside what training data
    held (only columns with any)."""
    counts = {}
    for name in contract.features:
        if name in frame.columns:
            found = int(contract.columns[name].unusual(frame[name]).sum())
            if found:
                counts[name] = found
    return counts


def row_problems(frame: pd.DataFrame, contract: Contract, columns: Iterable[str]) -> pd.Series:
    """Per row, what is wrong with it ("" for a valid row): the checks of the whole-file validation,
    row by row, over ``columns`` (which must be present)."""
    problems = pd.Series("", index=frame.index, dtype=object)
    for name in columns:
        spec = contract.columns[name]
        for failure in column_failures(name, spec, frame[name]):
            rows = failure.rows.to_numpy(dtype=bool)
            if failure.each:  # each row names its own value, never another row's
                prefix, template = f"{name}: ", failure.each
                own = category_text(frame[name][rows]).map(repr)
                said = prefix + own.map(lambda value, form=template: form.format(value=value))
            else:
                said = pd.Series(f"{name}: {failure.reason}", index=frame.index[rows])
            problems[rows] = (problems[rows] + "; " + said).str.removeprefix("; ")
    return problems


def validation_problems(
    frame: pd.DataFrame, contract: Contract, *, required: Iterable[str] | None = None
) -> list[str]:
    """Every way ``frame`` breaks the contract (empty when valid).

    ``required`` names the columns that must be present (by default every column that is
    not ignored); columns that are present are always checked.
    """
    if frame.empty:
        return ["the dataset has no rows"]
    needed = set(contract.kept if required is None else required)
    problems = [
        f"missing column '{name}'"
        for name in contract.columns
        if name in needed and name not in frame.columns
    ]
    for name, spec in contract.columns.items():
        if name in frame.columns and spec.role != "ignored":
            problems.extend(column_problems(name, spec, frame[name]))
    return problems


def typed(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The contract's kept columns with clean types: floats, whole numbers, booleans, categories."""
    out = {}
    for name in contract.kept:
        spec, values = contract.columns[name], frame[name]
        if spec.type == "numeric" or (
            spec.type == "integer" and (spec.nullable or bool(values.isna().any()))
        ):  # gaps (a nullable column, or a target prepare drops the rows of) need floats
            out[name] = pd.to_numeric(values).astype("float64")
        elif spec.type == "integer":
            out[name] = pd.to_numeric(values).astype("int64")
        elif spec.type == "boolean":
            out[name] = values.map(as_boolean).astype("float64")
        elif spec.type == "datetime":
            out[name] = spec.datetimes(values)
        elif (values.isin(spec.categories or ()) | values.isna()).all():
            out[name] = values  # already the contract's values: no copy into Python objects
        else:  # e.g. 1.0 read beside gaps, or "1" as text, for the category 1
            out[name] = _as_categories(spec, values)
    return pd.DataFrame(out, index=frame.index, copy=False)


def _as_categories(spec: ColumnSpec, values: pd.Series) -> pd.Series:
    """Each value as the contract's category (the category 1 for 1.0 or "1"), as Python objects
    so whole numbers stay whole; an open column keeps a value it has not seen, as text (the
    encoder ignores it), a closed one has none (validation refused them)."""
    categories = list(spec.categories or ())
    text = category_text(values)
    codes = pd.Categorical(text, categories=[str(category) for category in categories]).codes
    objects = np.empty(len(categories) + 1, dtype=object)  # code -1 (no category) is the last
    objects[: len(categories)] = categories
    mapped = pd.Series(objects[codes], index=values.index, dtype=object)
    if spec.open:
        unseen = (codes == -1) & text.notna().to_numpy(dtype=bool)
        mapped[unseen] = text[unseen].astype(object)
    return mapped


def as_boolean(value: object) -> float:
    """True/False, 1/0, yes/no (any case) as 1.0/0.0; missing stays NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    return 1.0 if str(value).strip().lower() in TRUE_TEXT else 0.0


def validate(frame: pd.DataFrame, contract: Contract, *, source: str = "dataset") -> pd.DataFrame:
    """Raise DataValidationError listing every problem; return the typed frame."""
    problems = validation_problems(frame, contract)
    if problems:
        raise DataValidationError(f"{source} breaks the data contract: " + "; ".join(problems))
    return typed(frame, contract)
