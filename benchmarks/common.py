"""Timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable


def measure(action: Callable[[int], object], *, repeat: int, warmup: int = 1) -> list[float]:
    """Run ``action(i)`` warmup + repeat times; return the timed durations in seconds."""
    for index in range(warmup):
        action(-1 - index)
    durations = []
    for index in range(repeat):
        started = time.perf_counter()
        action(index)
        durations.append(time.perf_counter() - started)
    return durations


def summary(label: str, durations: list[float]) -> str:
    """One line: label, median and spread (min-max) in milliseconds."""
    median = statistics.median(durations) * 1000
    low, high = min(durations) * 1000, max(durations) * 1000
    return f"{label:<44} median {median:8.1f} ms   spread {low:8.1f} - {high:8.1f} ms   n={len(durations)}"


def run_quiet(*args: str, cwd: str | None = None) -> None:
    """Run a command, failing loudly if it fails."""
    subprocess.run(list(args), cwd=cwd, check=True, capture_output=True)
