"""SQLite's writers take turns in the order they came (server/db.py `WriterQueue`): one that
releases and asks again queues behind those already waiting, and one that gives up holds
no one back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial

from server.db import WriterQueue


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_writers_take_turns_in_the_order_they_came() -> None:
    queue = WriterQueue()
    order: list[str] = []
    assert queue.acquire(timeout=1)  # the sweep holds it

    def writer(name: str) -> None:
        assert queue.acquire(timeout=5)
        order.append(name)
        queue.release()

    threads = []
    for n, name in enumerate(("sign-in", "push"), start=2):
        thread = threading.Thread(target=writer, args=(name,))
        thread.start()
        threads.append(thread)
        wait_for(partial(lambda n: queue._next == n, n))  # queued, in this order
    queue.release()
    assert queue.acquire(timeout=5)  # the sweep's next chunk: after both
    order.append("sweep again")
    queue.release()
    for thread in threads:
        thread.join()
    assert order == ["sign-in", "push", "sweep again"]


def test_a_writer_that_gives_up_holds_no_one_back() -> None:
    queue = WriterQueue()
    assert queue.acquire(timeout=1)
    assert queue.acquire(timeout=0.05) is False  # waited its time, left
    got: list[bool] = []
    thread = threading.Thread(target=lambda: got.append(queue.acquire(timeout=5)))
    thread.start()
    wait_for(lambda: queue._next == 3)
    queue.release()
    thread.join()
    assert got == [True]
    queue.release()
    assert queue.acquire(timeout=0.05)  # free again
