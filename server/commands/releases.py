"""Recording the field-app versions this server serves (model `AppRelease`): a server notes
its own version when it starts, so versions — content hashes — have an order (issue 22)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from server.models import AppRelease


def record(session: Session, version: str, now: datetime) -> bool:
    """Note `version` as served from `now`, unless it was served before; True when new.
    App processes starting together may both try: the first one's moment is kept."""
    table = AppRelease.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(version=version, first_served_at=now)
        .on_conflict_do_nothing()
        .returning(table.c.version)
    )
    return session.execute(statement).first() is not None
