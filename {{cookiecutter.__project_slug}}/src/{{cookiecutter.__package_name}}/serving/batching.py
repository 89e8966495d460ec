"""Dynamic batching: requests that arrive while the model is busy are scored in one call.

Scoring one record or fifty costs about the same (the fixed cost is pandas and
scikit-learn overhead), so under load this multiplies throughput; when idle, a
request is scored at once with no added wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np

Scorer = Callable[[list[dict[str, Any]]], np.ndarray]


class MicroBatcher:
    """Queue record batches; one worker task scores everything queued in a single call."""

    def __init__(self, score: Scorer, *, max_records: int = 512) -> None:
        self._score = score
        self._max_records = max_records
        self._pending: list[tuple[list[dict[str, Any]], asyncio.Future[np.ndarray]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def score(self, records: list[dict[str, Any]]) -> np.ndarray:
        """Scores for ``records``, possibly computed together with concurrent requests."""
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._pending.append((records, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    def _take(self) -> list[tuple[list[dict[str, Any]], asyncio.Future[np.ndarray]]]:
        taken, count = [], 0
        while self._pending and (
            not taken or count + len(self._pending[0][0]) <= self._max_records
        ):
            item = self._pending.pop(0)
            taken.append(item)
            count += len(item[0])
        return taken

    async def _drain(self) -> None:
        while self._pending:
            batch = self._take()
            records = [record for chunk, _ in batch for record in chunk]
            try:
                scores = await asyncio.to_thread(self._score, records)
            except Exception as error:  # every waiting request gets the failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            start = 0
            for chunk, future in batch:
                if not future.done():
                    future.set_result(scores[start : start + len(chunk)])
                start += len(chunk)
