"""The faults of the load suite, each switched on by its own flag of `bench/load.py`.

- `FaultyLink`: a TCP proxy between the phones and the server that, with
  probability `drop`, lets a `POST /sync/push` through and cuts the connection
  as soon as the server starts answering — the server has committed, the
  phone never learns it (it retries; the resend must be a replay). It also
  plays slow phones: uploads from the addresses in `slow` reach the server at
  1 KB/s. It connects upstream from the phone's own address, so the server
  still sees one address per phone.
- `killer`: SIGKILL to the server's whole process group every K seconds, then
  start it again (`processes.ServerProcess`).
- `database_outage`: PostgreSQL made unavailable for a few seconds without
  restarting the shared server: `ALTER DATABASE … ALLOW_CONNECTIONS false`,
  `pg_terminate_backend` of every session of that database, a pause,
  `ALLOW_CONNECTIONS true`. The app sees what a restart looks like from a
  client: its connections die and new ones are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from sqlalchemy.engine import make_url

SLOW_RATE = 1024  # bytes per second
SLOW_PIECE = 256
PUSH_LINE = b"POST /sync/push "


@dataclass
class _Connection:
    doomed: bool = False


@dataclass
class FaultyLink:
    upstream_port: int
    drop: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    slow: set[str] = field(default_factory=set)
    port: int = 0
    dropped: int = 0
    _server: asyncio.AbstractServer | None = None
    _open: set[asyncio.StreamWriter] = field(default_factory=set)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0, backlog=4096)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and cut what is still open; the handlers end on their own (no cancelling)."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._open):
            writer.close()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=10)

    def calm(self) -> None:
        """No more faults: responses go through, slow phones reach wifi (in-flight uploads speed up)."""
        self.drop = 0.0
        self.slow.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        self._open.add(writer)
        try:
            await self._relay(reader, writer)
        finally:
            self._open.discard(writer)
            self._handlers.discard(handler)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")[0]
        try:
            up_reader, up_writer = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port, local_addr=(peer, 0)
            )
        except OSError:
            writer.close()  # the server is down: the phone sees its connection cut
            return
        self._open.add(up_writer)
        state = _Connection()
        up = asyncio.create_task(self._up(reader, up_writer, peer, state))
        down = asyncio.create_task(self._down(up_reader, writer, state))
        await asyncio.wait([up, down], return_when=asyncio.FIRST_COMPLETED)
        # Closing both ends makes the other direction's read return; no task is cancelled.
        for w in (writer, up_writer):
            w.close()
        await asyncio.wait([up, down])
        self._open.discard(up_writer)
        for w in (writer, up_writer):
            with contextlib.suppress(Exception):
                await w.wait_closed()

    async def _up(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str, state: _Connection
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(65536):
                # HTTP/1.1 without pipelining: a request's first bytes start a read.
                if chunk.startswith(PUSH_LINE) and self.rng.random() < self.drop:
                    state.doomed = True
                if peer not in self.slow:
                    writer.write(chunk)
                    await writer.drain()
                    continue
                for start in range(0, len(chunk), SLOW_PIECE):
                    if writer.is_closing():
                        return
                    writer.write(chunk[start : start + SLOW_PIECE])
                    await writer.drain()
                    if peer in self.slow:
                        await asyncio.sleep(SLOW_PIECE / SLOW_RATE)

    async def _down(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, state: _Connection
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(65536):
                if state.doomed:
                    # The server answers only after it committed: cut before the phone hears it.
                    self.dropped += 1
                    return
                writer.write(chunk)
                await writer.drain()


def _admin_dsn(url: str) -> tuple[str, str]:
    """A libpq DSN for the maintenance database of the server at `url`, and the name of `url`'s database."""
    parsed = make_url(url)
    database = parsed.database or ""
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), database


def allow_connections(url: str) -> None:
    """Undo an outage left behind by an interrupted run."""
    dsn, database = _admin_dsn(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')


def database_outage(url: str, seconds: float) -> None:
    """Make `url`'s database refuse and drop every connection for `seconds` (blocking)."""
    dsn, database = _admin_dsn(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        try:
            conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
            time.sleep(seconds)
        finally:
            conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')


async def every(seconds: float, stop: asyncio.Event, action: Callable[[], object]) -> int:
    """Run the blocking `action` in a thread every `seconds` until `stop`; returns how many times.
    A failing action is reported and tried again next time: the run goes on."""
    done = 0
    while True:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
            return done
        except TimeoutError:
            pass
        try:
            await asyncio.to_thread(action)
            done += 1
        except Exception as exc:
            print(f"  ! fault {getattr(action, '__name__', action)} failed: {exc!r:.300}", file=sys.stderr)
