"""Append predictions to a JSON-lines log from a background thread (never blocks a response)."""

from __future__ import annotations

import json
import queue
import threading
from pathlib import Path
from typing import Any

_STOP = object()


class PredictionLogger:
    """Queue entries in the request path; a writer thread appends them to ``path``."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.path is None or self._thread is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._write, name="prediction-log", daemon=True)
        self._thread.start()

    def log(self, entries: list[dict[str, Any]]) -> None:
        if self._thread is not None:
            self._queue.put(entries)

    def flush(self) -> None:
        """Wait until everything queued so far is on disk."""
        if self._thread is not None:
            self._queue.join()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=10)
            self._thread = None

    def _write(self) -> None:
        assert self.path is not None
        with self.path.open("a", encoding="utf-8") as handle:
            while True:
                item = self._queue.get()
                try:
                    if item is _STOP:
                        return
                    handle.writelines(json.dumps(entry) + "\n" for entry in item)
                    handle.flush()
                finally:
                    self._queue.task_done()
