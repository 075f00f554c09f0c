"""`/sync/pull`: everything in the caller's scope that changed after the cursor (SYNC.md rules 9–13).

One snapshot per page: the upper bound, the rows and the client's counter are
read at the same moment, and writers hand out versions in commit order
(`server.db`), so every version at or below the bound is visible here.
"""

from __future__ import annotations

import hashlib
import heapq
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from server import versions
from server.access import Actor, scope_filter
from server.models import SYNC_TYPES, SyncClient, Tombstone
from sync import records
from sync.clients import check_owner

PAGE_CHANGES = 2000  # rule 12
PAGE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class PullRequest:
    client_id: uuid.UUID
    cursor: str | None


@dataclass
class PullPage:
    cursor: str
    reset: bool
    last_mutation_id: int
    more: bool
    changes: list[str]  # each change already encoded as JSON text

    def body(self) -> bytes:
        head = (
            f'{{"protocol":1,"cursor":"{self.cursor}","reset":{"true" if self.reset else "false"},'
            f'"last_mutation_id":{self.last_mutation_id},"more":{"true" if self.more else "false"},"changes":['
        )
        return (head + ",".join(self.changes) + "]}").encode()


def scope_hash(actor: Actor) -> str:
    key = f"{actor.scope_key()}|schema{records.SCHEMA_VERSION}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def make_cursor(version: int, actor: Actor) -> str:
    return f"v1.{version}.{scope_hash(actor)}"


def read_cursor(cursor: str | None, actor: Actor, high: int) -> int | None:
    """The version a cursor stands for, or None when it calls for a reset (rule 11)."""
    if not cursor:
        return None
    parts = cursor.split(".")
    if len(parts) != 3 or parts[0] != "v1" or not parts[1].isdigit() or parts[2] != scope_hash(actor):
        return None
    since = int(parts[1])
    return since if since <= high else None


def _rows(
    session: Session, actor: Actor, record_type: str, since: int, high: int, live_only: bool
) -> list[Any]:
    model = SYNC_TYPES[record_type]
    table = records.table_of(model)
    query = (
        select(table)
        .where(table.c.version > since, table.c.version <= high, scope_filter(actor, model))
        .order_by(table.c.version)
        .limit(PAGE_CHANGES + 1)
    )
    if live_only:
        query = query.where(table.c.deleted_at.is_(None))
    return list(session.execute(query).mappings())


def _tombstones(session: Session, actor: Actor, since: int, high: int) -> list[Any]:
    table = Tombstone.__table__  # type: ignore[attr-defined]
    query = (
        select(table.c.version, table.c.record_type, table.c.record_id)
        .where(table.c.version > since, table.c.version <= high, scope_filter(actor, Tombstone))
        .order_by(table.c.version)
        .limit(PAGE_CHANGES + 1)
    )
    return list(session.execute(query).mappings())


def pull(session: Session, *, actor: Actor, request: PullRequest) -> PullPage:
    client = session.get(SyncClient, request.client_id)
    check_owner(client, actor)  # rule 1
    high = versions.current(session)
    since = read_cursor(request.cursor, actor, high)
    reset = since is None  # rule 11: first pull, unknown cursor, scope or schema changed
    start = 0 if since is None else since

    # Rule 9: changes in version order, from every record type and the tombstones.
    streams: list[list[tuple[int, str, Any]]] = [
        [(row["version"], record_type, row) for row in _rows(session, actor, record_type, start, high, reset)]
        for record_type in SYNC_TYPES
    ]
    if not reset:
        streams.append([(row["version"], "", row) for row in _tombstones(session, actor, start, high)])

    changes: list[str] = []
    size = 0
    last_version = start
    more = False
    for version, record_type, row in heapq.merge(*streams, key=lambda item: item[0]):
        if len(changes) >= PAGE_CHANGES or size >= PAGE_BYTES:
            more = True  # rule 12: cut the page; the cursor stops at the last change sent
            break
        if not record_type:
            change = records.delete(row["record_type"], row["record_id"], version)
        elif row["deleted_at"] is not None:
            change = records.delete(record_type, row["id"], version)  # rule 10
        else:
            change = records.put(record_type, row)
        text = records.encode(change)
        changes.append(text)
        size += len(text) + 1
        last_version = version
    cursor_version = last_version if more else high
    return PullPage(
        cursor=make_cursor(cursor_version, actor),
        reset=reset,
        last_mutation_id=client.last_mutation_id if client else 0,  # rule 13
        more=more,
        changes=changes,
    )
