"""Heavy work holds at most its share of threads at once (server/web/capacity.py): the rest
waits its turn and every piece of it still runs."""

from __future__ import annotations

import threading
import time

import anyio

from server.web.capacity import Capacity


def test_no_more_than_the_tokens_run_at_once_and_all_of_them_run() -> None:
    capacity = Capacity(2)
    lock = threading.Lock()
    running, most, done = 0, 0, []

    def work(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return n

    async def one(n: int) -> None:
        done.append(await capacity.run(lambda: work(n)))

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for n in range(10):
                group.start_soon(one, n)

    anyio.run(main)
    assert most == 2
    assert sorted(done) == list(range(10))


def test_each_event_loop_gets_its_own_limiter() -> None:
    capacity = Capacity(1)
    for _ in range(2):  # a second loop after the first is gone (as tests' clients do)
        assert anyio.run(capacity.run, lambda: 7) == 7
