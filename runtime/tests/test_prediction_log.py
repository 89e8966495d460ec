"""The prediction log survives: whole lines, bounded memory, rotation, reopening, write errors."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from mlplate_runtime.serving.prediction_log import PredictionLogger


def lines(folder: Path) -> list[dict]:
    """Every entry in the log and its rotated files (each line must be whole JSON)."""
    return [
        json.loads(line)
        for path in sorted(folder.glob("predictions.jsonl*"))
        for line in path.read_text().splitlines()
    ]


@pytest.fixture
def started():
    loggers = []

    def start(path: Path, **options) -> PredictionLogger:
        logger = PredictionLogger(path, **options)
        logger.start()
        loggers.append(logger)
        return logger

    yield start
    for logger in loggers:
        logger.stop()


def test_the_log_rotates_by_size_and_keeps_every_line_whole(started, tmp_path):
    logger = started(tmp_path / "predictions.jsonl", max_bytes=2_000, backups=10)
    for number in range(100):
        logger.log([{"n": number, "text": "x" * 20}])
    logger.flush()
    assert (tmp_path / "predictions.jsonl.1").is_file()
    assert all(path.stat().st_size <= 2_000 for path in tmp_path.glob("predictions.jsonl*"))
    assert sorted(entry["n"] for entry in lines(tmp_path)) == list(range(100))
    assert logger.status()["written"] == 100


def test_a_deleted_log_file_is_reopened(started, tmp_path):
    path = tmp_path / "predictions.jsonl"
    logger = started(path)
    logger.log([{"n": 1}])
    logger.flush()
    path.unlink()  # logrotate or a person
    logger.log([{"n": 2}])
    logger.flush()
    assert lines(tmp_path) == [{"n": 2}]


def test_a_full_disk_drops_and_counts_entries_and_readiness_says_degraded(started):
    logger = started(Path("/dev/full"))  # every write fails with "no space left"
    logger.log([{"n": 1}, {"n": 2}])
    logger.flush()
    status = logger.status()
    assert status["status"] == "degraded" and "No space left" in status["error"]
    assert (status["written"], status["dropped"]) == (0, 2)


def test_the_writer_recovers_after_a_write_error(started, tmp_path):
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the log folder should be")
    logger = started(blocker / "predictions.jsonl")
    logger.log([{"n": 1}])
    logger.flush()
    assert logger.status()["status"] == "degraded"
    blocker.unlink()  # the folder can be made again: the next entries are written
    logger.log([{"n": 2}])
    logger.flush()
    assert logger.status() | {"queued": 0} == {
        "status": "ok", "error": None, "written": 1, "dropped": 1, "queued": 0,
    }  # fmt: skip
    assert lines(blocker) == [{"n": 2}]


class Stalled(PredictionLogger):
    """A writer stuck on a slow disk until ``gate`` opens."""

    def __init__(self, *args, gate: threading.Event, **options) -> None:
        super().__init__(*args, **options)
        self.gate = gate

    def _append(self, handle, data, count):
        self.gate.wait(timeout=10)
        return super()._append(handle, data, count)


def test_a_slow_disk_costs_counted_drops_never_unbounded_memory(tmp_path):
    gate = threading.Event()
    logger = Stalled(tmp_path / "predictions.jsonl", gate=gate, max_queue=2)
    logger.start()
    for number in range(6):
        logger.log([{"n": number}])
    assert logger.status()["queued"] <= 2
    gate.set()
    logger.stop()  # stopping writes everything that was queued
    status = logger.status()
    assert status["dropped"] >= 3
    assert status["written"] + status["dropped"] == 6
    assert len(lines(tmp_path)) == status["written"]


def test_requests_queued_together_are_written_together_within_the_size_limit(tmp_path):
    """Under load the writer joins queued requests into few writes (each within max_bytes)."""
    logger = PredictionLogger(tmp_path / "predictions.jsonl", max_bytes=250)
    for number in range(6):  # queued before the writer starts: all waiting at once
        logger._queue.put_nowait([{"n": number, "text": "x" * 60}])
    writes = logger._writes(logger._waiting())
    assert [count for _, count in writes] == [3, 3]
    assert all(len(data) <= 250 for data, _ in writes)
    assert [json.loads(line)["n"] for data, _ in writes for line in data.splitlines()] == list(
        range(6)
    )


def test_an_entry_that_is_no_json_is_dropped_and_the_writer_goes_on(started, tmp_path):
    logger = started(tmp_path / "predictions.jsonl")
    logger.log([{"n": 1, "odd": object()}])
    logger.flush()
    assert logger.status()["status"] == "degraded" and "JSON" in logger.status()["error"]
    logger.log([{"n": 2}])
    logger.flush()
    assert lines(tmp_path) == [{"n": 2}]
    assert (logger.status()["written"], logger.status()["dropped"]) == (1, 1)
