"""Ingest: read a table (CSV or Parquet), whole or in chunks, with one-line errors for files
that are not tables."""

from __future__ import annotations

import csv
import io
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from mlplate_runtime.errors import DataValidationError

PARQUET_SUFFIXES = (".parquet", ".pq")
SNIFF_BYTES = 1 << 16
MAX_HEADER_BYTES = 64 << 20  # a header line longer than this is not a table's
PROGRESS_FROM_BYTES = 50 << 20  # show a progress bar for files larger than this (on a terminal)


def _check_text_header(path: Path) -> None:
    """Refuse binary files and duplicated column names before pandas reads the file."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
        if b"\0" in head:
            raise DataValidationError(
                f"{path} is not a text file (binary data at byte {head.index(0)}); "
                "export it as CSV (UTF-8) or Parquet"
            )
        # The whole header line, however long (a cut name would look like a duplicate).
        while b"\n" not in head and len(head) < MAX_HEADER_BYTES:
            more = handle.read(SNIFF_BYTES)
            if not more:
                break
            head += more
    if b"\n" not in head and len(head) >= MAX_HEADER_BYTES:
        raise DataValidationError(
            f"{path} line 1 is longer than {MAX_HEADER_BYTES >> 20} MB; is it a CSV file?"
        )
    try:
        text = head.split(b"\n", 1)[0].decode("utf-8")
    except UnicodeDecodeError:
        raise DataValidationError(f"{path} is not UTF-8 text; save it as CSV UTF-8") from None
    names = next(csv.reader(io.StringIO(text.rstrip("\r"))), []) if text.strip() else []
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicated:
        raise DataValidationError(
            f"{path} line 1: duplicated column names {duplicated}; give every column its own name"
        )


def _open(path: Path) -> Any:
    """The file, through a progress bar when it is large and a person is watching."""
    if path.stat().st_size >= PROGRESS_FROM_BYTES and sys.stderr.isatty():
        from rich.progress import open as progress_open

        return progress_open(path, "rb", description=f"reading {path.name}")
    return path.open("rb")


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file; any problem with the file itself is a DataValidationError."""
    if not path.is_file():
        raise DataValidationError(f"{path} does not exist")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            frame = pd.read_parquet(path)
        except Exception as error:  # pyarrow raises many types for a damaged file
            raise _parquet_error(path, error) from None
        duplicated = sorted({n for n in frame.columns if list(frame.columns).count(n) > 1})
        if duplicated:
            raise DataValidationError(f"{path}: duplicated column names {duplicated}")
        return frame
    _check_text_header(path)
    with _csv_errors(path, empty="restore it with `make pull`"), _open(path) as handle:
        return pd.read_csv(handle, encoding="utf-8")


@contextmanager
def _csv_errors(path: Path, *, empty: str) -> Iterator[None]:
    """pandas' errors for a file that is not readable CSV, as one line each (``empty``: what to
    do about an empty file)."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path} is empty; {empty}") from None
    except UnicodeDecodeError:
        raise DataValidationError(f"{path} is not UTF-8 text; save it as CSV UTF-8") from None
    except pd.errors.ParserError as error:
        first_line = str(error).strip().splitlines()[0]
        raise DataValidationError(f"{path} is not valid CSV: {first_line}") from None


def _parquet_error(path: Path, error: Exception) -> DataValidationError:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return DataValidationError(f"{path} is not a readable Parquet file: {first}")


def _parquet_chunks(path: Path, rows: int) -> Iterator[tuple[pd.DataFrame, float]]:
    import pyarrow.parquet as pq

    try:
        reader = pq.ParquetFile(path)
        total, done = max(reader.metadata.num_rows, 1), 0
        for batch in reader.iter_batches(batch_size=rows):
            frame = batch.to_pandas()
            frame.index = pd.RangeIndex(done, done + len(frame))
            done += len(frame)
            yield frame, done / total
    except DataValidationError:
        raise
    except Exception as error:  # pyarrow raises many types for a damaged file
        raise _parquet_error(path, error) from None


def read_chunks(path: Path, rows: int) -> Iterator[tuple[pd.DataFrame, float]]:
    """Read a CSV or Parquet file ``rows`` at a time; yield each chunk (index: row positions
    in the file) with the share of the file read so far. CSV values stay text, so every chunk
    has the same column types whatever its values; the contract's checks read the text."""
    if not path.is_file():
        raise DataValidationError(f"{path} does not exist")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        yield from _parquet_chunks(path, rows)
        return
    _check_text_header(path)
    size = max(path.stat().st_size, 1)
    with _csv_errors(path, empty="give a header row and records"), path.open("rb") as handle:
        for frame in pd.read_csv(handle, chunksize=rows, dtype=str, encoding="utf-8"):
            yield frame, min(handle.tell() / size, 1.0)
