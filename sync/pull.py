"""`/sync/pull`: everything in the caller's scope that changed after the cursor (SYNC.md rules 9–13).

One snapshot per page: the upper bound, the rows and the client's counter are
read at the same moment, and writers hand out versions in commit order
(`server.db`), so every version at or below the bound is visible here.
"""

from __future__ import annotations

import hashlib
import heapq
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, bindparam, func, literal_column, select, union_all
from sqlmodel import Session

from server import versions
from server.access import Actor, scope_filter
from server.commands import notices as notice_commands
from server.commands import personal_data
from server.models import SYNC_TYPES, SyncClient, Tombstone, utcnow
from sync import device, records
from sync.clients import check_owner, claim

PAGE_CHANGES = 2000  # rule 12
PAGE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class PullRequest:
    client_id: uuid.UUID
    cursor: str | None
    device: dict[str, Any] | None = None  # sync/device.py


@dataclass
class PullPage:
    cursor: str
    reset: bool
    last_mutation_id: int
    more: bool
    # The changes already encoded as JSON and joined with commas, in one buffer: orjson
    # gives every `bytes` it returns a ~4 KB allocation, so a list of 2,000 of them took
    # 8 MB for 1 MB of JSON (issue 23, bench/pull_memory.py).
    changes: bytearray
    count: int  # how many changes `changes` holds
    phones: int = 0  # records carrying a phone number, for the pull audit
    id_numbers: int = 0
    # Rule 1: a client first seen in a pull is not yet registered to its user; the caller
    # claims it (`sync.clients.claim`) in a write, as a push does.
    registered: bool = True
    # Optional field (docs/sync.md "Download progress"): on a reset page, how many
    # records the whole download carries, for the phone's first-sync progress.
    total: int | None = None
    # Notices this page carries: the first pull that carries one is its delivery receipt.
    notices: list[uuid.UUID] = field(default_factory=list)
    # The phone's report of itself says something new (sync/device.py): settle keeps it.
    report: bool = False

    def body(self) -> bytes:
        # The head goes first: a phone reads the cursor off the front of the body and
        # asks for the next page while the rest of this one is still downloading.
        head = (
            f'{{"protocol":1,"cursor":"{self.cursor}","reset":{"true" if self.reset else "false"},'
            f'"last_mutation_id":{self.last_mutation_id},"more":{"true" if self.more else "false"},'
            + ("" if self.total is None else f'"total":{self.total},')
            + '"changes":['
        )
        return b"".join((head.encode(), self.changes, b"]}"))


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


SINCE = bindparam("since", type_=BigInteger)
UNTIL = bindparam("until", type_=BigInteger)


def _scope(table: Any, model: Any, actor: Actor, live_only: bool) -> list[Any]:
    """Rules 9 and 10: the actor's rows with versions in (since, until]."""
    clauses = [table.c.version > SINCE, table.c.version <= UNTIL, scope_filter(actor, model)]
    if live_only:
        clauses.append(table.c.deleted_at.is_(None))
    return clauses


def _sources(reset: bool) -> list[tuple[str, Any, Any]]:
    sources: list[tuple[str, Any, Any]] = [
        (name, records.table_of(model), model) for name, model in SYNC_TYPES.items()
    ]
    if not reset:
        sources.append(("", Tombstone.__table__, Tombstone))  # type: ignore[attr-defined]
    return sources


# A pull's statements are built once per actor (its scope is in them) and reused with new
# bounds: building them afresh cost a quarter of a pull with nothing new (issue 23). The
# whole Actor is the key, so two actors never share a statement.
_STATEMENTS = 512


@lru_cache(maxsize=_STATEMENTS)
def _probe(actor: Actor, reset: bool, page: int) -> Any:
    """Rule 12's look ahead, in one statement: the first PAGE_CHANGES + 1 versions of every
    source, each row tagged with its source's place in `_sources`. Only versions are read
    here (index scans)."""
    parts = []
    for place, (name, table, model) in enumerate(_sources(reset)):
        first = (
            select(literal_column(str(place)).label("source"), table.c.version.label("version"))
            .where(*_scope(table, model, actor, reset and bool(name)))
            .order_by(table.c.version)
            .limit(page + 1)
            .subquery()
        )
        parts.append(select(first.c.source, first.c.version))
    return union_all(*parts)


@lru_cache(maxsize=_STATEMENTS)
def _read(actor: Actor, place: int, reset: bool, dialect: str) -> Any:
    name, table, model = _sources(reset)[place]
    # Only what a change carries: never the private columns (ciphertexts, keyed hashes) nor
    # `field_versions`, each a JSON document parsed for nothing.
    wanted = {"id", "version", "deleted_at", *records.DATA_COLUMNS[name]} if name else set()
    columns = (
        [table.c.version, table.c.record_type, table.c.record_id]
        if not name
        else [c for c in records.columns(table, dialect) if c.name in wanted]
    )
    return (
        select(*columns).where(*_scope(table, model, actor, reset and bool(name))).order_by(table.c.version)
    )


def _total(session: Session, actor: Actor, high: int) -> int:
    """The live records in scope up to `high`: what a download from scratch carries."""
    return sum(
        session.execute(
            select(func.count()).select_from(table).where(*_scope(table, model, actor, True)),
            {"since": 0, "until": high},
        ).scalar_one()
        for _, table, model in _sources(True)
    )


def _page_end(
    session: Session, actor: Actor, since: int, high: int, reset: bool
) -> tuple[int | None, set[int]]:
    """Rule 12: the version where this page stops — the PAGE_CHANGES-th change above `since`,
    or None when there is nothing at all — and the sources (places in `_sources`) with
    anything in it: whole rows are read once, for the page, and only from those."""
    if since >= high:
        return None, set()  # nothing was written anywhere since the cursor
    found: list[int] = []
    changed: set[int] = set()
    for source, version in session.execute(
        _probe(actor, reset, PAGE_CHANGES), {"since": since, "until": high}
    ):
        changed.add(int(source))
        found.append(int(version))
    if not found:
        return None, changed
    if len(found) <= PAGE_CHANGES:
        return high, changed
    found.sort()
    return found[PAGE_CHANGES - 1], changed


def _rows(session: Session, actor: Actor, place: int, since: int, end: int, reset: bool) -> Any:
    """The source's rows of the page, as a Core result read as it is merged: on the
    session's connection (so in its snapshot) and not through the ORM, which would fetch
    every row before handing over the first."""
    connection = session.connection()
    statement = _read(actor, place, reset, connection.dialect.name)
    return connection.execute(statement, {"since": since, "until": end})


def _tagged(name: str, result: Any) -> Iterator[tuple[int, str, Any]]:
    for row in result.mappings():
        yield row["version"], name, row


def pull(session: Session, *, actor: Actor, request: PullRequest) -> PullPage:
    client = session.get(SyncClient, request.client_id)
    check_owner(client, actor)  # rule 1
    high = versions.current(session)
    since = read_cursor(request.cursor, actor, high)
    reset = since is None  # rule 11: first pull, unknown cursor, scope or schema changed
    start = 0 if since is None else since

    # Rule 9: changes in version order, from every record type and the tombstones.
    end, changed = _page_end(session, actor, start, high, reset)
    # Streams, not lists: a row becomes Python objects only when the merge reaches it, so a
    # page holds its encoded JSON and a row per source, not 2,000 rows at once.
    results = (
        [
            (name, _rows(session, actor, place, start, end, reset))
            for place, (name, _, _) in enumerate(_sources(reset))
            if place in changed
        ]
        if end is not None
        else []
    )
    streams = [_tagged(name, result) for name, result in results]

    changes = bytearray()
    count = 0
    last_version = start
    more = False
    phones = id_numbers = 0
    carried: list[uuid.UUID] = []
    for version, record_type, row in heapq.merge(*streams, key=lambda item: item[0]):
        if len(changes) >= PAGE_BYTES:
            more = True  # rule 12: cut the page; the cursor stops at the last change sent
            break
        if not record_type:
            change = records.delete(row["record_type"], row["record_id"], version)
        elif row["deleted_at"] is not None:
            change = records.delete(record_type, str(row["id"]), version)  # rule 10
        else:
            change = records.put(record_type, row)
            has_phone, has_id = records.personal(record_type, change["data"])
            phones, id_numbers = phones + has_phone, id_numbers + has_id
            if record_type == "notice" and change["data"]["read_at"] is None:
                carried.append(uuid.UUID(change["id"]))
        if count:
            changes += b","
        changes += records.encode(change)
        count += 1
        last_version = version
    for _, result in results:
        result.close()  # a page cut by size leaves rows unread
    if not more and end is not None and end < high:
        more, last_version = True, end
    cursor_version = last_version if more else high
    return PullPage(
        cursor=make_cursor(cursor_version, actor),
        reset=reset,
        last_mutation_id=client.last_mutation_id if client else 0,  # rule 13
        more=more,
        changes=changes,
        count=count,
        phones=phones,
        id_numbers=id_numbers,
        registered=client is not None,
        total=_total(session, actor, high) if reset else None,
        notices=carried,
        report=device.stale(client, request.device),
    )


def settle(session: Session, *, actor: Actor, request: PullRequest, page: PullPage, ip: str = "") -> None:
    """What a page read leaves to write, in one short transaction after the snapshot: the
    client registered to its user (rule 1, as a push does), the phone's report of itself,
    the audit of the personal data the page carries and the delivery receipts of the
    notices it carries."""
    if not page.registered or page.report:
        client = claim(session, client_id=request.client_id, actor=actor)
        device.keep(session, client, request.device)
    if page.phones or page.id_numbers:
        personal_data.record_pull(
            session,
            actor=actor,
            client_id=request.client_id,
            records=page.count,
            phones_sent=page.phones,
            id_numbers_sent=page.id_numbers,
            ip=ip,
        )
    notice_commands.mark_delivered(session, notice_ids=page.notices, now=utcnow())
