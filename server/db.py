"""The database: engines, transactions, and what SQLite and PostgreSQL each need.

Every write goes through `Database.write()`. It serialises writers — SQLite by
`BEGIN IMMEDIATE` (plus an in-process lock so threads queue instead of
polling), PostgreSQL by locking the version counter row first — so that
versions are handed out in commit order (SYNC.md rule 9) and a read-check-write
inside one transaction cannot lose an update.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

from server import versions
from server.files import private_file
from server.push import triggers

T = TypeVar("T")

# A write behind a lock someone else holds waits at most about this long in all before it
# is answered 503 (SYNC.md rule 6): the lock wait per attempt (SQLite's busy timeout,
# PostgreSQL's lock_timeout on the writers' row lock) times `run_write`'s attempts, plus
# their backoff; the in-process queue has its own bound. PostgreSQL's is longer: under a
# morning rush its writers queue on that one row for more than a second.
SQLITE_BUSY_SECONDS = 1.0
SQLITE_CACHE_KIB = 512  # per connection (see _sqlite_connect)
PG_LOCK_SECONDS = 3.0
QUEUE_SECONDS = 10.0


class TemporaryFailure(Exception):
    """The database is busy, restarting or refusing; try again later (SYNC.md rule 6)."""

    def __init__(self, message: str = "database unavailable", retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


_PG_TRANSIENT = {
    "40001",
    "40P01",
    "55P03",
    "57P01",
    "57P02",
    "57P03",
    "08000",
    "08003",
    "08006",
    "08001",
    "08004",
}


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        return True
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None)
    return code in _PG_TRANSIENT


def install_flush_hooks() -> None:
    """What every write causes, installed once for every ORM session, in this order: the news
    in it becomes notifications (`server.push.triggers`), then every new or changed syncable
    row, those included, gets its version (SYNC.md rule 9). Same transaction; idempotent."""
    triggers.install()
    versions.install()


def retrying(fn: Callable[[], T], *, attempts: int) -> T:
    """The one retry policy: run `fn` again on a transient database failure (50, 150, 450 ms
    apart); a permanent error is raised at once, a transient one that outlasts `attempts`
    becomes TemporaryFailure (SYNC.md rule 6)."""
    delay = 0.05
    for attempt in range(attempts):
        try:
            return fn()
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts - 1:
                raise TemporaryFailure(str(exc.orig) if exc.orig else str(exc)) from exc
            time.sleep(delay)
            delay *= 3
    raise AssertionError("unreachable")


@contextmanager
def _committed(session: Session) -> Iterator[Session]:
    """The session's transaction, committed on success, rolled back on any exception."""
    with session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# Integers past 64 bits, which orjson would read as floats: such a document goes to the stdlib.
_LONG_NUMBER = re.compile(r"\d{19}")


def _json_loads(text: str | bytes) -> Any:
    """JSON columns as they are read: orjson parses a pull's ten thousand documents in a
    fraction of the stdlib's time (issue 23). Whatever it would read differently (long
    integers) or refuses (NaN, which `json.dumps` writes) reads as it always did."""
    if isinstance(text, bytes):
        text = text.decode()
    if _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


class WriterQueue:
    """SQLite's one writer at a time, first come first served. A plain lock lets the thread
    that just released it take it again at once: the reminder sweep, writing chunk after
    chunk, kept sign-ins and pushes waiting past QUEUE_SECONDS on a training day (issue 23)."""

    def __init__(self) -> None:
        self._turns = threading.Condition()
        self._next = 0  # the ticket the next writer to arrive takes
        self._serving = 0  # the ticket whose turn it is
        self._gave_up: set[int] = set()

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._turns:
            ticket = self._next
            self._next += 1
            while self._serving != ticket:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._gave_up.add(ticket)
                    return False
                self._turns.wait(left)
            return True

    def release(self) -> None:
        with self._turns:
            self._serving += 1
            while self._serving in self._gave_up:  # their turn came after they left
                self._gave_up.discard(self._serving)
                self._serving += 1
            self._turns.notify_all()


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        install_flush_hooks()
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = make_url(url).database
            if path and path != ":memory:" and not path.startswith("file:"):
                private_file(Path(path))  # SQLite gives its -wal and -shm files the same mode
            self.engine = create_engine(
                url,
                echo=echo,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
                pool_size=20,
                max_overflow=20,
                json_deserializer=_json_loads,
            )
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(
                url,
                echo=echo,
                pool_size=10,
                max_overflow=30,
                pool_pre_ping=True,
                json_deserializer=_json_loads,
            )
        self._write_engine = self.engine.execution_options(doorstep_write=True)
        self._snapshot_engine = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="REPEATABLE READ")
        )
        self._write_lock = WriterQueue() if self.is_sqlite else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[Session]:
        """A read-only session; `snapshot=True` makes every query see the same moment."""
        # Closing (not rolling back) ends the transaction without expiring loaded rows.
        with Session(self._snapshot_engine if snapshot else self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction, committed on success, rolled back on any exception."""
        lock = self._write_lock
        if lock is not None and not lock.acquire(timeout=QUEUE_SECONDS):
            raise TemporaryFailure("too many writers queued")
        try:
            with _committed(Session(self._write_engine, expire_on_commit=False)) as session:
                if not self.is_sqlite:
                    # SET LOCAL: for this transaction only, so migrations never inherit it.
                    session.execute(text(f"SET LOCAL lock_timeout = '{int(PG_LOCK_SECONDS * 1000)}ms'"))
                    session.execute(text("SELECT value FROM version_counter WHERE id = 1 FOR UPDATE"))
                yield session
        finally:
            if lock is not None:
                lock.release()

    @contextmanager
    def claim(self) -> Iterator[Session]:
        """A transaction for claiming rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
        claimers take disjoint rows without waiting for each other or for sync writes; on
        SQLite, which has no row locks, the serialised write transaction."""
        if self.is_sqlite:
            with self.write() as session:
                yield session
            return
        with _committed(Session(self.engine, expire_on_commit=False)) as session:
            yield session

    def run_write(self, fn: Callable[[Session], T], *, attempts: int = 4) -> T:
        """Run `fn` in a write transaction, again on transient failures, else TemporaryFailure."""
        return retrying(lambda: self._once(self.write(), fn), attempts=attempts)

    def run_read(self, fn: Callable[[Session], T], *, snapshot: bool = False, attempts: int = 3) -> T:
        return retrying(lambda: self._once(self.read(snapshot=snapshot), fn), attempts=attempts)

    def run_claim(self, fn: Callable[[Session], T], *, attempts: int = 4) -> T:
        """Run `fn` in a claiming transaction (`claim()`), again on transient failures."""
        return retrying(lambda: self._once(self.claim(), fn), attempts=attempts)

    @staticmethod
    def _once(transaction: AbstractContextManager[Session], fn: Callable[[Session], T]) -> T:
        with transaction as session:
            return fn(session)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except DBAPIError:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # pysqlite's own transaction handling would defer BEGIN and never emit
    # IMMEDIATE; we issue BEGIN ourselves in _sqlite_begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a mutation acknowledged to a phone survives a power cut too.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
    # Each pooled connection keeps its own page cache (2 MB by default), full after one first
    # pull: 16 phones pulling at once held 32 MB of copies of pages the OS caches anyway.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("doorstep_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")
