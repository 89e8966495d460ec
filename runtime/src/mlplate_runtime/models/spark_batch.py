"""Batch inference on Spark: the local batch's answers, computed by executors.

`predict-batch --engine spark` and the spark-submit job (models.spark_job) score a CSV or
Parquet input (a file or a folder of parts; a local path or any Hadoop URI such as s3a://)
with the champion or MODEL_URI. The model is loaded once on the driver and shipped to the
executors; each partition is scored by the local batch's own ``score_chunk``, so predictions,
rejected rows and their problems are the local batch's by construction.

What makes the answers equal, not just similar:

* CSV values are read as text (header, quotes doubled as in RFC 4180, values over several
  lines allowed) and pandas' missing-value markers (``""``, ``NA``, ``null``...) become gaps,
  as ``read_csv(dtype=str)`` reads them; Parquet columns reach pandas through Arrow as the local
  batch reads them.
* ``row`` is the record's position in the input from 1: per file split, Spark counts the rows,
  the driver turns the counts into offsets (splits in file order, files in path order) and each
  split numbers its rows from its offset (see _numbered). For one file it is the local
  batch's ``row``.
* ``model_version``, ``input_sha256`` and ``scored_at`` are set once on the driver. The hash of one
  file is its SHA-256 (the local batch's for the same bytes); the hash of a folder is the SHA-256
  of its manifest: one ``name<TAB>bytes<TAB>sha256`` line per data file, in path order (the
  files are hashed by the executors, not read through the driver).

Outputs are folders of part files (Spark writes in parallel): OUTPUT (.csv or .parquet) and the
rejected rows with the reasons beside it (``x.rejected.csv``), one schema each. On a local disk
both are written beside their targets and renamed into place when the job succeeds; on object
stores (S3, GCS, ADLS, DBFS) and HDFS Spark's output committer writes them and ``_SUCCESS`` marks
a finished output (a failed job leaves no ``_SUCCESS``). Parquet outputs hold the local batch's
types (times as UTC instants in microseconds); CSV outputs keep the local batch's neutralization
of spreadsheet formulas and write times and booleans as pandas does (numbers are Spark's text
of the same double: ``1.0E-5`` for pandas' ``1e-05``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlplate_runtime.config import Settings
from mlplate_runtime.data.ingest import PARQUET_SUFFIXES
from mlplate_runtime.errors import ProjectError
from mlplate_runtime.models import batch
from mlplate_runtime.models.loaded import LoadedModel

DEFAULT_MASTER = "local[*]"
INSTALL_PYSPARK = (
    "--engine spark needs pyspark: add the runtime's spark extra to the project "
    "(mlplate-runtime[serving,spark] in pyproject.toml's dependencies), then `make setup`"
)
INSTALL_JAVA = (
    "Spark needs Java 17 or later and none was found: install a Java runtime "
    "(e.g. `apt-get install default-jre-headless`, `brew install openjdk@17`) or set JAVA_HOME"
)
# pandas' read_csv reads these values as gaps (its default na_values); Spark keeps them as text.
CSV_GAPS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
ATOMIC_RENAME_SCHEMES = ("file",)  # written beside, renamed on success; others: the committer
# Internal columns of the scored table (never in an output).
KIND, FILE, BLOCK, UNUSUAL = "_mlplate_kind", "_mlplate_file", "_mlplate_block", "_mlplate_unusual"
NUMBER, ID, BASE = "_mlplate_row", "_mlplate_id", "_mlplate_base"  # numbering the rows
REJECTED = "_mlplate_rejected_"  # prefix of the rejected rows' columns
SCORED_KIND, REJECTED_KIND, UNUSUAL_KIND = "s", "r", "u"
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def require_spark() -> None:
    """pyspark importable and a Java runtime present, or one line saying what to install."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise ProjectError(INSTALL_PYSPARK) from None
    if os.environ.get("PYSPARK_GATEWAY_PORT"):  # started by spark-submit: the JVM runs already
        return
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and Path(java_home, "bin", "java").exists()) and not shutil.which("java"):
        raise ProjectError(INSTALL_JAVA)


def spark_session(master: str | None = DEFAULT_MASTER) -> Any:
    """A SparkSession: a local one for ``local[...]`` masters, else the cluster's (spark-submit
    gives the master when ``master`` is None)."""
    require_spark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("mlplate predict-batch")
    if master:
        builder = builder.master(master)
        if master.startswith("local"):
            # Python workers run this interpreter (the one with the runtime and pyarrow).
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = builder.config("spark.ui.enabled", "false").config(
                "spark.ui.showConsoleProgress", "false"
            )
    # pyspark 4.0 warns about pandas 3 on every mapInArrow; the Arrow path used here is tested.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    try:
        session = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: pyspark's many error types
        raise ProjectError(
            f"cannot start Spark ({master or 'spark-submit'}): {_first(error)}"
        ) from None
    if master and master.startswith("local"):
        session.sparkContext.setLogLevel("ERROR")  # a terminal shows the job's own lines
    return session


def _first(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__)[:300]


class _Files:
    """Hadoop file-system operations through the driver's JVM (local disk, HDFS, S3, GCS...)."""

    def __init__(self, spark: Any) -> None:
        self.jvm = spark.sparkContext._jvm
        self.conf = spark.sparkContext._jsc.hadoopConfiguration()

    def _fs(self, uri: str) -> tuple[Any, Any]:
        path = self.jvm.org.apache.hadoop.fs.Path(uri)
        return path.getFileSystem(self.conf), path

    def scheme(self, uri: str) -> str:
        fs, _ = self._fs(uri)
        return str(fs.getScheme())

    def qualified(self, uri: str) -> str:
        fs, path = self._fs(uri)
        return str(fs.makeQualified(path).toString())

    def local_path(self, uri: str) -> Path:
        fs, path = self._fs(uri)
        return Path(str(fs.makeQualified(path).toUri().getPath()))

    def exists(self, uri: str) -> bool:
        fs, path = self._fs(uri)
        return bool(fs.exists(path))

    def is_dir(self, uri: str) -> bool:
        fs, path = self._fs(uri)
        return bool(fs.exists(path) and fs.getFileStatus(path).isDirectory())

    def data_files(self, uri: str) -> list[str]:
        """The files Spark reads in a folder (names not starting with _ or .), in path order."""
        fs, path = self._fs(uri)
        found = []
        iterator = fs.listFiles(path, True)
        while iterator.hasNext():
            status = iterator.next()
            relative = str(status.getPath().toString())[len(str(fs.makeQualified(path))) :]
            if not any(part.startswith(("_", ".")) for part in relative.split("/") if part):
                found.append(str(status.getPath().toString()))
        return sorted(found)

    def delete(self, uri: str) -> None:
        fs, path = self._fs(uri)
        fs.delete(path, True)

    def copy_to_local(self, uri: str, target: Path) -> None:
        fs, path = self._fs(uri)
        fs.copyToLocalFile(False, path, self.jvm.org.apache.hadoop.fs.Path(str(target)), True)


def is_uri(text: str) -> bool:
    """A URI (s3a://, hdfs://, dbfs:/, file:...), not a plain path."""
    return bool(URI.match(text)) and not re.match(r"^[A-Za-z]:[\\/]", text)  # C:\ is a path


def rejected_location(output: str) -> str:
    """The rejected rows' folder beside OUTPUT: `x.rejected.csv` for `x.parquet` (or a URI)."""
    head, _, name = output.rstrip("/").rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return (
        f"{head}/{stem}.rejected.csv" if head or output.startswith("/") else f"{stem}.rejected.csv"
    )


def _suffix(location: str) -> str:
    name = location.rstrip("/").rpartition("/")[2]
    return ("." + name.rsplit(".", 1)[1]).lower() if "." in name.lstrip(".") else ""


def _input_format(files: _Files, source: str) -> str:
    """parquet or csv: by the name's suffix (a folder's: its data files'), as the local batch."""
    names = [source]
    if files.is_dir(source):
        names = files.data_files(source)
        if not names:
            raise ProjectError(f"INPUT {source} is a folder without data files")
    parquet = [name for name in names if _suffix(name) in PARQUET_SUFFIXES]
    return "parquet" if parquet else "csv"


def _read(spark: Any, source: str, fmt: str) -> Any:
    """The input with each row's file and split (the row numbers' keys)."""
    from pyspark.sql import functions as F

    reader = spark.read
    if fmt == "csv":
        # As pandas reads CSV: text values, "" inside quotes, records over several lines.
        reader = reader.options(
            header=True, inferSchema=False, multiLine=True, escape='"', encoding="UTF-8"
        )
    if fmt == "parquet":  # pandas 2 writes times in nanoseconds: read as numbers, see below
        spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    try:
        frame = reader.format(fmt).load(source)
    except Exception as error:  # AnalysisException and friends: not a table
        raise ProjectError(
            f"INPUT {source} is not a readable {fmt} table: {_first(error)}"
        ) from None
    for name in frame.columns:
        if name in (FILE, BLOCK, KIND, UNUSUAL, NUMBER, ID, BASE) or name.startswith(REJECTED):
            raise ProjectError(f"INPUT {source} has a column named {name!r}, a name mlplate uses")
    return frame.select(
        "*",
        F.col("_metadata.file_path").alias(FILE),
        F.col("_metadata.file_block_start").alias(BLOCK),
    )


def _nanosecond_times(frame: Any, contract: Any) -> Any:
    """The contract's datetime columns that Spark read as numbers (Parquet times in
    nanoseconds, which pandas 2 writes and Spark reads only as counts) as Spark times, to the
    microsecond. A column with a `format` keeps its numbers: 20240131 is a date only with one."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType

    for column in frame.schema.fields:
        spec = contract.columns.get(column.name)
        if (
            spec is not None
            and spec.type == "datetime"
            and spec.format is None
            and isinstance(column.dataType, LongType)
        ):
            micros = F.expr(f"{_quoted(column.name)} div 1000")
            frame = frame.withColumn(column.name, F.timestamp_micros(micros))
    return frame


def _numbered(spark: Any, frame: Any) -> tuple[Any, int]:
    """The input with each row's position from 1 (NUMBER) and the number of rows.

    Within a partition Spark's monotonically_increasing_id counts up, and the rows of one file
    split are consecutive in file order. A first job counts each split's rows and finds its
    first id; the driver orders the splits (by file path, then start in the file) into offsets;
    then each row's number is its split's offset plus its distance from the split's first id.
    The numbering runs in the JVM (a broadcast join with one row per split).
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    frame = frame.withColumn(ID, F.monotonically_increasing_id())
    splits = sorted(
        (str(row[FILE]), int(row[BLOCK]), int(row["rows"]), int(row["first"]))
        for row in frame.groupBy(FILE, BLOCK)
        .agg(F.count(F.lit(1)).alias("rows"), F.min(ID).alias("first"))
        .collect()
    )
    bases, total = [], 0
    for name, start, rows, first in splits:
        bases.append((name, start, total - first + 1))
        total += rows
    schema = StructType(
        [
            StructField(FILE, StringType()),
            StructField(BLOCK, LongType()),
            StructField(BASE, LongType()),
        ]
    )
    keys = spark.createDataFrame(bases, schema)
    numbered = (
        frame.join(F.broadcast(keys), [FILE, BLOCK])
        .withColumn(NUMBER, F.col(ID) + F.col(BASE))
        .drop(FILE, BLOCK, ID, BASE)
    )
    others = [_quoted(c) for c in numbered.columns if c != NUMBER]  # "a.b" is a name, not a path
    return numbered.select(NUMBER, *others), total


def _as_pandas(table: Any, csv: bool) -> pd.DataFrame:
    """A batch as the local batch reads a chunk (CSV: pandas' gaps as gaps)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if csv:
        gaps, gap = pa.array(CSV_GAPS), pa.scalar(None, pa.string())
        table = pa.Table.from_arrays(
            [pc.if_else(pc.is_in(column, value_set=gaps), gap, column) for column in table.columns],
            names=table.column_names,
        )
    return table.to_pandas()


def _plain_type(kind: Any) -> Any:
    """The Arrow type Spark reads back for a pandas column's Arrow type."""
    import pyarrow as pa

    if pa.types.is_large_string(kind) or pa.types.is_string(kind):
        return pa.string()
    if pa.types.is_timestamp(kind):
        return pa.timestamp("us", tz="UTC" if kind.tz else None)
    if pa.types.is_dictionary(kind):
        return _plain_type(kind.value_type)
    return kind


def _csv_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as the local batch writes it to CSV: formulas neutralized, booleans as True and
    False, times as pandas writes them (Spark would write true, false and its own time format)."""
    converted = frame
    for name in frame.columns:
        values = frame[name]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            text = values.astype(str).astype(object).where(values.notna(), None)
        elif pd.api.types.is_bool_dtype(values.dtype) or (
            values.dtype == object
            and values.map(lambda cell: isinstance(cell, (bool, np.bool_))).any()
        ):
            text = values.map(
                lambda cell: str(bool(cell)) if isinstance(cell, (bool, np.bool_)) else None,
                na_action="ignore",
            ).astype(object)
        else:
            continue
        if converted is frame:
            converted = frame.copy()
        converted[name] = text
    return batch.neutralize_formulas(converted)


def _csv_type(kind: Any) -> Any:
    """The Arrow type of a column written to CSV by _csv_text (booleans become text)."""
    import pyarrow as pa

    return pa.string() if pa.types.is_boolean(kind) or pa.types.is_timestamp(kind) else kind


def csv_header(names: list[str]) -> list[str]:
    """Column names as neutralize_formulas writes them in a CSV header."""
    return [f"'{name}" if name.startswith(batch.FORMULA_STARTS) else name for name in names]


def _scored_schema(model: LoadedModel, columns: list[str], csv: bool) -> Any:
    """The scored rows' Arrow schema: the local batch's columns and types (found by scoring a few
    rows made from the contract)."""
    import pyarrow as pa

    from mlplate_runtime.data.synthetic import synthetic_frame

    example = synthetic_frame(model.contract, 20, seed=0)
    metadata = {"model_version": "", "input_sha256": "", "scored_at": ""}
    scored, _, _ = batch.score_chunk(example[columns], model, columns, metadata)
    if not len(scored):
        raise ProjectError("the model scores no row made from the data contract; check the model")
    schema = pa.Schema.from_pandas(scored, preserve_index=False)
    if csv:
        return pa.schema(
            [
                pa.field(name, _csv_type(_plain_type(kind.type)))
                for name, kind in zip(csv_header(schema.names), schema, strict=True)
            ]
        )
    return pa.schema([pa.field(kind.name, _plain_type(kind.type)) for kind in schema])


class _Scorer:
    """What each executor runs: score numbered rows with ``score_chunk``, tag them."""

    def __init__(
        self,
        model: Any,
        columns: list[str],
        metadata: dict[str, str],
        csv_input: bool,
        csv_output: bool,
        scored_schema: Any,
    ) -> None:
        self.model, self.columns, self.metadata = model, columns, metadata
        self.csv_input, self.csv_output, self.scored_schema = csv_input, csv_output, scored_schema
        self.names: list[str] = []  # the input's column names, in order

    def loaded(self) -> LoadedModel:
        model = self.model
        return model if isinstance(model, LoadedModel) else model.value  # a Broadcast

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        model = self.loaded()
        for data in batches:
            if not data.num_rows:
                continue
            inputs = pa.Table.from_batches([data])
            positions = inputs.column(NUMBER).to_numpy() - 1
            # the input's own names back (Spark got positional ones: see predict_batch_spark)
            inputs = inputs.drop_columns([NUMBER]).rename_columns(self.names)
            chunk = _as_pandas(inputs, self.csv_input)
            chunk.index = pd.Index(positions)
            scored, rejected, unusual = batch.score_chunk(chunk, model, self.columns, self.metadata)
            combined = self._combined_schema(inputs.schema)
            if len(scored):
                frame = _csv_text(scored) if self.csv_output else scored
                table = pa.Table.from_pandas(frame, schema=self.scored_schema, preserve_index=False)
                yield from _tagged(SCORED_KIND, table, combined).to_batches()
            if len(rejected):
                frame = _csv_text(rejected)
                frame.columns = [
                    REJECTED + name for name in (batch.ROW, *inputs.column_names, batch.PROBLEMS)
                ]
                schema = pa.schema([field for field in combined if field.name in frame.columns])
                table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
                yield from _tagged(REJECTED_KIND, table, combined).to_batches()
            if unusual:
                table = pa.table({UNUSUAL: [json.dumps(unusual)]})
                yield from _tagged(UNUSUAL_KIND, table, combined).to_batches()

    def _combined_schema(self, inputs: Any) -> Any:
        """The scored table's Arrow schema (see predict_batch_spark's ``combined``)."""
        import pyarrow as pa

        return pa.schema(
            [pa.field(KIND, pa.string())]
            + list(self.scored_schema)
            + [pa.field(REJECTED + batch.ROW, pa.int64())]
            + [pa.field(REJECTED + item.name, _csv_type(item.type)) for item in inputs]
            + [pa.field(REJECTED + batch.PROBLEMS, pa.string()), pa.field(UNUSUAL, pa.string())]
        )


def _tagged(kind: str, table: Any, schema: Any) -> Any:
    """``table``'s rows in the combined schema, tagged ``kind`` (other columns empty)."""
    import pyarrow as pa

    rows = table.num_rows
    arrays = [pa.array([kind] * rows, pa.string())]
    for spec in list(schema)[1:]:
        if spec.name in table.column_names:
            arrays.append(table.column(spec.name).cast(spec.type))
        else:
            arrays.append(pa.nulls(rows, spec.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _hash_input(spark: Any, files: _Files, source: str, local: Path | None) -> str:
    """The input's SHA-256: one file's own (the local batch's), a folder's manifest's."""
    import hashlib

    from pyspark.sql import functions as F

    if local is not None and local.is_file():
        return batch.file_sha256(local)
    hashed = (
        spark.read.format("binaryFile")
        .load(source)
        .select("path", "length", F.sha2(F.col("content"), 256).alias("sha256"))
        .collect()
    )
    if files.is_dir(source):
        root = files.qualified(source).rstrip("/") + "/"
        lines = sorted(
            f"{str(row['path']).removeprefix(root)}\t{row['length']}\t{row['sha256']}\n"
            for row in hashed
        )
        return hashlib.sha256("".join(lines).encode()).hexdigest()
    return str(hashed[0]["sha256"])


def _check_paths(files: _Files, source: str, output: str, *, overwrite: bool) -> None:
    if _suffix(output) not in (".csv", *PARQUET_SUFFIXES):
        raise ProjectError(f"OUTPUT {output} must end in .csv or .parquet (the format to write)")
    if not files.exists(source):
        raise ProjectError(f"INPUT {source} does not exist")
    if files.qualified(output).rstrip("/") == files.qualified(source).rstrip("/"):
        raise ProjectError("OUTPUT is the INPUT; write the predictions elsewhere")
    for path in (output, rejected_location(output)):
        if files.exists(path) and not overwrite:
            raise ProjectError(f"{path} exists; remove it or pass --overwrite (OVERWRITE=1)")


def _remove_abandoned(target: Path) -> None:
    """Delete the partial folders of runs that were killed (`.name.<pid>.xxxx`, pid gone)."""
    for path in target.parent.glob(f".{target.name}.*"):
        pid = path.name.removeprefix(f".{target.name}.").split(".", 1)[0]
        if pid.isdigit() and not batch._alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(True)


class _Destination:
    """Where one output goes: beside its target then renamed (local disk), or in place."""

    def __init__(self, files: _Files, target: str, *, overwrite: bool) -> None:
        self.files, self.target, self.overwrite = files, target, overwrite
        self.local = (
            files.local_path(target) if files.scheme(target) in ATOMIC_RENAME_SCHEMES else None
        )
        self.partial: Path | None = None
        if self.local is not None:
            self.local.parent.mkdir(parents=True, exist_ok=True)
            _remove_abandoned(self.local)
            self.partial = self.local.parent / (
                f".{self.local.name}.{os.getpid()}.{secrets.token_hex(4)}"
            )

    def write(self, frame: Any, fmt: str) -> None:
        writer = frame.write.format(fmt)
        if fmt == "csv":  # quotes doubled inside quoted values, as pandas writes them
            writer = writer.options(header=True, escape='"', encoding="UTF-8")
        if self.partial is not None:
            writer.mode("errorifexists").save(self.partial.as_uri())
            return
        writer.mode("overwrite" if self.overwrite else "errorifexists").save(self.target)

    def commit(self) -> None:
        if self.partial is None or self.local is None:
            return
        old = None
        if self.local.exists() or self.local.is_symlink():
            old = self.partial.with_name(self.partial.name + ".old")
            os.replace(self.local, old)
        os.replace(self.partial, self.local)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(True)

    def discard(self) -> None:
        if self.partial is not None:
            shutil.rmtree(self.partial, ignore_errors=True)

    def remove(self) -> None:
        """Delete an output of an earlier run (a side file this run does not write)."""
        if self.local is not None:
            if self.local.is_dir():
                shutil.rmtree(self.local)
            else:
                self.local.unlink(missing_ok=True)
        elif self.files.exists(self.target):
            self.files.delete(self.target)


def _unusual_counts(scored: Any) -> dict[str, int]:
    """Values unlike the training data, per column, summed over the executors' batches."""
    from pyspark.sql import functions as F

    unusual: dict[str, int] = {}
    for row in scored.filter(F.col(KIND) == UNUSUAL_KIND).select(UNUSUAL).collect():
        for name, count in json.loads(row[UNUSUAL]).items():
            unusual[name] = unusual.get(name, 0) + count
    return unusual


def _rejected_rows(scored: Any, data_columns: list[str]) -> Any:
    """The rejected rows of the scored table, in the local batch's side-file columns."""
    from pyspark.sql import functions as F

    names = [batch.ROW, *data_columns, batch.PROBLEMS]
    return (
        scored.filter(F.col(KIND) == REJECTED_KIND)
        .select(
            [
                F.col(_quoted(REJECTED + name)).alias(shown)
                for name, shown in zip(names, csv_header(names), strict=True)
            ]
        )
        .coalesce(1)  # a few rows, usually: one file to open
    )


def predict_batch_spark(
    settings: Settings,
    source: str,
    output: str,
    *,
    spark: Any,
    model_uri: str | None = None,
    overwrite: bool = False,
    chunk_rows: int = batch.CHUNK_ROWS,
) -> batch.BatchResult:
    """Score ``source`` into the folder ``output`` on ``spark``; rows that cannot be scored go to
    the folder beside it (see the module's docstring)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import (
        BooleanType,
        LongType,
        StringType,
        StructField,
        StructType,
        TimestampNTZType,
        TimestampType,
    )

    TEXT_IN_CSV = (BooleanType, TimestampType, TimestampNTZType)  # see _csv_text
    files = _Files(spark)
    source, output = str(source), str(output)
    _check_paths(files, source, output, overwrite=overwrite)
    fmt = _input_format(files, source)
    local_input = (
        files.local_path(source) if files.scheme(source) in ATOMIC_RENAME_SCHEMES else None
    )
    model = batch._load(settings, model_uri or None)
    started = time.perf_counter()
    spark.conf.set("spark.sql.session.timeZone", "UTC")  # Arrow times as the local batch's
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(chunk_rows))
    # Parquet times as the local batch writes them (UTC instants, microseconds), not INT96.
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    frame = _read(spark, source, fmt)
    frame = _nanosecond_times(frame, model.contract)  # CSV columns are text: unchanged
    data_columns = [name for name in frame.columns if name not in (FILE, BLOCK)]
    columns = batch._input_columns(pd.DataFrame(columns=data_columns), model.contract, source)
    numbered, total = _numbered(spark, frame)
    if total == 0:
        raise ProjectError(f"INPUT {source} has no rows")
    metadata = {
        "model_version": model.version or model.uri,
        "input_sha256": _hash_input(spark, files, source, local_input),
        "scored_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    csv_output = _suffix(output) == ".csv"
    scored_schema = _scored_schema(model, columns, csv_output)
    scored_fields = from_arrow_schema(scored_schema).fields
    input_fields = {item.name: item for item in frame.schema.fields}
    combined = StructType(
        [StructField(KIND, StringType())]
        + [StructField(item.name, item.dataType) for item in scored_fields]
        + [StructField(REJECTED + batch.ROW, LongType())]
        + [
            StructField(
                REJECTED + name,
                StringType()
                if isinstance(input_fields[name].dataType, TEXT_IN_CSV)
                else input_fields[name].dataType,
            )
            for name in data_columns
        ]
        + [StructField(REJECTED + batch.PROBLEMS, StringType()), StructField(UNUSUAL, StringType())]
    )
    shipped: Any = model
    try:
        shipped = spark.sparkContext.broadcast(model)  # once per executor, not per task
    except Exception:  # Spark Connect has no SparkContext: the model travels with the function
        shipped = model
    parallelism = spark.sparkContext.defaultParallelism
    if frame.rdd.getNumPartitions() < parallelism:  # e.g. one CSV file: spread the scoring
        numbered = numbered.repartition(parallelism, NUMBER)
    scorer = _Scorer(shipped, columns, metadata, fmt == "csv", csv_output, scored_schema)
    # pyspark's mapInArrow reads each column name as a path ("a.b" is field b of a): the
    # executors get positional names, and the scorer puts the input's own back.
    scorer.names = [name for name in numbered.columns if name != NUMBER]
    positional = numbered.toDF(NUMBER, *(f"_mlplate_c{i}" for i in range(len(scorer.names))))
    scored = positional.mapInArrow(scorer, combined).persist(StorageLevel.MEMORY_AND_DISK)
    destinations: list[_Destination] = []
    try:
        counts = {row[KIND]: int(row["count"]) for row in scored.groupBy(KIND).count().collect()}
        unusual = _unusual_counts(scored)
        good, bad = counts.get(SCORED_KIND, 0), counts.get(REJECTED_KIND, 0)
        side = _Destination(files, rejected_location(output), overwrite=overwrite)
        destinations.append(side)
        if bad:
            side.write(_rejected_rows(scored, data_columns), "csv")
        if good == 0:
            side.commit()  # what is wrong with every row: the user reads it there
            raise ProjectError(
                f"no row of {source} could be scored: all {bad:,} break the data contract or "
                f"cannot be scored; see {rejected_location(output)}"
            )
        target = _Destination(files, output, overwrite=overwrite)
        destinations.append(target)
        target.write(
            scored.filter(F.col(KIND) == SCORED_KIND).select(
                [_quoted(name) for name in scored_schema.names]
            ),
            "csv" if csv_output else "parquet",
        )
        # Both outputs are written before either replaces what an earlier run left: a job
        # that fails on its way never pairs new predictions with old rejected rows.
        target.commit()
        if bad:
            side.commit()
        else:
            side.remove()  # a side file from an earlier run
    except BaseException:
        for destination in destinations:
            destination.discard()
        raise
    finally:
        scored.unpersist()
    return batch.BatchResult(
        output=output,
        rejected_path=rejected_location(output) if bad else None,
        rows=good + bad,
        scored=good,
        rejected=bad,
        model_version=metadata["model_version"],
        input_sha256=metadata["input_sha256"],
        seconds=time.perf_counter() - started,
        unusual=unusual,
    )
