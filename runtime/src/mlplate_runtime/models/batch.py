"""Batch inference: score a CSV or Parquet file with the champion (or MODEL_URI), in chunks.

Rows that break the data contract go to a side file with what is wrong (never silently
dropped); the others are scored exactly as the API scores a record and written with the
model version, the input file's SHA-256 and the time of the run. Memory holds one chunk,
whatever the file's size. Both files appear whole when the job ends (each is written beside
its target, then renamed) or not at all; an existing output is only replaced on request.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlplate_runtime.config import Settings
from mlplate_runtime.data.contract import (
    ColumnSpec,
    Contract,
    as_boolean,
    as_numbers,
    category_text,
    row_problems,
    unusual_counts,
)
from mlplate_runtime.data.ingest import PARQUET_SUFFIXES, read_chunks
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.models.loaded import LoadedModel, load_model
from mlplate_runtime.progress import Progress
from mlplate_runtime.streams import WriteBehind, read_ahead

CHUNK_ROWS = 100_000
ROW = "row"  # the record's position in the input, from 1 (line 2 of a CSV)
PROBLEMS = "problems"
NON_FINITE = "the model gives a non-finite score"


@dataclass(frozen=True)
class BatchResult:
    """What a batch run wrote, and with which model (on Spark: folders, given as URIs)."""

    output: Path | str
    rejected_path: Path | str | None  # None: every row was scored
    rows: int
    scored: int
    rejected: int
    model_version: str
    input_sha256: str
    seconds: float
    unusual: dict[str, int] = field(default_factory=dict)  # scored values unlike training data


def rejected_path(output: Path) -> Path:
    """The side file of rows that could not be scored: `x.rejected.csv` beside `x.parquet`."""
    return output.with_suffix(".rejected.csv")


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula, prefixed with ' (OWASP's rule for
    CSV injection): a CSV output opened in Excel or Sheets shows them as text."""
    out = frame
    for name in frame.columns:
        values = frame[name]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        formula = np.fromiter(
            (isinstance(cell, str) and cell.startswith(FORMULA_STARTS) for cell in values),
            dtype=bool,
            count=len(values),
        )
        if formula.any():
            if out is frame:
                out = frame.copy()
            out[name] = values.astype(object).where(~formula, "'" + values.astype(str))
    header = [
        f"'{name}" if isinstance(name, str) and name.startswith(FORMULA_STARTS) else name
        for name in out.columns
    ]
    if header != list(out.columns):
        out = out.set_axis(header, axis=1)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _remove_abandoned(target: Path) -> None:
    """Delete the partial files of runs that were killed (`.name.<pid>.xxxx`, pid gone)."""
    for path in target.parent.glob(f".{target.name}.*"):
        pid = path.name.removeprefix(f".{target.name}.").split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _new_partial_file(target: Path) -> Path:
    """An empty `.name.<pid>.<random>` file beside ``target``, created as a plain file is.

    Not ``tempfile.mkstemp``: it creates mode 0600, which the rename would hand on to the
    output; mode 0666 here lets the process umask decide (0644 under umask 022).
    """
    for _ in range(100):
        path = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free name for a partial file beside {target}")


class _AtomicTable:
    """A CSV or Parquet file written chunk by chunk beside its target, renamed into place."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.parquet = target.suffix.lower() in PARQUET_SUFFIXES
        _remove_abandoned(target)
        self.temporary = _new_partial_file(target)
        self.rows = 0
        self._writer: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._writer is None:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                self._writer = pq.ParquetWriter(self.temporary, table.schema)
            else:
                table = pa.Table.from_pandas(
                    frame, schema=self._writer.schema, preserve_index=False
                )
            self._writer.write_table(table)
        else:
            neutralized = neutralize_formulas(frame)
            neutralized.to_csv(self.temporary, mode="a", header=self._writer is None, index=False)
            self._writer = True
        self.rows += len(frame)

    def _close(self) -> None:
        if self.parquet and self._writer is not None:
            self._writer.close()
            self._writer = None

    def commit(self) -> None:
        self._close()
        os.replace(self.temporary, self.target)

    def discard(self) -> None:
        self._close()
        self.temporary.unlink(missing_ok=True)


def _typed(spec: ColumnSpec, values: pd.Series) -> pd.Series:
    """A valid column with the same type in every chunk (so Parquet has one schema)."""
    if spec.type == "numeric":
        return as_numbers(values)
    if spec.type == "integer":
        return as_numbers(values).astype("Int64")
    if spec.type == "boolean":
        return values.map(as_boolean).astype("boolean")
    if spec.type == "datetime":  # a UTC time, so predictions join back to their rows
        return spec.datetimes(values)
    return category_text(values).astype("string")


def _scored_frame(
    rows: pd.DataFrame,
    columns: list[str],
    contract: Contract,
    predictions: dict[str, np.ndarray],
    metadata: dict[str, str],
) -> pd.DataFrame:
    out: dict[str, Any] = {ROW: (rows.index + 1).to_numpy(dtype="int64")}
    out |= {name: _typed(contract.columns[name], rows[name]).array for name in columns}
    out |= {
        name: pd.array(values, dtype="string") if values.dtype == object else values
        for name, values in predictions.items()
    }
    out |= {name: pd.array([value] * len(rows), dtype="string") for name, value in metadata.items()}
    return pd.DataFrame(out)


def score_chunk(
    chunk: pd.DataFrame, model: LoadedModel, columns: list[str], metadata: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """(scored rows, rejected rows with their problems, unusual values per column) of a chunk.

    The chunk's index is each record's position in the input from 0 (its ROW is one more).
    Batch scoring on Spark (models.spark_batch) scores its partitions through this function
    too, so both engines give the same answers.
    """
    problems = row_problems(chunk, model.contract, columns)
    valid = (problems == "").to_numpy()
    classes = len(model.contract.classes)
    scores = np.zeros((0, classes) if classes else 0)  # a chunk with no valid row
    if valid.any():
        scores = model.scores_of(chunk[valid])
        finite = np.isfinite(scores.reshape(len(scores), -1)).all(axis=1)
        if not finite.all():
            unscorable = np.flatnonzero(valid)[~finite]
            problems.iloc[unscorable] = NON_FINITE
            valid[unscorable] = False
            scores = scores[finite]
    predictions = model.task.columns(scores)
    scored = _scored_frame(chunk[valid], columns, model.contract, predictions, metadata)
    rejected = chunk[~valid].copy()
    rejected.insert(0, ROW, rejected.index + 1)
    rejected[PROBLEMS] = problems[~valid]
    return scored, rejected, unusual_counts(chunk[valid], model.contract)


_score_chunk = score_chunk  # its name before the Spark engine used it


def _check_paths(source: Path, output: Path, *, overwrite: bool) -> None:
    if output.suffix.lower() not in (".csv", *PARQUET_SUFFIXES):
        raise ProjectError(f"OUTPUT {output} must end in .csv or .parquet (the format to write)")
    if output.resolve() == source.resolve():
        raise ProjectError("OUTPUT is the INPUT file; write the predictions to another file")
    for path in (output, rejected_path(output)):
        if path.exists() and not overwrite:
            raise ProjectError(f"{path} exists; remove it or pass --overwrite (OVERWRITE=1)")


def _load(settings: Settings, model_uri: str | None) -> LoadedModel:
    try:
        return load_model(settings, role="champion", uri=model_uri)
    except Exception as error:  # no store, no champion alias, a wrong URI: MLflow's many types
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ProjectError(
            f"cannot load {model_uri or 'the champion'}: {first[:300]}; run `make all`, or set "
            "MODEL_URI to a model (models:/name/version, runs:/id/model)"
        ) from None


def predict_batch(
    settings: Settings,
    source: Path,
    output: Path,
    *,
    model_uri: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    overwrite: bool = False,
) -> BatchResult:
    """Score ``source`` into ``output``; rows that cannot be scored go to the side file."""
    if not source.is_file():
        raise ProjectError(f"INPUT {source} does not exist")
    _check_paths(source, output, overwrite=overwrite)
    model = _load(settings, model_uri or None)  # an empty URI (a pipeline's default): champion
    started = time.perf_counter()  # the scoring (loading the model takes ~2 s more)
    contract = model.contract
    metadata = {
        "model_version": model.version or model.uri,
        "input_sha256": file_sha256(source),
        "scored_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    scored, rejected = _AtomicTable(output), _AtomicTable(rejected_path(output))
    # The next chunk is read and the last one written while this one is scored: three chunks
    # in flight at most (a fourth waits in the writer's queue), whatever the file's size.
    writer = WriteBehind(depth=2)
    try:
        with Progress(f"scoring {source.name}", unit="rows") as progress:
            columns: list[str] = []
            unusual: dict[str, int] = {}
            done = 0
            with closing(read_ahead(read_chunks(source, chunk_rows), depth=1)) as chunks:
                for number, (chunk, fraction) in enumerate(chunks):
                    if number == 0:
                        columns = _input_columns(chunk, contract, source)
                    good, bad, found = score_chunk(chunk, model, columns, metadata)
                    for name, count in found.items():
                        unusual[name] = unusual.get(name, 0) + count
                    writer.submit(scored.write, good)
                    if len(bad):
                        writer.submit(rejected.write, bad)
                    done += len(chunk)
                    progress.update(done, fraction)
            writer.drain()
        if scored.rows + rejected.rows == 0:
            raise ProjectError(f"INPUT {source} has no rows")
        if rejected.rows:
            rejected.commit()
        else:
            rejected.discard()
            rejected_path(output).unlink(missing_ok=True)  # a side file from an earlier run
        if scored.rows == 0:
            raise ProjectError(
                f"no row of {source} could be scored: all {rejected.rows:,} break the data "
                f"contract or cannot be scored; see {rejected_path(output)}"
            )
        scored.commit()
    except BaseException:
        writer.close()
        scored.discard()
        rejected.discard()
        raise
    finally:
        writer.close()
    return BatchResult(
        output=output,
        rejected_path=rejected_path(output) if rejected.rows else None,
        rows=scored.rows + rejected.rows,
        scored=scored.rows,
        rejected=rejected.rows,
        model_version=metadata["model_version"],
        input_sha256=metadata["input_sha256"],
        seconds=time.perf_counter() - started,
        unusual=unusual,
    )


def _input_columns(chunk: pd.DataFrame, contract: Contract, source: Path | str) -> list[str]:
    """The contract's columns the input has (checked and copied); every feature must be there."""
    missing = [name for name in contract.features if name not in chunk.columns]
    if missing:
        raise ProjectError(
            f"INPUT {source} lacks the model inputs {missing}; its columns: {list(chunk.columns)[:20]}"
        )
    return [name for name in contract.kept if name in chunk.columns]
