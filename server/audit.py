"""Writing the audit log (PRODUCT.md "Language, data and privacy")."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from server.access import Actor
from server.models import AuditLog


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    record_type: str = "",
    record_id: uuid.UUID | str | None = None,
    ip: str = "",
    **detail: Any,
) -> AuditLog:
    row = AuditLog(
        actor_id=actor.id if actor else None,
        action=action,
        record_type=record_type,
        record_id=str(record_id) if record_id else "",
        detail={k: _plain(v) for k, v in detail.items()},
        ip=ip,
    )
    session.add(row)
    return row


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
