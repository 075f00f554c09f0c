"""How many threads one kind of heavy work may hold at once, in each app process.

A hundred phones taking their first pull together (a training day) would otherwise get a
hundred threads reading and encoding at once: on two cores that only adds the switching
between them (the GIL is handed back and forth at every row), and on PostgreSQL a
connection each, beyond what the server allows. Work over the limit waits its turn in the
event loop, holding no thread and no connection (issue 23).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar
from weakref import WeakKeyDictionary

import anyio.to_thread
from anyio import CapacityLimiter

T = TypeVar("T")


class Capacity:
    def __init__(self, tokens: int) -> None:
        self.tokens = tokens
        # One limiter per event loop: a limiter's waiters belong to the loop they wait in.
        self._limiters: WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = WeakKeyDictionary()

    def _limiter(self) -> CapacityLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = CapacityLimiter(self.tokens)
        return limiter

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn` in a worker thread once one of the tokens is free."""
        return await anyio.to_thread.run_sync(fn, limiter=self._limiter())


# Pages of a pull read at once, per process. With 32 first pulls of one grid at once 2 did
# best of 2, 3 and 4; on a training day 3 gave a p95 of 41.5 s against 45.8 s with 8
# (docs/performance.md, "A training day").
PULL_PAGES = Capacity(3)
