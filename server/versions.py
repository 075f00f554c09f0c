"""The one place versions are handed out (SYNC.md "version", rule 9).

`allocate()` takes the next values of the server-wide counter. A flush hook
calls it for every syncable row that is new or changed, whatever code made the
change — office page, sync mutation, CLI command or job — so no write path can
forget it. When a row's scope columns change, a tombstone for the old scope is
written first, with a lower version than the row's new one: a phone that holds
both scopes then sees `del` before `put` and keeps the row (rule 10).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction

from server.models import SyncRecord, Tombstone, utcnow


class CounterMissing(RuntimeError):
    """The version counter row is absent: the database was not migrated."""


def allocate(session: OrmSession, count: int = 1) -> list[int]:
    """Reserve `count` consecutive versions in the current transaction."""
    if count <= 0:
        return []
    row = (
        session.connection()
        .execute(
            text("UPDATE version_counter SET value = value + :n WHERE id = 1 RETURNING value"), {"n": count}
        )
        .first()
    )
    if row is None:
        raise CounterMissing("version_counter has no row 1; run `doorstep migrate`")
    last = int(row[0])
    return list(range(last - count + 1, last + 1))


def current(session: OrmSession) -> int:
    row = session.connection().execute(text("SELECT value FROM version_counter WHERE id = 1")).first()
    return int(row[0]) if row else 0


def _old_scope(obj: SyncRecord) -> dict[str, Any] | None:
    """The scope values before this flush, if any scope column changed."""
    state = inspect(obj)
    old: dict[str, Any] = {}
    changed = False
    for column in obj.scope_columns:
        history = state.attrs[column].history
        if history.deleted and history.deleted[0] is not None:
            old[column] = history.deleted[0]
            if history.added and history.added[0] != history.deleted[0]:
                changed = True
        else:
            old[column] = getattr(obj, column)
    return old if changed else None


def _before_flush(session: OrmSession, _ctx: UOWTransaction, _instances: Any) -> None:
    records: list[SyncRecord] = []
    tombstones: list[tuple[SyncRecord, dict[str, Any]]] = []
    for obj in session.new:
        if isinstance(obj, SyncRecord):
            records.append(obj)
    for obj in session.dirty:
        if isinstance(obj, SyncRecord) and session.is_modified(obj, include_collections=False):
            old = _old_scope(obj)
            if old is not None:
                tombstones.append((obj, old))
            records.append(obj)
    for obj in session.deleted:
        if isinstance(obj, SyncRecord):
            tombstones.append((obj, {c: getattr(obj, c) for c in obj.scope_columns}))
    if not records and not tombstones:
        return
    versions = iter(allocate(session, len(records) + len(tombstones)))
    now = utcnow()
    for obj, old in tombstones:
        session.add(
            Tombstone(
                version=next(versions),
                record_type=obj.sync_type,
                record_id=obj.id,
                community_id=old.get("community_id"),
                grid_id=old.get("grid_id"),
                department_id=old.get("department_id"),
            )
        )
    client = session.info.get("client_id")
    for obj in records:
        obj.version = next(versions)
        if obj in session.dirty:
            obj.updated_at = now
            _track_fields(obj, obj.version, client)


_UNTRACKED = frozenset({"version", "updated_at", "field_versions"})


def _track_fields(obj: SyncRecord, version: int, client: str | None) -> None:
    state = inspect(obj)
    changed = [attr.key for attr in state.attrs if attr.key not in _UNTRACKED and attr.history.has_changes()]
    if changed:
        tracked = dict(obj.field_versions or {})
        for column in changed:
            tracked[column] = [version, client]
        obj.field_versions = tracked


def install() -> None:
    """Hook version assignment into every ORM session (idempotent)."""
    if not event.contains(OrmSession, "before_flush", _before_flush):
        event.listen(OrmSession, "before_flush", _before_flush)
