"""Chunked work that overlaps: read ahead and write behind in threads, a fixed number of chunks
in flight, so memory stays a few chunks whatever the file's size.

pyarrow parses and encodes with the GIL released, so reading the next chunk and writing the
last one run while the model scores the current one.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_DONE = object()


class _Producer:
    """Puts ``items`` into a bounded queue from a thread until done, failed or stopped."""

    def __init__(self, items: Iterable[Any], depth: int) -> None:
        self.ready: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(items,), name="read-ahead", daemon=True
        )
        self.thread.start()

    def _put(self, value: Any, error: BaseException | None = None) -> bool:
        while not self.stop.is_set():
            try:
                self.ready.put((value, error), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, items: Iterable[Any]) -> None:
        try:
            for item in items:
                if not self._put(item):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            self._put(_DONE, error)
            return
        self._put(_DONE)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def read_ahead(items: Iterable[Any], depth: int = 1) -> Generator[Any]:
    """``items``, produced in a thread at most ``depth`` ahead of the consumer; the producer's
    exception is raised in the consumer, and stopping early stops the producer."""
    producer = _Producer(items, depth)
    try:
        while True:
            item, error = producer.ready.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        producer.close()


class WriteBehind:
    """Run writes in one thread, in order, with at most ``depth`` waiting; ``drain`` waits for
    them all and raises the first failure."""

    def __init__(self, depth: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-behind")
        self._pending: deque[Future[None]] = deque()
        self._depth = depth

    def submit(self, write: Callable[..., None], *args: Any) -> None:
        while len(self._pending) >= self._depth:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(write, *args))

    def drain(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pending.clear()

    def close(self) -> None:
        """Wait for writes under way (after a failure: without raising theirs), stop the thread."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()
