"""The data stages at bounded memory: chunked CSV reading with pyarrow, and `validate` and
`prepare` in chunks, checked against what the in-memory code (pandas, the whole table) gives."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mlplate_runtime.config import Settings
from mlplate_runtime.data import csv_text, ingest
from mlplate_runtime.data import prepare as stages
from mlplate_runtime.data.contract import Contract, validate, validation_problems
from mlplate_runtime.data.ingest import read_chunks, read_table
from mlplate_runtime.data.prepare import (
    check_raw_data,
    check_trainable,
    latest_rows,
    prepare,
    split_strata,
    time_column,
)
from mlplate_runtime.errors import DataValidationError

# ---------------------------------------------------------------- reading CSV in chunks


def _pandas_chunks(path: Path, rows: int) -> list[pd.DataFrame]:
    """What read_chunks yielded before pyarrow: pandas' chunked reader, values as text (as
    pandas 3 holds text, whichever pandas runs the test)."""
    with path.open("rb") as handle:
        chunks = pd.read_csv(handle, chunksize=rows, dtype=str, encoding="utf-8")
        return [chunk.astype(ingest.TEXT) for chunk in chunks]


TRICKY_FILES = {
    "gaps": b'a,b,c\n1,,NA\n"",2,null\nN/A,#N/A,x\n3,4,5\n6,7,8\n9,10,11\n',
    "blank lines": b"a,b\n1,2\n\n3,4\n\n\n5,6\n7,8\n",
    "a line of spaces": b"a,b\n1,2\n  \n3,4\n5,6\n",
    "quoted line breaks": b'a,b\n1,"x\ny"\n"p,q","say ""hi"""\n3,4\n5,"\r\n"\n',
    "a short row": b"a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11\n12\n",
    "CRLF": b"a,b\r\n1,2\r\n3,4\r\n5,6\r\n",
    "BOM": b"\xef\xbb\xbfa,b\n1,2\n3,4\n",
    "no final line break": b"a,b\n1,2\n3,4",
    "header only": b"a,b\n",
    "header without line break": b"a,b",
    "spaces kept": b"a,b\n 1 , x\n2,y \n",
}


@pytest.mark.parametrize("name", sorted(TRICKY_FILES))
@pytest.mark.parametrize("rows", [1, 2, 3, 1000])
def test_chunks_are_what_pandas_read(tmp_path, name, rows):
    path = tmp_path / "data.csv"
    path.write_bytes(TRICKY_FILES[name])
    chunks = [frame for frame, _ in read_chunks(path, rows)]
    expected = _pandas_chunks(path, rows)
    assert len(chunks) == len(expected)
    for chunk, want in zip(chunks, expected, strict=True):
        pd.testing.assert_frame_equal(chunk, want)


def test_chunks_of_a_large_file_come_from_pyarrow_with_row_positions_and_progress(
    tmp_path, monkeypatch
):
    path = tmp_path / "data.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.integers(0, 9, 5000), "y": rng.choice(["a", "b", None], 5000)})
    frame.to_csv(path, index=False)
    monkeypatch.setattr(ingest, "_pandas_chunks", None)  # pandas must not be needed
    chunks = list(read_chunks(path, 1200))
    assert [len(chunk) for chunk, _ in chunks] == [1200, 1200, 1200, 1200, 200]
    assert [chunk.index[0] for chunk, _ in chunks] == [0, 1200, 2400, 3600, 4800]
    fractions = [fraction for _, fraction in chunks]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    whole = pd.concat([chunk for chunk, _ in chunks])
    assert whole["x"].tolist() == frame["x"].astype(str).tolist()
    assert whole["y"].isna().tolist() == frame["y"].isna().tolist()


def test_missing_markers_are_pandas_own():
    from pandas._libs.parsers import STR_NA_VALUES

    assert set(ingest.MISSING_TEXT) == set(STR_NA_VALUES)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "is not a text file"),
        (b"a,b,a\n1,2,3\n", "duplicated column names ['a']"),
        (b"a,b\n\xff\xfe,1\n", "not UTF-8"),
        (b"a,b\n" + b"1,2\n" * 50 + b"3,\xff\n", "not UTF-8"),  # after the first chunks
        (b"a,b\n" + b"1,2\n" * 50 + b"3,4,5\n", "not valid CSV: "),
        (b'a,b\n1,2\n"never closed,3\n', "not valid CSV: "),
    ],
)
def test_files_that_are_no_tables_get_one_line(tmp_path, content, message):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(DataValidationError) as error:
        list(read_chunks(path, 7))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_ragged_row_is_named_by_its_line(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 50 + b"3,4,5\n")
    with pytest.raises(DataValidationError, match="Expected 2 fields in line 52, saw 3"):
        list(read_chunks(path, 7))


# ---------------------------------------------------------------- CSV text as pandas writes it


def test_numbers_are_written_as_pandas_writes_them():
    rng = np.random.default_rng(3)
    numbers = np.concatenate(
        [
            np.round(rng.uniform(-1e4, 1e4, 3000), 3),
            np.round(rng.uniform(0, 100, 1000)),
            rng.standard_normal(2000) * 10.0 ** rng.integers(-25, 25, 2000),
            [0.0, -0.0, 1e16, 1e15, 9999999999999998.0, 1e-4, 9.99e-5, 1e-5, 0.1 + 0.2],
            [5e-324, 1.7976931348623157e308, np.inf, -np.inf, np.nan],
        ]
    )
    written = pd.DataFrame({"x": numbers, "y": 1}).to_csv(index=False).splitlines()[1:]
    from_floats = csv_text.float_text(pa.array(numbers, from_pandas=True)).to_pylist()
    assert [f"{text or ''},1" for text in from_floats] == written
    # the same numbers read as text in any notation: written as pandas writes what it parsed
    texts = [repr(float(x)) for x in numbers[:-3]] + [f"{x:.6e}" for x in numbers[:500]]
    texts += ["1", "-0", "+2", "1.50", "007", "0.00001", "1e3", "123456789012345678", "1.0"]
    parsed = pd.read_csv(
        io.StringIO("x\n" + "\n".join(texts) + "\n"), float_precision="round_trip"
    )["x"]
    expected = pd.DataFrame({"x": parsed, "y": 1}).to_csv(index=False).splitlines()[1:]
    from_text = csv_text.number_text(pa.array(texts)).to_pylist()
    assert [f"{text},1" for text in from_text] == expected


def test_text_is_quoted_as_pandas_quotes_it():
    values = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\ronly", "", " spaced "]
    expected = pd.DataFrame({"v": values, "n": 1}).to_csv(index=False)
    lines = csv_text.csv_lines([csv_text.quoted(pa.array(values)), pa.array(["1"] * 7)])
    out = io.BytesIO()
    out.write(csv_text.header_line(["v", "n"]))
    csv_text.write_lines(out, lines)
    assert out.getvalue().decode() == expected


# ---------------------------------------------------------------- validate and prepare in chunks

CLASSIFICATION = {
    "name": "stages",
    "task": "classification",
    "target": "label",
    "columns": {
        "id": {"type": "integer", "role": "id", "min": 1},
        "amount": {"type": "numeric"},
        "share": {"type": "numeric", "nullable": True, "min": 0},
        "visits": {"type": "integer", "nullable": True, "max": 1000},
        "member": {"type": "boolean"},
        "plan": {"type": "categorical", "categories": ["basic", "pro, yearly", 'say "hi"']},
        "city": {"type": "categorical", "open": True, "categories": ["paris", "rome"]},
        "level": {"type": "categorical", "nullable": True, "categories": [1, 2, 3]},
        "seen": {"type": "datetime", "nullable": True},
        "note": {"type": "categorical", "role": "ignored"},
        "label": {"type": "categorical", "role": "target", "categories": [0, 1, 2]},
    },
}
NUMBER_TEXT = ["1", "-0", "+2", "1.50", "0.00001", "1e3", "12345678901234567", "-7.25", "0.1"]
TIMES = ["2024-01-31", "2024-02-01T09:30:00.5+01:00", "2024-03-01 10:00:00.123456", "2023-12-31"]


def _raw_rows(task: str, n: int, seed: int, *, unlabelled: bool) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        if task == "classification":
            target = str(rng.choice(["0", "1", "2"], p=[0.6, 0.3, 0.1]))
        else:
            target = str(int(rng.integers(-50, 500)))
        if unlabelled and rng.random() < 0.1:
            target = rng.choice(["", "NA"])
        rows.append(
            [
                str(i + 1),
                str(rng.choice(NUMBER_TEXT)) if rng.random() < 0.3 else repr(rng.normal()),
                "" if rng.random() < 0.2 else f"{rng.uniform(0, 5):.3f}",
                "" if rng.random() < 0.2 else str(rng.integers(0, 1000)),
                str(rng.choice(["true", "False", "1", "0", "yes", "NO"])),
                str(rng.choice(["basic", "pro, yearly", 'say "hi"'])),
                str(rng.choice(["paris", "rome", "oslo", "new, york"])),
                "" if rng.random() < 0.1 else str(rng.integers(1, 4)),
                "" if rng.random() < 0.05 else str(rng.choice(TIMES)),
                str(rng.choice(["short", "two\nlines", "x"])),
                target,
            ]
        )
    return rows


def _project(settings: Settings, task: str, split: str) -> Settings:
    spec = json.loads(json.dumps(CLASSIFICATION))
    if task == "regression":
        spec["task"] = "regression"
        spec["columns"]["label"] = {"type": "integer", "role": "target"}
    data = settings.params.data.model_copy(
        update={"split": split, "time_column": "seen" if split == "time" else None}
    )
    return settings.model_copy(
        update={
            "contract": Contract.model_validate(spec),
            "params": settings.params.model_copy(update={"data": data}),
        }
    )


def _write_raw(settings: Settings, rows: list[list[str]]) -> Path:
    path = settings.path(settings.params.data.raw_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(list(CLASSIFICATION["columns"]))
        writer.writerows(rows)
    return path


def _in_memory_prepare(settings: Settings, out: Path) -> tuple[int, int]:
    """The stage as it was before it read in chunks: the whole table in memory."""
    data = settings.params.data
    path = settings.path(data.raw_path)
    ordered_by = time_column(settings) if data.split == "time" else None
    frame = validate(read_table(path), settings.contract, source=str(path))
    frame = frame[frame[settings.contract.target].notna()].reset_index(drop=True)
    check_trainable(frame, settings)
    if ordered_by is not None:
        held_out = latest_rows(frame[ordered_by], test_size=data.test_size)
    else:
        strata = split_strata(frame, settings)
        held_out = stages.test_rows(strata, test_size=data.test_size, seed=settings.params.seed)
    out.mkdir(parents=True)
    frame[~held_out].to_csv(out / "train.csv", index=False)
    frame[held_out].to_csv(out / "test.csv", index=False)
    return int((~held_out).sum()), int(held_out.sum())


def assert_same_split(settings: Settings, name: str) -> None:
    """The chunked stage's split is the in-memory one's: the same text in every field, but
    times, which pandas 2 writes with a fraction only where a value has one (pandas 3 with the
    column's finest): the same instants there."""
    ours = pd.read_csv(settings.prepared(name), dtype=str, keep_default_na=False)
    theirs = pd.read_csv(
        settings.root / "in-memory" / f"{name}.csv", dtype=str, keep_default_na=False
    )
    assert list(ours.columns) == list(theirs.columns)
    assert len(ours) == len(theirs), name
    for column in theirs.columns:
        spec = settings.contract.columns[column]
        if spec.type == "datetime":
            times = [
                pd.to_datetime(t.replace("", None), utc=True, format="ISO8601")
                for t in (ours[column], theirs[column])
            ]
            pd.testing.assert_series_equal(times[0], times[1], check_names=False)
        else:
            assert ours[column].tolist() == theirs[column].tolist(), (name, column)
    if pd.__version__ >= "3":  # the notation of times too
        written = settings.prepared(name).read_bytes()
        assert written == (settings.root / "in-memory" / f"{name}.csv").read_bytes(), name


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("split", ["random", "time"])
@pytest.mark.parametrize("unlabelled", [True, False])
def test_chunked_prepare_writes_what_the_in_memory_one_wrote(
    settings, monkeypatch, task, split, unlabelled
):
    settings = _project(settings, task, split)
    _write_raw(settings, _raw_rows(task, 400, seed=7, unlabelled=unlabelled))
    expected = _in_memory_prepare(settings, settings.root / "in-memory")
    monkeypatch.setattr(stages, "CHUNK_ROWS", 37)  # 11 chunks
    summary = check_raw_data(settings)
    frame = read_table(settings.path(settings.params.data.raw_path))
    assert summary == {
        "rows": len(frame),
        "columns": len(frame.columns),
        "rows_without_target": int(frame["label"].isna().sum()),
    }
    assert prepare(settings) == expected
    for name in ("train", "test"):
        assert_same_split(settings, name)
    leftovers = [p.name for p in settings.prepared("train").parent.parent.iterdir()]
    assert not [name for name in leftovers if name.startswith(".prepare-")]


def test_chunked_prepare_of_parquet_writes_what_the_in_memory_one_wrote(settings, monkeypatch):
    settings = _project(settings, "classification", "random")
    csv_path = _write_raw(settings, _raw_rows("classification", 300, seed=3, unlabelled=True))
    frame = pd.read_csv(csv_path)
    parquet = settings.params.data.raw_path.with_suffix(".parquet")
    frame.to_parquet(settings.path(parquet), index=False, row_group_size=50)
    data = settings.params.data.model_copy(update={"raw_path": parquet})
    settings = settings.model_copy(
        update={"params": settings.params.model_copy(update={"data": data})}
    )
    expected = _in_memory_prepare(settings, settings.root / "in-memory")
    monkeypatch.setattr(stages, "CHUNK_ROWS", 40)
    assert prepare(settings) == expected
    for name in ("train", "test"):
        assert_same_split(settings, name)


def test_categories_written_as_floats_are_the_categories_pandas_read(settings, monkeypatch):
    """A float column exported with gaps writes the category 1 as 1.0: pandas read it as the
    number, so the text is that category too, for checks, classes and the written splits."""
    settings = _project(settings, "classification", "random")
    rows = _raw_rows("classification", 200, seed=9, unlabelled=True)
    for row in rows:
        row[7] = f"{float(row[7])}" if row[7] else ""  # level: 1.0, 2.0, 3.0
        row[10] = f"{float(row[10])}" if row[10] not in ("", "NA") else row[10]  # label: 1.0
    _write_raw(settings, rows)
    expected = _in_memory_prepare(settings, settings.root / "in-memory")
    monkeypatch.setattr(stages, "CHUNK_ROWS", 17)
    assert check_raw_data(settings)["rows"] == 200
    assert prepare(settings) == expected
    for name in ("train", "test"):
        assert_same_split(settings, name)


def test_problems_over_many_chunks_are_said_as_the_whole_table_says_them(settings, monkeypatch):
    settings = _project(settings, "classification", "random")
    rows = _raw_rows("classification", 300, seed=5, unlabelled=True)
    for line, column, value in [
        (250, 3, "2000"),  # visits above 1000, in a late chunk
        (20, 3, "1500"),
        (260, 1, "lots"),  # amount: text
        (10, 1, "inf"),  # an early chunk: still said after the text, as the column says them
        (5, 2, "-1"),  # share below 0
        (270, 7, "9"),  # level: unknown category
        (40, 7, "7"),
        (41, 5, "gold"),  # plan: unknown
        (42, 4, "maybe"),  # member: no boolean
        (43, 8, "yesterday"),  # seen: no time
        (44, 0, ""),  # id missing
        *((100 + k, 3, str(1001 + k)) for k in range(8)),  # more than 5 lines
    ]:
        rows[line][column] = value
    path = _write_raw(settings, rows)
    expected = validation_problems(read_table(path), settings.contract)
    assert len(expected) >= 9
    monkeypatch.setattr(stages, "CHUNK_ROWS", 23)
    for stage in (check_raw_data, prepare):
        with pytest.raises(DataValidationError) as error:
            stage(settings)
        assert str(error.value) == f"{path} breaks the data contract: " + "; ".join(expected)
    assert not settings.prepared("train").exists()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (lambda rows: rows[:0], "the dataset has no rows"),
        (lambda rows: rows[:10], "has 10 rows; at least 20"),
        (lambda rows: [[*r[:-1], "1"] for r in rows], "has a single class (1)"),
        (lambda rows: [[*r[:-1], "1"] for r in rows[:-1]] + [[*rows[-1][:-1], "2"]], "['2']"),
    ],
)
def test_too_little_to_train_on_is_refused_after_reading_every_chunk(
    settings, monkeypatch, rows, message
):
    settings = _project(settings, "classification", "random")
    _write_raw(settings, rows(_raw_rows("classification", 100, seed=1, unlabelled=False)))
    monkeypatch.setattr(stages, "CHUNK_ROWS", 9)
    for stage in (check_raw_data, prepare):
        with pytest.raises(DataValidationError, match=re.escape(message)):
            stage(settings)


def test_a_chunk_without_any_target_leaves_the_later_chunks_times_right(settings, monkeypatch):
    """A chunk whose rows all lack a target writes nothing to the spill file: the chunks after
    it keep their own time unit (pandas 3 gives each chunk the unit its values need)."""
    settings = _project(settings, "regression", "time")
    rows = _raw_rows("regression", 150, seed=5, unlabelled=False)
    for row in rows[37:74]:  # the second chunk of 37: no target at all
        row[10] = ""
    for row in rows[74:]:  # later chunks: times to the nanosecond
        row[8] = "2024-05-01T10:00:00.123456789"
    _write_raw(settings, rows)
    expected = _in_memory_prepare(settings, settings.root / "in-memory")
    monkeypatch.setattr(stages, "CHUNK_ROWS", 37)
    assert prepare(settings) == expected
    for name in ("train", "test"):
        assert_same_split(settings, name)
