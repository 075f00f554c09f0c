"""What every table shares: ids, clocks, and the shape of a syncable record."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Index
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def JSONField(default: Any = None, **kw: Any) -> Any:
    if callable(default):
        return Field(default_factory=default, sa_type=JSON, **kw)
    return Field(default=default, sa_type=JSON, **kw)


def scope_indexes(table: str, *columns: str) -> tuple[Index, ...]:
    """Indexes that let a pull read one scope in version order."""
    return tuple(Index(f"ix_{table}_{column}_version", column, "version") for column in columns)


class SyncRecord(SQLModel):
    """A row phones can hold (SYNC.md "record").

    `version` is assigned by `server.versions` on every flush that changes the
    row, whatever code path made the change; `deleted_at` makes a soft delete
    that pulls as `del`.
    """

    sync_type: ClassVar[str] = ""
    # Columns that decide who may hold the row; changing one of them is a
    # scope change and leaves a tombstone for the old scope (SYNC.md rule 10).
    scope_columns: ClassVar[tuple[str, ...]] = ()
    # Columns that are never sent to phones.
    private_columns: ClassVar[frozenset[str]] = frozenset()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    version: int = Field(default=0, sa_type=BigInteger, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = Field(default=None)
    # {column: [version, client_id]} of each column's last change, so an update
    # made on an older base can tell a real conflict from its own earlier edit
    # (SYNC.md rule 8). Kept by `server.versions`; never sent to phones.
    field_versions: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
