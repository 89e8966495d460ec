"""`make use-data`: adopt a dataset in one command (copy, infer the contract, point params at it).

Everything is checked before anything is written: a file that is not a table, a target or
sensitive column that does not exist, or data that its own inferred contract rejects (an
infinite value, a single class) stops with one message and changes nothing.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from {{ cookiecutter.__package_name }}.config import RAW_DIR, Settings, load_settings
from {{ cookiecutter.__package_name }}.data.contract import (
    Contract,
    contract_yaml,
    first_error,
    validation_problems,
)
from {{ cookiecutter.__package_name }}.data.infer import infer_contract, infer_task
from {{ cookiecutter.__package_name }}.data.ingest import PARQUET_SUFFIXES, read_table
from {{ cookiecutter.__package_name }}.data.prepare import MIN_ROWS
from {{ cookiecutter.__package_name }}.data.versioning import dvc_add
from {{ cookiecutter.__package_name }}.errors import DataValidationError, ProjectError
from {{ cookiecutter.__package_name }}.params_file import set_values

CONTRACT_HEADER = """\
# The data contract: the one description of the dataset. Validation, features, the API's
# request fields, drift tests, the data and model cards and the tests all read it.
# Inferred by `make use-data`: review types, ranges, categories and roles, then commit it.
#
# Per column: type (numeric, integer, boolean, categorical), role (feature, target, id,
# sensitive, ignored; default feature), nullable (default false), min / max, categories.
"""
DEFAULT_METRIC = {"classification": "roc_auc", "regression": "rmse"}


@dataclass
class Adoption:
    """What `use-data` did, for the summary it prints."""

    contract: Contract
    raw_path: Path
    rows: int
    registered_model: str
    notes: list[str] = field(default_factory=list)


def dataset_name(path: Path) -> str:
    """A lower-case, dash-separated name from the file name ("Breast Cancer.csv" -> breast-cancer)."""
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "dataset"


def _check_columns(
    frame: pd.DataFrame, path: Path, target: str, sensitive: tuple[str, ...]
) -> None:
    columns = [str(name) for name in frame.columns]
    for name, what in [(target, "TARGET"), *((s, "SENSITIVE") for s in sensitive)]:
        if name not in columns:
            raise ProjectError(
                f"{what} {name!r} is not a column of {path}; its columns are {columns}"
            )
    if target in sensitive:
        raise ProjectError(f"{target!r} cannot be both the target and a sensitive column")
    if len(frame) < MIN_ROWS:
        raise DataValidationError(f"{path} has {len(frame)} rows; at least {MIN_ROWS} are needed")


def _promotion_values(contract: Contract, frame: pd.DataFrame) -> dict[str, object]:
    """The gate's metric and margins: fixed for classification, in target units for regression."""
    values: dict[str, object] = {"evaluate.primary_metric": DEFAULT_METRIC[contract.task]}
    if contract.task == "regression":
        spread = float(frame[contract.target].std()) or 1.0
        values["promotion.min_delta"] = float(f"{spread * 0.005:.3g}")
        values["promotion.max_regression"] = float(f"{spread * 0.02:.3g}")
    else:
        values["promotion.min_delta"] = 0.002
        values["promotion.max_regression"] = 0.01
    return values


def use_data(
    settings: Settings,
    source: Path,
    *,
    target: str,
    task: str | None = None,
    sensitive: tuple[str, ...] = (),
) -> Adoption:
    """Adopt ``source`` as the project's dataset; return what was inferred."""
    frame = read_table(source)
    _check_columns(frame, source, target, sensitive)
    name = dataset_name(source)
    if (task or infer_task(frame[target])) == "classification" and frame[target].nunique() < 2:
        raise DataValidationError(f"{source}: the target {target!r} has a single class")
    try:
        contract, notes = infer_contract(
            frame, name=name, target=target, task=task, sensitive=sensitive
        )
    except ValidationError as error:
        raise ProjectError(f"{source}: cannot describe this data: {first_error(error)}") from None
    problems = validation_problems(frame, contract)
    if problems:
        raise DataValidationError(f"{source}: " + "; ".join(problems))

    suffix = ".parquet" if source.suffix.lower() in PARQUET_SUFFIXES else ".csv"
    raw_path = RAW_DIR / f"{name}{suffix}"
    destination = settings.path(raw_path)
    old_raw = settings.path(settings.params.data.raw_path)
    registered = f"{settings.params.mlflow.experiment}-{name}"

    destination.parent.mkdir(parents=True, exist_ok=True)
    if source.resolve() != destination.resolve():
        shutil.copyfile(source, destination)
    if (
        settings.contract.example
        and old_raw.exists()
        and old_raw.resolve() != destination.resolve()
    ):
        old_raw.unlink()  # the example is regenerated by code; nothing of the user's is lost
    elif old_raw.exists() and old_raw.resolve() != destination.resolve():
        notes.append(
            f"{old_raw.name} is still in {RAW_DIR}/ (tracked); delete it if you no longer need it"
        )
    settings.path(settings.params.data.contract_path).write_text(
        contract_yaml(contract, CONTRACT_HEADER)
    )
    set_values(
        settings.root / "params.yaml",
        {
            "data.raw_path": raw_path.as_posix(),
            "mlflow.registered_model": registered,
            **_promotion_values(contract, frame),
        },
    )
    load_settings(settings.root / "params.yaml")  # what was written reads back
    dvc_add(settings, destination.parent)
    return Adoption(contract, raw_path, len(frame), registered, notes)
