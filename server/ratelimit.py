"""Fixed-window counters kept in the database, so every app process sees the same count."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from server.models import RateLimit, utcnow


def _window(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def hit(session: Session, key: str, *, limit: int, seconds: int, now: datetime | None = None) -> bool:
    """Count one event for `key`; False when the window already holds `limit` events."""
    start = _window(now or utcnow(), seconds)
    row = session.get(RateLimit, (key, start))
    if row is None:
        row = RateLimit(key=key, window_start=start, count=0)
        session.add(row)
    if row.count >= limit:
        return False
    row.count += 1
    session.flush()
    return True


def add(session: Session, key: str, *, seconds: int, now: datetime | None = None) -> None:
    """Count one event for `key`, without a limit; safe when requests race (one upsert)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(RateLimit).values(key=key, window_start=_window(now or utcnow(), seconds), count=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"count": RateLimit.count + 1}
        )
    )


def since(session: Session, key: str, start: datetime) -> tuple[int, datetime | None]:
    """Events counted for `key` in windows from `start` on, and the start of the latest window."""
    count, last = session.execute(
        select(func.coalesce(func.sum(RateLimit.count), 0), func.max(RateLimit.window_start)).where(
            RateLimit.key == key,  # type: ignore[arg-type]
            RateLimit.window_start >= start,  # type: ignore[arg-type]
        )
    ).one()
    return int(count), last


def forget(session: Session, key: str) -> None:
    session.execute(delete(RateLimit).where(RateLimit.key == key))  # type: ignore[arg-type]


def purge(session: Session, *, older_than: timedelta = timedelta(days=1)) -> int:
    result = session.execute(delete(RateLimit).where(RateLimit.window_start < utcnow() - older_than))  # type: ignore[arg-type]
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
