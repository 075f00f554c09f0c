"""Server bookkeeping: the version counter, sync clients, outcomes, tombstones,
blobs, sessions, rate limits and run-time settings."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, LargeBinary
from sqlmodel import Field, SQLModel

from server.models.base import JSONField, scope_indexes, utcnow


class VersionCounter(SQLModel, table=True):
    """One row (id 1) holding the last version handed out (SYNC.md "version")."""

    __tablename__ = "version_counter"

    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0, sa_type=BigInteger)


class SyncClient(SQLModel, table=True):
    __tablename__ = "sync_client"

    client_id: uuid.UUID = Field(primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    last_mutation_id: int = Field(default=0, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    # The next mutation failed `failures` times for reasons not the client's (SYNC.md rule 6);
    # the engine rejects it once that reaches its limit.
    failing_mutation_id: int | None = Field(default=None, sa_type=BigInteger)
    failures: int = Field(default=0)
    # The phone's latest report of itself (sync/device.py), for the reconciliation (对账).
    device: dict[str, Any] | None = JSONField(None)
    device_at: datetime | None = None


# What the field app reports as `device.app_version` (server/routes/field.py `version`);
# other clients (scripts, the load suite) name themselves otherwise and are not governed.
APP_VERSION = re.compile(r"[0-9a-z]{12}")


class AppRelease(SQLModel, table=True):
    """A version of the field app this server has served, and since when: versions are content
    hashes, so this is what orders them (setting `app.minimum_version`)."""

    __tablename__ = "app_release"

    version: str = Field(primary_key=True, max_length=64)
    first_served_at: datetime = Field(default_factory=utcnow)


class MutationOutcome(SQLModel, table=True):
    """What a refused or conflicting mutation got the first time, for replays (SYNC.md rule 3).

    Applied mutations leave no row: every id up to the client's
    `last_mutation_id` without one was applied, which keeps that answer
    forever at no cost (a phone pushes hundreds of visits a day)."""

    __tablename__ = "mutation_outcome"

    client_id: uuid.UUID = Field(primary_key=True)
    mutation_id: int = Field(primary_key=True, sa_type=BigInteger)
    name: str
    status: str
    result: dict[str, Any] = JSONField(dict)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Tombstone(SQLModel, table=True):
    """A record left a scope (or was deleted) at `version` (SYNC.md rule 10)."""

    __tablename__ = "tombstone"
    # A pull reads one scope's tombstones in version order, like any record (issue 23: with
    # single-column indexes a 1-change pull over 100k tombstones went from 25 to 92 ms).
    __table_args__ = scope_indexes("tombstone", "community_id", "grid_id", "department_id")
    scope_columns: ClassVar[tuple[str, ...]] = ("community_id", "grid_id", "department_id")

    version: int = Field(primary_key=True, sa_type=BigInteger)
    record_type: str
    record_id: uuid.UUID
    community_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Blob(SQLModel, table=True):
    sha256: str = Field(primary_key=True, max_length=64)
    content_type: str
    size: int
    data: bytes = Field(sa_type=LargeBinary)
    created_by: uuid.UUID | None = None
    created_at: datetime = Field(default_factory=utcnow)


class BlobHolder(SQLModel, table=True):
    """Who has uploaded a blob's bytes: a hash alone is not a key (SYNC.md "Attachments").
    Several users may upload the same bytes; each then holds them."""

    __tablename__ = "blob_holder"

    sha256: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class BlobRef(SQLModel, table=True):
    """Which record refers to which blob: who may read a blob follows from it.

    A reference made before the bytes arrive is `pending` and opens the blob to no
    one until its referrer (`created_by`) uploads them."""

    __tablename__ = "blob_ref"

    sha256: str = Field(primary_key=True, max_length=64)
    record_type: str = Field(primary_key=True)
    record_id: uuid.UUID = Field(primary_key=True)
    created_by: uuid.UUID | None = None
    pending: bool = False


class UserSession(SQLModel, table=True):
    __tablename__ = "user_session"

    # SHA-256 of the token in the cookie; a leaked database does not leak sessions.
    id: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    csrf_token: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    last_seen_at: datetime = Field(default_factory=utcnow)
    user_agent: str = ""


class RateLimit(SQLModel, table=True):
    __tablename__ = "rate_limit"

    key: str = Field(primary_key=True)
    window_start: datetime = Field(primary_key=True)
    count: int = 0


class Preference(SQLModel, table=True):
    """A run-time setting admins change on the settings page."""

    key: str = Field(primary_key=True)
    value: Any = JSONField(None)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: uuid.UUID | None = None
