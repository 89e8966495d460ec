"""Ingest: where the raw data comes from. Replace ``read_raw`` to use your own source."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from {{ cookiecutter.__package_name }}.data.example import make_customers
from {{ cookiecutter.__package_name }}.errors import DataValidationError


def write_example_data(path: Path, *, n_rows: int, seed: int) -> Path:
    """Write the example dataset to ``path`` (CSV)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    make_customers(n_rows, seed=seed).to_csv(path, index=False)
    return path


def read_raw(path: Path) -> pd.DataFrame:
    """Read the raw dataset. Swap this for a database query, a data-lake read, etc."""
    if not path.exists():
        raise DataValidationError(f"raw data {path} does not exist; run `make data` to create it")
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataValidationError(
            f"raw data {path} is empty; restore it with `dvc checkout`"
        ) from None
    except pd.errors.ParserError as error:
        first_line = str(error).strip().splitlines()[0]
        raise DataValidationError(f"raw data {path} is not valid CSV: {first_line}") from None
