"""Fixed-window counters kept in the database, so every app process sees the same count."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
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


def peek(session: Session, key: str, *, limit: int, seconds: int, now: datetime | None = None) -> bool:
    """True while `key` may still act in this window (counts nothing)."""
    row = session.get(RateLimit, (key, _window(now or utcnow(), seconds)))
    return row is None or row.count < limit


def purge(session: Session, *, older_than: timedelta = timedelta(days=1)) -> int:
    result = session.execute(delete(RateLimit).where(RateLimit.window_start < utcnow() - older_than))  # type: ignore[arg-type]
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
