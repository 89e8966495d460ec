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

import numpy as np
import pandas as pd

from mlplate_runtime.errors import DataValidationError

PARQUET_SUFFIXES = (".parquet", ".pq")
SNIFF_BYTES = 1 << 16
MAX_HEADER_BYTES = 64 << 20  # a header line longer than this is not a table's
PROGRESS_FROM_BYTES = 50 << 20  # show a progress bar for files larger than this (on a terminal)


def _check_text_header(path: Path) -> list[str]:
    """Refuse binary files and duplicated column names before pandas reads the file; return
    the column names (as Python's csv module reads the header line)."""
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
    return names


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
        # Numbers exactly as written (pandas 2's default parser may miss the last bit; the
        # chunked stages keep the text, so both read 0.1 + 0.2 as the same float).
        return pd.read_csv(handle, encoding="utf-8", float_precision="round_trip")


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
            frame = batch.to_pandas(types_mapper=_as_text)
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
    has the same column types whatever its values; the contract's checks read the text.

    CSV goes through pyarrow's streaming reader (a few blocks of about ``rows`` rows in memory,
    never the file), read as pandas reads it: the same missing-value markers, blank lines
    skipped. A file pyarrow refuses (a ragged row, a quote never closed, bytes that are no
    UTF-8) is read on from the chunk it stopped at by pandas, which pads a short row with gaps
    and names the line of any other problem, as before.
    """
    if not path.is_file():
        raise DataValidationError(f"{path} does not exist")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        yield from _parquet_chunks(path, rows)
        return
    names = _check_text_header(path)
    done = 0
    if names and all(names) and path.stat().st_size > 0:
        try:
            for frame, fraction in _arrow_chunks(path, names, rows):
                done += len(frame)
                yield frame, fraction
            return
        except _ArrowRefused:
            pass  # pandas reads on from the chunk pyarrow could not read
    yield from _pandas_chunks(path, rows, skip=done // rows)


def _pandas_chunks(path: Path, rows: int, *, skip: int) -> Iterator[tuple[pd.DataFrame, float]]:
    """pandas' chunked reader, after ``skip`` chunks (read by pyarrow already)."""
    size = max(path.stat().st_size, 1)
    with _csv_errors(path, empty="give a header row and records"), path.open("rb") as handle:
        chunks = pd.read_csv(handle, chunksize=rows, dtype=str, encoding="utf-8")
        for number, frame in enumerate(chunks):
            if number >= skip:
                yield frame.astype(TEXT), min(handle.tell() / size, 1.0)


class _ArrowRefused(Exception):
    """pyarrow could not read a block: pandas takes over."""


# What pandas reads as missing (pandas._libs.parsers.STR_NA_VALUES; a test keeps them equal).
MISSING_TEXT = (
    *("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND"),
    *("1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"),
)
MAX_BLOCK_BYTES = 1 << 20


def _block_bytes(path: Path, rows: int) -> int:
    """Bytes of about ``rows`` rows (from the lines of the file's first 64 KB), at most 1 MB:
    pyarrow parses small blocks faster; they are joined into chunks of ``rows`` rows."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    per_row = max(len(head) / max(head.count(b"\n"), 1), 1.0)
    return int(min(max(rows * per_row, SNIFF_BYTES), MAX_BLOCK_BYTES))


def _has_quotes(path: Path) -> bool:
    """Whether the file holds a double quote anywhere (only then can a value hold a line
    break, which pyarrow's faster parsing mode cannot read). Read 1 MB at a time: mapping the
    file would count it all as this process's memory."""
    with path.open("rb") as handle:
        while block := handle.read(MAX_BLOCK_BYTES):
            if b'"' in block:
                return True
    return False


# Text as pandas 3 holds it (Arrow-backed, gaps as NaN), under pandas 2 too: the checks and
# the stages see one kind of column whichever pandas a project has.
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def _as_text(kind: Any) -> Any:
    """The pandas type of an Arrow type when a table becomes a frame (text: TEXT)."""
    import pyarrow as pa

    return TEXT if kind in (pa.string(), pa.large_string()) else None


def _text_frame(table: Any, start: int) -> pd.DataFrame:
    """An Arrow table of text as a frame of TEXT columns (gaps as NaN), indexed by row
    positions from ``start``."""
    frame = table.to_pandas(types_mapper=_as_text)
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def _arrow_chunks(path: Path, names: list[str], rows: int) -> Iterator[tuple[pd.DataFrame, float]]:
    """Chunks of exactly ``rows`` rows (the last one fewer) from pyarrow's streaming reader;
    raises _ArrowRefused where it cannot read on."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    size = max(path.stat().st_size, 1)
    options = {
        "read_options": pa_csv.ReadOptions(block_size=_block_bytes(path, rows), use_threads=False),
        "parse_options": pa_csv.ParseOptions(newlines_in_values=_has_quotes(path)),
        "convert_options": pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            null_values=list(MISSING_TEXT),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    }
    with path.open("rb") as handle:
        try:
            reader = pa_csv.open_csv(handle, **options)
        except pa.ArrowInvalid:
            raise _ArrowRefused from None
        if reader.schema.names != names or any(kind != pa.string() for kind in reader.schema.types):
            raise _ArrowRefused  # e.g. a header pandas reads otherwise
        pending: list[Any] = []
        held, done = 0, 0

        def emit(table: Any) -> tuple[pd.DataFrame, float]:
            nonlocal done
            frame = _text_frame(table, done)
            done += len(frame)
            return frame, min(handle.tell() / size, 1.0)

        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid:
                raise _ArrowRefused from None
            pending.append(batch)
            held += batch.num_rows
            if held >= rows:
                table = pa.Table.from_batches(pending)
                start = 0
                while held - start >= rows:
                    yield emit(table.slice(start, rows))
                    start += rows
                pending = table.slice(start).to_batches() if held > start else []
                held -= start
        if held or not done:  # the last rows; a header without rows is one empty chunk
            yield emit(pa.Table.from_batches(pending, schema=reader.schema))
