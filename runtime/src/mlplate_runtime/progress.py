"""Progress of a long job: a bar on a terminal, a plain line every few seconds in CI logs.

Both show what is done, the rate, the time left and an optional note (e.g. the best score).
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO


class Progress:
    """Report ``done`` units and the ``fraction`` of the job finished; use as a context manager."""

    def __init__(
        self, label: str, *, unit: str, every: float = 10.0, stream: TextIO | None = None
    ) -> None:
        self.label, self.unit, self.every = label, unit, every
        self.stream = stream if stream is not None else sys.stderr
        self.started = self.last_line = time.perf_counter()
        self.done, self.fraction, self.note = 0, 0.0, ""
        self._said = -1  # the count the last plain line showed
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn(self.label),
                BarColumn(),
                TextColumn("{task.fields[done]}"),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[note]}"),
                console=Console(file=self.stream),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=1.0, done="", rate="", note="")
        return self

    @property
    def rate(self) -> float:
        """Units per second so far."""
        return self.done / max(time.perf_counter() - self.started, 1e-9)

    def _rate_text(self) -> str:
        rate = self.rate
        return f"{rate:,.0f} {self.unit}/s" if rate >= 10 else f"{rate:.2f} {self.unit}/s"

    def _seconds_left(self) -> float:
        elapsed = time.perf_counter() - self.started
        return elapsed * (1 - self.fraction) / self.fraction if self.fraction > 0 else float("nan")

    def update(self, done: int, fraction: float, note: str = "") -> None:
        """``done`` units so far, ``fraction`` (0 to 1) of the job finished."""
        self.done, self.fraction, self.note = done, min(max(fraction, 0.0), 1.0), note
        if self._bar is not None:
            self._bar.update(
                self._task,
                completed=self.fraction,
                done=f"{done:,} {self.unit}",
                rate=self._rate_text(),
                note=note,
            )
        elif time.perf_counter() - self.last_line >= self.every:
            self._line()

    def _line(self) -> None:
        self.last_line, self._said = time.perf_counter(), self.done
        left = self._seconds_left()
        left_text = f", ~{left:.0f} s left" if left == left and self.fraction < 1 else ""
        note = f"; {self.note}" if self.note else ""
        print(
            f"{self.label}: {self.done:,} {self.unit} ({self.fraction:.0%}), "
            f"{self._rate_text()}{left_text}{note}",
            file=self.stream,
            flush=True,
        )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif kind is None and self._said != self.done:  # the last count not said yet
            self._line()
