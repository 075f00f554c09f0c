"""An import of the household ledger started on the office page: the file, its dry run, then
the import itself, batch by batch, so that a restarted server resumes it (docs/ledger.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from server.models.base import JSONField, new_id, utcnow


class ImportStatus(StrEnum):
    checking = "checking"  # the dry run is queued or running
    checked = "checked"  # the preview waits for the user to confirm
    importing = "importing"  # confirmed; queued or running, resumed after a restart
    done = "done"
    failed = "failed"  # the file could not be read at all (`message` says why)


class LedgerImport(SQLModel, table=True):
    __tablename__ = "ledger_import"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    community_id: uuid.UUID | None = Field(default=None, foreign_key="community.id")
    file_name: str
    sha256: str
    # In the database, not on one server's disk: any app server or worker may run the job.
    content: bytes = Field(sa_type=LargeBinary)
    status: str = Field(default=ImportStatus.checking, index=True)
    rows: int = 0  # data rows of the sheet
    rows_done: int = 0  # of the rows that passed the checks, written so far
    rows_total: int = 0
    households_done: int = 0  # the plan's households written so far: where a resumed job starts
    preview: dict[str, Any] = JSONField(dict)  # the dry run's counts
    counts: dict[str, Any] = JSONField(dict)  # the import's counts so far
    refusals: list[Any] = JSONField(list)  # [row number, reason] of rows refused while writing
    errors_book: bytes | None = Field(default=None, sa_type=LargeBinary)
    message: str = ""
    claimed_until: datetime | None = None  # a runner's lease; a lapsed one is taken over
