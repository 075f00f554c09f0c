"""Applying field changes made on an older version (SYNC.md rule 8).

A field that nobody else set since `base_version` is applied. A field another
change also set, to a different value, is not: a Conflict keeps both values
until someone with the right picks one (PRODUCT.md "Conflict"). A client's own
earlier edit of the field is not "somebody else".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from server.access import Actor
from server.clock import step_time
from server.models import Conflict, SyncRecord


@dataclass
class UpdateResult:
    applied: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def conflict_fields(self) -> list[str]:
        return [c.field for c in self.conflicts]


def jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def changed_since(record: SyncRecord, column: str, base_version: int, client_id: str | None) -> bool:
    last = (record.field_versions or {}).get(column)
    if not last:
        return False
    version, by = last[0], last[1]
    return bool(version > base_version and (client_id is None or by != client_id))


def apply_changes(
    session: Session,
    *,
    actor: Actor,
    record: SyncRecord,
    changes: dict[str, Any],
    base_version: int | None,
    client_id: str | None = None,
    at: datetime | None = None,
) -> UpdateResult:
    """Set `changes` on `record`, keeping conflicting fields as Conflict rows instead, each
    dated when the person made the change (`at`), not when it reached the server."""
    result = UpdateResult()
    for column, value in changes.items():
        current = getattr(record, column)
        if jsonable(current) == jsonable(value):
            continue
        if base_version is not None and changed_since(record, column, base_version, client_id):
            conflict = Conflict(
                created_at=step_time(at),
                community_id=getattr(record, "community_id"),  # noqa: B009 - every updatable record has one
                grid_id=getattr(record, "grid_id", None),
                record_type=record.sync_type,
                record_id=record.id,
                field=column,
                server_value=jsonable(current),
                client_value=jsonable(value),
                base_version=base_version,
                user_id=actor.id,
                client_id=uuid.UUID(client_id) if client_id else None,
            )
            session.add(conflict)
            result.conflicts.append(conflict)
            continue
        setattr(record, column, value)
        result.applied.append(column)
    return result
