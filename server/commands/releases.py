"""Recording the field-app versions this server serves (model `AppRelease`): a server notes
its own version when it starts, so versions — content hashes — have an order (issue 22)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from server.models import AppRelease


def record(session: Session, version: str, now: datetime) -> bool:
    """Note `version` as served from `now`, unless it was served before; True when new."""
    if session.get(AppRelease, version) is not None:
        return False
    session.add(AppRelease(version=version, first_served_at=now))
    return True
