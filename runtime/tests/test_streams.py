"""Read-ahead and write-behind: order kept, failures raised where the caller is, bounded."""

from __future__ import annotations

import threading
import time

import pytest

from mlplate_runtime.streams import WriteBehind, read_ahead


def test_read_ahead_yields_every_item_in_order_and_raises_the_producers_error():
    assert list(read_ahead(iter(range(50)), depth=2)) == list(range(50))

    def failing():
        yield 1
        raise ValueError("line 7 is not CSV")

    seen = []
    with pytest.raises(ValueError, match="line 7"):
        for item in read_ahead(failing()):
            seen.append(item)
    assert seen == [1]


def test_read_ahead_stays_depth_ahead_and_stops_when_the_consumer_stops():
    produced = []

    def counting():
        for number in range(1000):
            produced.append(number)
            yield number

    chunks = read_ahead(counting(), depth=2)
    assert next(chunks) == 0
    time.sleep(0.3)  # time enough for an unbounded producer to run far ahead
    assert len(produced) <= 4  # one consumed, two queued, one waiting to be queued
    chunks.close()  # the consumer stops early: the producer thread ends
    assert "read-ahead" not in [thread.name for thread in threading.enumerate()]
    assert len(produced) <= 4


def test_write_behind_keeps_order_bounds_the_queue_and_raises_a_failure():
    written, gate = [], threading.Event()

    def slow(item):
        gate.wait(5)
        written.append(item)

    writer = WriteBehind(depth=2)
    writer.submit(slow, 1)
    writer.submit(slow, 2)
    waiting = threading.Thread(target=writer.submit, args=(slow, 3))
    waiting.start()
    waiting.join(0.2)
    assert waiting.is_alive()  # a third write waits for room
    gate.set()
    waiting.join(5)
    writer.drain()
    assert written == [1, 2, 3]

    def broken(item):
        raise OSError(f"disk full at {item}")

    writer.submit(broken, 4)
    with pytest.raises(OSError, match="disk full at 4"):
        writer.drain()
    writer.close()
