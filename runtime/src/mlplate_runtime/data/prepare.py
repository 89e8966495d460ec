"""Stages `validate` and `prepare`: check the raw data against the contract, then split it."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mlplate_runtime.config import Settings, Split
from mlplate_runtime.data import csv_text
from mlplate_runtime.data.contract import (
    FIRST_DATA_LINE,
    MAX_LINES_SHOWN,
    TRUE_TEXT,
    ColumnSpec,
    Contract,
    Failure,
    _as_categories,
    as_boolean,
    as_numbers,
    category_text,
    column_failures,
)
from mlplate_runtime.data.ingest import PARQUET_SUFFIXES, read_chunks
from mlplate_runtime.errors import DataValidationError, ProjectError
from mlplate_runtime.streams import WriteBehind, read_ahead

log = logging.getLogger(__name__)
MIN_ROWS = 20  # fewer cannot train a model and still hold out a test split
MIN_ROWS_PER_CLASS = 2
CHUNK_ROWS = 100_000  # rows read, checked and typed at a time: memory holds a few chunks


def check_raw_data(settings: Settings) -> dict[str, int]:
    """Validate the raw file against the contract (stage `validate`); return its shape.

    The file is read in chunks (memory holds a few, never the file); the problems are those
    of the whole file, as one message. Nothing is written on invalid data, so DVC never runs
    the stages after it and their outputs stay as they were.
    """
    scan = _scan(settings, keep=None)
    summary = {
        "rows": scan.rows,
        "columns": len(scan.columns),
        "rows_without_target": scan.rows - scan.labelled,  # `prepare` drops them
    }
    report = settings.path(settings.params.data.validation_report)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def check_trainable(frame: pd.DataFrame, settings: Settings) -> None:
    """Enough rows, and for classification at least two classes with two rows each."""
    contract = settings.contract
    counts = frame[contract.target].value_counts() if contract.task == "classification" else None
    _check_counts(len(frame), counts, settings)


def _check_counts(rows: int, counts: pd.Series | None, settings: Settings) -> None:
    """check_trainable from the labelled rows' count and (classification) per-class counts,
    most frequent first."""
    contract, path = settings.contract, settings.params.data.raw_path
    if rows < MIN_ROWS:
        raise DataValidationError(
            f"{path} has {rows} rows; at least {MIN_ROWS} are needed to train and hold out a test split"
        )
    if counts is not None:
        if len(counts) < 2:
            raise DataValidationError(
                f"{path}: the target '{contract.target}' has a single class ({counts.index[0]!r}); "
                "a classifier needs at least two"
            )
        rare = sorted(str(label) for label, n in counts.items() if n < MIN_ROWS_PER_CLASS)
        if rare:
            raise DataValidationError(
                f"{path}: classes {rare} of '{contract.target}' have fewer than {MIN_ROWS_PER_CLASS} rows; "
                "collect more examples or merge them into another class"
            )


def test_rows(strata: pd.Series, *, test_size: float, seed: int) -> np.ndarray:
    """A mask of held-out rows: each stratum's share is the same in train and test.

    Works on the strata alone (row positions per stratum), so the data is never copied.
    """
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(strata), dtype=bool)
    for _, positions in sorted(strata.groupby(strata, sort=True, observed=True).indices.items()):
        n_test = max(1, round(len(positions) * test_size)) if len(positions) > 1 else 0
        mask[positions[rng.permutation(len(positions))[:n_test]]] = True
    return mask


def split_strata(frame: pd.DataFrame, settings: Settings) -> pd.Series:
    """Classes for classification; deciles of the target for regression."""
    target = frame[settings.contract.target]
    if settings.contract.task == "classification":
        return target.astype(str)
    return pd.qcut(target, q=10, labels=False, duplicates="drop")


def time_column(settings: Settings) -> str:
    """The column a time split orders rows by: data.time_column, or the one datetime column."""
    contract, chosen = settings.contract, settings.params.data.time_column
    times = [name for name in contract.kept if contract.columns[name].type == "datetime"]
    if chosen is not None:
        if chosen not in times:
            raise ProjectError(
                f"params.yaml data.time_column {chosen!r} is not a datetime column the contract "
                f"keeps (an ignored one is left out: give it role id); its datetime columns: {times}"
            )
        return chosen
    if len(times) != 1:
        raise ProjectError(
            "params.yaml data.split is time: name the column that orders the rows in "
            f"data.time_column (the contract's datetime columns: {times or 'none'})"
        )
    return times[0]


def latest_rows(times: pd.Series, *, test_size: float) -> np.ndarray:
    """A mask of the latest ``test_size`` share of rows (missing times count as the earliest)."""
    n_test = max(1, round(len(times) * test_size))
    # sorted in the times' own unit (nanoseconds cannot hold 9999-12-31, a common sentinel)
    ordered = times.reset_index(drop=True).sort_values(kind="stable", na_position="first")
    order = ordered.index.to_numpy()
    mask = np.zeros(len(times), dtype=bool)
    mask[order[len(order) - n_test :]] = True
    return mask


def _warn_of_unseen_classes(
    settings: Settings, classes: list[str], codes: np.ndarray, held_out: np.ndarray
) -> None:
    """A time split can hold out every row of a class (one that appeared lately): the model
    never learns it. Said, not refused: the holdout is still the honest future.
    (``codes``: each labelled row's class, a position in ``classes``.)"""
    held, kept = set(codes[held_out].tolist()), set(codes[~held_out].tolist())
    unseen = sorted(classes[code] for code in held - kept)
    if unseen:
        log.warning(
            "the time split holds out every row of the classes %s of %r: the model never sees "
            "them in training (a smaller data.test_size trains on more recent rows)",
            unseen,
            settings.contract.target,
        )


def prepare(settings: Settings) -> tuple[int, int]:
    """Run the stage; return the (train, test) row counts. Writes nothing on invalid data.

    Two passes, at bounded memory: the first reads the raw file in chunks, checks each against
    the contract, and keeps the typed labelled rows in a temporary Arrow file beside the
    outputs (and, in memory, only what the split needs: each row's class, target or time); the
    split is then decided from those exactly as on the whole table (``test_rows``,
    ``latest_rows``), and the second pass writes each chunk's rows to train or test, in
    pandas' CSV notation.
    """
    data = settings.params.data
    ordered_by = time_column(settings) if data.split == "time" else None
    prepared = settings.path(data.prepared_dir)
    with _spill_file(prepared.parent) as spill:
        scan = _scan(settings, keep=spill, ordered_by=ordered_by)
        if scan.labelled < scan.rows:  # nothing to learn from or score against
            log.info("dropping %d rows without a target", scan.rows - scan.labelled)
        if ordered_by is not None:
            times = pd.concat(scan.times, ignore_index=True) if scan.times else pd.Series()
            held_out = latest_rows(times, test_size=data.test_size)
            if settings.contract.task == "classification":
                codes = np.concatenate(scan.codes) if scan.codes else np.zeros(0, np.int16)
                _warn_of_unseen_classes(settings, scan.class_text, codes, held_out)
        else:
            held_out = test_rows(scan.strata(), test_size=data.test_size, seed=settings.params.seed)
        prepared.mkdir(parents=True, exist_ok=True)
        _write_splits(settings, scan, spill, held_out)
    return int((~held_out).sum()), int(held_out.sum())


@contextmanager
def _spill_file(folder: Path) -> Iterator[Path]:
    """A temporary file in ``folder`` (on the disk the outputs go to, not in memory)."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".prepare-", suffix=".arrow", dir=folder)
    os.close(handle)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


@dataclass
class _Found:
    """One way a column breaks the contract, over the chunks read so far."""

    column: str
    reason: str
    detail: str
    lines: list[int] = field(default_factory=list)  # the first rows (positions in the file)
    count: int = 0
    categories: list[str] | None = None  # unknown categories: the smallest seen

    def message(self) -> str:
        reason = self.reason
        if self.categories is not None:
            reason = f"unknown categories {self.categories}"
        shown = ", ".join(str(line + FIRST_DATA_LINE) for line in self.lines)
        more = self.count - len(self.lines)
        where = shown + (f" and {more} more" if more > 0 else "")
        return f"column '{self.column}': {reason} at lines {where}{self.detail}"


# The order column_failures says a column's problems in (a chunk can lack the earlier ones).
REASON_ORDER = (
    "expected numeric",
    "expected integer",
    "infinite",
    "expected whole",
    "values below",
    "values above",
    "expected dates",
    "expected true",
    "unknown categories",
    "missing values",
)


def _reason_key(reason: str) -> str:
    return "unknown categories" if reason.startswith("unknown categories") else reason


def _rank(reason: str) -> int:
    return next(
        (rank for rank, start in enumerate(REASON_ORDER) if reason.startswith(start)),
        len(REASON_ORDER),
    )


@dataclass
class _Scan:
    """What the first pass learns: the file's shape, its problems, and what the split needs."""

    contract: Contract
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    labelled: int = 0
    found: dict[tuple[str, str], _Found] = field(default_factory=dict)
    class_text: list[str] = field(default_factory=list)
    class_counts: np.ndarray | None = None
    codes: list[np.ndarray] = field(default_factory=list)  # classification: per labelled row
    targets: list[np.ndarray] = field(default_factory=list)  # regression: per labelled row
    times: list[pd.Series] = field(default_factory=list)  # time split: per labelled row
    gaps: set[str] = field(default_factory=set)  # columns pandas holds as floats (written 1.0)
    csv: bool = True  # the raw file is CSV (text pandas infers types of), not Parquet
    time_units: list[dict[str, str]] = field(default_factory=list)  # per chunk kept
    time_digits: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, failure: Failure, values: pd.Series) -> None:
        key = (failure.column, _reason_key(failure.reason))
        found = self.found.get(key)
        if found is None:
            found = self.found[key] = _Found(failure.column, failure.reason, failure.detail)
        rows = failure.rows.to_numpy(dtype=bool)
        if len(found.lines) < MAX_LINES_SHOWN:
            labels = failure.rows.index[rows][: MAX_LINES_SHOWN - len(found.lines)]
            found.lines.extend(int(label) for label in labels)
        found.count += int(rows.sum())
        if key[1] == "unknown categories":
            text = set(category_text(values[rows]).astype(str))
            found.categories = sorted(text | set(found.categories or []))[:MAX_LINES_SHOWN]

    def check(self, chunk: pd.DataFrame, *, typing: bool) -> bool:
        """Check a chunk against the contract and count its rows (``typing``: and note how
        pandas would type its columns); False once the file is refused (a problem in this
        chunk or an earlier one)."""
        contract = self.contract
        if not self.columns:
            self.columns = list(chunk.columns)
        self.rows += len(chunk)
        for name, spec in contract.columns.items():
            if name in chunk.columns and spec.role != "ignored":
                values = _as_pandas_reads(spec, chunk[name])
                for failure in column_failures(name, spec, values):
                    self.add(failure, values)
        if self.found or any(name not in chunk.columns for name in contract.kept):
            return False
        self.labelled += int(chunk[contract.target].notna().sum())
        for name in contract.kept if typing else ():
            spec, values = contract.columns[name], chunk[name]
            if spec.type == "integer" and (spec.nullable or values.isna().any()):
                self.gaps.add(name)  # `typed` makes floats of the column
            elif _read_as_floats(spec, values, csv=self.csv):
                self.gaps.add(name)  # pandas reads these categories as floats: 1.0
        return True

    def count_classes(self, target: pd.Series) -> np.ndarray:
        """Count the classes of labelled rows (classification); return each row's class, as
        its position in the contract's classes."""
        if self.class_counts is None:
            return np.zeros(0, dtype=np.int16)
        target = _as_pandas_reads(self.contract.columns[self.contract.target], target)
        labels = _arrow(target) if _is_arrow_text(target) else _arrow(category_text(target))
        found = pc.index_in(labels, value_set=pa.array(self.class_text))
        codes = found.to_numpy(zero_copy_only=False).astype(np.int16)  # valid: all found
        self.class_counts += np.bincount(codes, minlength=len(self.class_text))
        return codes

    def classes(self) -> pd.Series | None:
        """Classification: rows per class present (the contract's values), most first."""
        if self.class_counts is None:
            return None
        present = np.flatnonzero(self.class_counts)
        order = present[np.argsort(-self.class_counts[present], kind="stable")]
        labels = pd.Index([self.contract.classes[i] for i in order], dtype=object)
        return pd.Series(self.class_counts[order], index=labels)

    def problems(self) -> list[str]:
        if not self.rows:
            return ["the dataset has no rows"]
        missing = [
            f"missing column '{name}'" for name in self.contract.kept if name not in self.columns
        ]
        order = list(self.contract.columns)
        found = sorted(self.found.values(), key=lambda f: (order.index(f.column), _rank(f.reason)))
        return missing + [f.message() for f in found]

    def strata(self) -> pd.Series:
        """test_rows' strata: the class (as text) of each labelled row, or its target decile."""
        if self.contract.task == "classification":
            codes = np.concatenate(self.codes) if self.codes else np.zeros(0, dtype=np.int16)
            return pd.Series(pd.Categorical.from_codes(codes, categories=self.class_text))
        target = pd.Series(np.concatenate(self.targets) if self.targets else np.zeros(0))
        return pd.qcut(target, q=10, labels=False, duplicates="drop")


def _scan(settings: Settings, *, keep: Path | None, ordered_by: str | None = None) -> _Scan:
    """The first pass over the raw file: check every chunk; unless it breaks the contract,
    count what the split needs and (``keep``) write its typed labelled rows there."""
    contract, path = settings.contract, settings.path(settings.params.data.raw_path)
    scan = _Scan(
        contract,
        class_text=[str(c) for c in contract.classes],
        csv=path.suffix.lower() not in PARQUET_SUFFIXES,
    )
    if contract.task == "classification":
        scan.class_counts = np.zeros(len(contract.classes), dtype=np.int64)
    writer = None
    try:
        # pyarrow parses the next chunk (without the GIL) while this one is checked and typed
        for chunk, _ in read_ahead(read_chunks(path, CHUNK_ROWS), depth=1):
            if not scan.check(chunk, typing=keep is not None):
                continue  # the file is refused: only its problems are counted from here
            labelled = chunk[chunk[contract.target].notna()]
            if keep is None:  # validation only: the classes are all it counts
                scan.count_classes(labelled[contract.target])
                continue
            if labelled.empty:  # no batch in the spill file (pass 2 counts the batches it reads)
                continue
            table = _typed_rows(labelled, scan, ordered_by)
            writer = writer or pa.ipc.new_stream(str(keep), table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    problems = scan.problems()
    if problems:
        raise DataValidationError(f"{path} breaks the data contract: " + "; ".join(problems))
    _check_counts(scan.labelled, scan.classes(), settings)
    return scan


def _typed_rows(chunk: pd.DataFrame, scan: _Scan, ordered_by: str | None) -> pa.Table:
    """A chunk's labelled rows, typed as `typed` types them, in the columns the splits get
    (text for categories, int64 for whole numbers, int64 ticks for times); records what the
    split needs."""
    contract = scan.contract
    columns: dict[str, pa.Array] = {}
    units: dict[str, str] = {}
    for name in contract.kept:
        spec, values = contract.columns[name], chunk[name]
        if spec.type == "numeric" and _is_arrow_text(values):
            columns[name] = _arrow(values)  # valid number text: written from the text
        elif spec.type == "numeric":
            columns[name] = pa.array(as_numbers(values).to_numpy(), from_pandas=True)
        elif spec.type == "integer":
            columns[name] = _integers(values)
        elif spec.type == "boolean":
            columns[name] = pa.array(_booleans(values), from_pandas=True)
        elif spec.type == "datetime":
            times = spec.datetimes(values)
            unit = times.dtype.unit
            missing = times.isna().to_numpy()
            ticks = times.dt.tz_localize(None).to_numpy().view("int64")
            columns[name] = pa.array(np.where(missing, 0, ticks), mask=missing)
            units[name] = unit
            digits = csv_text.time_digits(ticks[~missing], unit)
            scan.time_digits.setdefault(name, []).append(_per_row(digits, missing))
            if name == ordered_by:
                scan.times.append(times.reset_index(drop=True))
        else:
            columns[name] = _category_text(spec, values)
    scan.time_units.append(units)
    target = columns[contract.target]
    if contract.task == "classification":
        scan.codes.append(scan.count_classes(chunk[contract.target]))
    elif ordered_by is None:
        scan.targets.append(pc.cast(target, pa.float64()).to_numpy(zero_copy_only=False))
    return pa.table(columns)


def _is_arrow_text(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def _arrow(values: pd.Series) -> pa.Array:
    """A text column as one Arrow string array (no copy of pyarrow-backed text)."""
    array = pa.array(values, type=pa.string())
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _as_pandas_reads(spec: ColumnSpec, values: pd.Series) -> pd.Series:
    """A categorical column of numbers read as text, with each number that is one of the
    categories in another notation (1.0, a float column written with gaps) as the category's
    own text (1): pandas, reading the whole file, made numbers of them and found the
    category."""
    if spec.type != "categorical" or not _is_arrow_text(values):
        return values
    numbers = {
        float(c): str(c)
        for c in spec.categories or ()
        if isinstance(c, int | float) and not isinstance(c, bool)
    }
    if not numbers:
        return values
    unmatched = ~(values.isin([str(c) for c in spec.categories or ()]) | values.isna())
    if not unmatched.any():
        return values
    found = as_numbers(values[unmatched]).map(numbers).dropna()
    if found.empty:
        return values
    values = values.copy()
    values[found.index] = found.astype(str)
    return values


def _read_as_floats(spec: ColumnSpec, values: pd.Series, *, csv: bool) -> bool:
    """Whether pandas, reading the whole file, makes floats of this chunk's values of a closed
    categorical column of numbers (a gap, or a number that is no whole one: 1 is written 1.0
    then), which `typed` keeps as they are."""
    numbers = [c for c in spec.categories or () if not isinstance(c, bool)]
    if spec.type != "categorical" or spec.open or len(numbers) < len(spec.categories or ()):
        return False
    if not all(isinstance(c, int | float) for c in numbers):
        return False
    if isinstance(values.dtype, pd.StringDtype):  # CSV text (valid: each is str(category))
        if not csv:
            return False  # a Parquet text column stays text
        present = values.dropna()
        return len(present) < len(values) or not present.str.fullmatch(r"-?[0-9]+").all()
    return bool(pd.api.types.is_float_dtype(values) or values.isna().any())


def _per_row(digits: np.ndarray, missing: np.ndarray) -> np.ndarray:
    out = np.zeros(len(missing), dtype=np.int8)
    out[~missing] = digits
    return out


def _integers(values: pd.Series) -> pa.Array:
    """Whole numbers as int64, exactly (gaps as nulls)."""
    missing = values.isna().to_numpy(dtype=bool)
    if _is_arrow_text(values):
        try:
            return pc.cast(_arrow(values), pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # e.g. 3.0: pandas reads it
    whole = np.zeros(len(values), dtype=np.int64)
    whole[~missing] = pd.to_numeric(values[~missing]).astype("int64")
    return pa.array(whole, mask=missing)


def _booleans(values: pd.Series) -> np.ndarray:
    """as_boolean over a column: 1.0/0.0, NaN for a gap."""
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype="float64")
    if isinstance(values.dtype, pd.StringDtype):
        truth = values.str.strip().str.lower().isin(TRUE_TEXT).to_numpy(dtype="float64")
        truth[values.isna().to_numpy(dtype=bool)] = np.nan
        return truth
    return values.map(as_boolean).to_numpy(dtype="float64")


def _category_text(spec: ColumnSpec, values: pd.Series) -> pa.Array:
    """A categorical column as pandas writes `typed`'s values: valid text is the category's own
    text (or, open, the unseen value); other types are written as Python writes the category."""
    if isinstance(values.dtype, pd.StringDtype):
        return _arrow(values)
    allowed = spec.categories or ()
    typed = values if (values.isin(allowed) | values.isna()).all() else _as_categories(spec, values)
    text = typed.map(str, na_action="ignore")
    return pa.array(text.astype(object).where(text.notna(), None), type=pa.string())


def _write_splits(settings: Settings, scan: _Scan, spill: Path, held_out: np.ndarray) -> None:
    """The second pass: each kept chunk's rows to train or test."""
    contract = scan.contract
    names = list(contract.kept)
    splits: tuple[tuple[Split, np.ndarray], ...] = (("train", ~held_out), ("test", held_out))
    digits = {
        name: np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int8)
        for name, pieces in scan.time_digits.items()
    }
    finest = {
        (split, name): int(row_digits[rows].max()) if rows.any() else 0
        for split, rows in splits
        for name, row_digits in digits.items()
    }
    handles = {split: settings.prepared(split).open("wb") for split, _ in splits}
    writer = WriteBehind(depth=2)  # a chunk's lines are written while the next is formatted
    try:
        header = csv_text.header_line(names)
        for handle in handles.values():
            handle.write(header)
        if not scan.labelled:
            return
        with pa.OSFile(str(spill), "rb") as source:
            batches = pa.ipc.open_stream(source)
            formatted = _formatted(batches, scan, [split for split, _ in splits], finest)
            # the next chunk is formatted (pyarrow, without the GIL) while this one is written
            with closing(read_ahead(formatted, depth=1)) as chunks:
                for start, count, lines in chunks:
                    for split, rows in splits:
                        kept = lines[split].filter(pa.array(rows[start : start + count]))
                        writer.submit(csv_text.write_lines, handles[split], kept)
        writer.drain()
    finally:
        writer.close()  # before the files close under it
        for handle in handles.values():
            handle.close()


def _formatted(
    batches: Iterable[pa.RecordBatch],
    scan: _Scan,
    splits: list[Split],
    finest: dict[tuple[Split, str], int],
) -> Iterator[tuple[int, int, dict[Split, pa.Array]]]:
    """Per spilled chunk: its first row, its number of rows, and its CSV lines as each split
    writes them (one formatting for both, unless their times need other fraction digits)."""
    names = list(scan.contract.kept)
    start = 0
    for number, batch in enumerate(batches):
        lines: dict[Split, pa.Array] = {}
        shared: tuple[dict[str, int], pa.Array] | None = None
        for split in splits:
            own = {name: digits for (owner, name), digits in finest.items() if owner == split}
            if shared is None or own != shared[0]:
                texts = [
                    _text(
                        scan.contract.columns[name],
                        name,
                        batch.column(name),
                        scan,
                        number,
                        own.get(name, 0),
                    )
                    for name in names
                ]
                shared = (own, csv_text.csv_lines(texts))
            lines[split] = shared[1]
        yield start, batch.num_rows, lines
        start += batch.num_rows


def _text(
    spec: ColumnSpec, name: str, values: pa.Array, scan: _Scan, chunk: int, digits: int
) -> pa.Array:
    if spec.type == "numeric" and pa.types.is_string(values.type):
        return csv_text.number_text(values)
    if spec.type in ("numeric", "boolean"):
        return csv_text.float_text(values)
    if spec.type == "integer":
        return csv_text.integer_text(values, as_floats=name in scan.gaps)
    if spec.type == "datetime":
        return csv_text.time_text(values, scan.time_units[chunk][name], digits)
    if name in scan.gaps:
        return csv_text.number_text(values)
    if not spec.open and not any(csv_text.needs_quotes(str(c)) for c in spec.categories or ()):
        return values  # the contract's categories, none of which needs quotes
    return csv_text.quoted(values)
