"""Append predictions to a JSON-lines log from a background thread (never blocks a response).

Delivery guarantee: every answered request's entries are written whole, or counted as
dropped, never silently lost and never held in unbounded memory. Entries are dropped (and
counted) when the queue is full (the disk is slower than the traffic) or a write fails
(disk full, folder gone); the writer keeps running, truncates a half-written line away and
retries the file on the next entries. A deleted or rotated-away file is reopened; the log
rotates itself at ``max_bytes`` (``predictions.jsonl.1`` ... ``.N``). Stopping (the app's
shutdown, also on SIGTERM) writes everything queued first.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import queue
import threading
from pathlib import Path
from typing import Any, BinaryIO

_STOP = object()
WRITE_BATCH = 256  # requests written together at most


class PredictionLogger:
    """Queue entries in the request path; a writer thread appends them to ``path``."""

    def __init__(
        self,
        path: Path | None,
        *,
        max_queue: int = 10_000,
        max_bytes: int = 100_000_000,
        backups: int = 5,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.written = 0
        self.dropped = 0
        self.last_error: str | None = None  # set while writes fail; cleared by a good write

    @property
    def enabled(self) -> bool:
        """False when logging is off (PREDICTION_LOG=off)."""
        return self.path is not None

    def start(self) -> None:
        if self.path is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def log(self, entries: list[dict[str, Any]]) -> None:
        if self._thread is None:
            return
        try:
            self._queue.put_nowait(entries)
        except queue.Full:
            self._count_dropped(len(entries))

    def status(self) -> dict[str, Any]:
        """What /ready reports: ok or degraded (with the error), and the counts."""
        return {
            "status": "off" if not self.enabled else "degraded" if self.last_error else "ok",
            "error": self.last_error,
            "written": self.written,
            "dropped": self.dropped,
            "queued": self._queue.qsize(),
        }

    def flush(self) -> None:
        """Wait until everything queued so far is written (or counted as dropped)."""
        if self._thread is not None:
            self._queue.join()

    def stop(self) -> None:
        """Write everything queued, then stop the writer."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=30)
            self._thread = None

    def _count_dropped(self, count: int) -> None:
        with self._lock:
            self.dropped += count

    def _run(self) -> None:
        handle: BinaryIO | None = None
        while True:
            items = self._waiting()
            try:
                for data, count in self._writes(items):
                    handle = self._append(handle, data, count)
                if items[-1] is _STOP:
                    if handle is not None:
                        handle.close()
                    return
            finally:
                for _ in items:
                    self._queue.task_done()

    def _writes(self, items: list[Any]) -> list[tuple[bytes, int]]:
        """Requests' lines joined into writes of at most max_bytes (a file rotates between
        writes, so none grows past it), each with its number of entries."""
        writes: list[tuple[bytes, int]] = []
        parts: list[bytes] = []
        size = count = 0
        for item in items:
            if item is _STOP:
                continue
            try:
                data = "".join(json.dumps(entry) + "\n" for entry in item).encode()
            except (TypeError, ValueError) as error:  # never the writer thread's end
                self._count_dropped(len(item))
                self.last_error = f"cannot write an entry as JSON: {error}"
                continue
            if parts and size + len(data) > self.max_bytes:
                writes.append((b"".join(parts), count))
                parts, size, count = [], 0, 0
            parts.append(data)
            size += len(data)
            count += len(item)
        if parts:
            writes.append((b"".join(parts), count))
        return writes

    def _waiting(self) -> list[Any]:
        """The next request's entries and those of every request queued behind it (up to
        WRITE_BATCH, and never past a stop): one write, and one file check, for them all. Under
        load this keeps the writer's share of the interpreter small."""
        items = [self._queue.get()]
        while items[-1] is not _STOP and len(items) < WRITE_BATCH:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _append(self, handle: BinaryIO | None, data: bytes, count: int) -> BinaryIO | None:
        """Write ``data`` whole or not at all; return the handle to use next time."""
        start = None
        try:
            handle = self._current(handle)
            size = os.fstat(handle.fileno()).st_size
            if size > 0 and size + len(data) > self.max_bytes:
                handle = self._rotate(handle)
                size = 0
            start = size
            if handle.write(data) != len(data):  # a short write: the disk is full
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError as error:
            self._count_dropped(count)
            self.last_error = f"{type(error).__name__}: {error.strerror or error}"
            if handle is not None:
                with contextlib.suppress(OSError):
                    if start is not None:
                        os.ftruncate(handle.fileno(), start)  # never leave half a line behind
                with contextlib.suppress(OSError):
                    handle.close()
            return None
        self.written += count
        self.last_error = None
        return handle

    def _file(self) -> Path:
        if self.path is None:  # the writer thread only starts with a path
            raise RuntimeError("the prediction log is off")
        return self.path

    def _open(self) -> BinaryIO:
        path = self._file()
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "ab", buffering=0)  # one write call per batch, no hidden buffer

    def _current(self, handle: BinaryIO | None) -> BinaryIO:
        """The open log file; reopened when it was deleted or rotated away by someone else."""
        if handle is not None:
            try:
                if os.stat(self._file()).st_ino == os.fstat(handle.fileno()).st_ino:
                    return handle
            except FileNotFoundError:
                pass
            handle.close()
        return self._open()

    def _rotate(self, handle: BinaryIO) -> BinaryIO:
        """predictions.jsonl -> .1 -> .2 ... (the oldest beyond ``backups`` is removed)."""
        path = self._file()
        handle.close()
        for number in range(self.backups - 1, 0, -1):
            older = path.with_name(f"{path.name}.{number}")
            if older.exists():
                older.replace(path.with_name(f"{path.name}.{number + 1}"))
        path.replace(path.with_name(f"{path.name}.1"))
        return self._open()
