"""Open conflicts in the caller's scope, each with what it is about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from server.access import Actor, scope_filter
from server.models import SYNC_TYPES, Conflict, User


@dataclass(frozen=True)
class ConflictRow:
    conflict: Conflict
    subject: str  # the address or name of the record it is about
    subject_url: str
    by: str  # who made the change that could not be applied


def _subject(session: Session, conflict: Conflict) -> tuple[str, str]:
    model = SYNC_TYPES.get(conflict.record_type)
    record: Any = session.get(model, conflict.record_id) if model else None
    if record is None:
        return "", ""
    if conflict.record_type == "household":
        return record.address, f"/households/{record.id}"
    if conflict.record_type == "resident":
        return record.name, f"/households/{record.household_id}"
    return str(record.id), ""


def open_conflicts(session: Session, actor: Actor, *, limit: int = 200) -> list[ConflictRow]:
    conflicts = session.exec(
        select(Conflict)
        .where(Conflict.status == "open", col(Conflict.deleted_at).is_(None), scope_filter(actor, Conflict))
        .order_by(col(Conflict.created_at))
        .limit(limit)
    ).all()
    users = {
        u.id: u.display_name
        for u in session.exec(select(User).where(col(User.id).in_({c.user_id for c in conflicts})))
    }
    rows = []
    for conflict in conflicts:
        subject, url = _subject(session, conflict)
        rows.append(
            ConflictRow(conflict, subject, url, users.get(conflict.user_id, "") if conflict.user_id else "")
        )
    return rows
