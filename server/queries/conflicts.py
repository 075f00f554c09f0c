"""Open conflicts in the caller's scope, each with what it is about."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from server.access import Actor, scope_filter
from server.models import SYNC_TYPES, Conflict, User
from server.people import phone as phones

# Fields whose values hold a phone number: masked on the page unless revealed (audited).
PHONE_FIELDS = frozenset({"phone", "contact_phone", "proxy"})


@dataclass(frozen=True)
class ConflictRow:
    conflict: Conflict
    subject: str  # the address or name of the record it is about
    subject_url: str
    by: str  # who made the change that could not be applied
    server_text: str = ""  # the two values as the page shows them, phone numbers masked
    client_text: str = ""
    masked: bool = False  # a number is hidden: the page offers the audited reveal


def shown(value: Any, *, reveal: bool = False) -> str:
    """A conflicting value in words, any phone number in it masked unless `reveal`."""
    if value is None:
        return ""
    if isinstance(value, dict):  # a proxy: 姓名（关系）电话
        number = str(value.get("phone") or "")
        relation = f"（{value['relation']}）" if value.get("relation") else ""
        return f"{value.get('name') or ''}{relation} {number if reveal else phones.mask(number)}".strip()
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


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


def _text(conflict: Conflict, value: Any, reveal: bool) -> str:
    if conflict.field in PHONE_FIELDS and isinstance(value, str):
        return value if reveal else phones.mask(value)
    return shown(value, reveal=reveal)


def open_conflicts(
    session: Session, actor: Actor, *, limit: int = 200, revealed: uuid.UUID | None = None
) -> list[ConflictRow]:
    """The open conflicts; phone numbers masked except in the one `revealed` (its view audited)."""
    conflicts = session.exec(
        select(Conflict)
        .where(Conflict.status == "open", col(Conflict.deleted_at).is_(None), scope_filter(actor, Conflict))
        .order_by(col(Conflict.version))  # the server's order; created_at is when the edit was made
        .limit(limit)
    ).all()
    users = {
        u.id: u.display_name
        for u in session.exec(select(User).where(col(User.id).in_({c.user_id for c in conflicts})))
    }
    rows = []
    for conflict in conflicts:
        subject, url = _subject(session, conflict)
        reveal = conflict.id == revealed
        rows.append(
            ConflictRow(
                conflict,
                subject,
                url,
                users.get(conflict.user_id, "") if conflict.user_id else "",
                server_text=_text(conflict, conflict.server_value, reveal),
                client_text=_text(conflict, conflict.client_value, reveal),
                masked=conflict.field in PHONE_FIELDS and not reveal,
            )
        )
    return rows
