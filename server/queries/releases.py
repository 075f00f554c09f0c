"""Which field-app versions are older than which: by when this server first served them
(`AppRelease`), for the setting `app.minimum_version` and the reconciliation page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from server.models import APP_VERSION, AppRelease


def served(session: Session) -> dict[str, datetime]:
    """Every version this server has served, with when it first did, oldest first."""
    rows = session.execute(select(AppRelease).order_by(col(AppRelease.first_served_at))).scalars()
    return {row.version: row.first_served_at for row in rows}


def below(released: dict[str, datetime], reported: str, minimum: str) -> bool:
    """Whether the app version `reported` is older than `minimum`, by `served`. A field-app
    version this server never served is older than every one it did: it predates the record."""
    if not minimum or reported == minimum or not APP_VERSION.fullmatch(reported):
        return False
    floor = released.get(minimum)
    if floor is None:
        return False  # a minimum no server has served yet holds nobody back
    mine = released.get(reported)
    return mine is None or mine < floor
