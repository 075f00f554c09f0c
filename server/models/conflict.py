"""Conflicts: two people set the same field while apart; both values are kept."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field

from server.models.base import JSONField, SyncRecord, scope_indexes


class Conflict(SyncRecord, table=True):
    __table_args__ = scope_indexes("conflict", "grid_id", "community_id")
    sync_type = "conflict"
    scope_columns = ("community_id", "grid_id")

    community_id: uuid.UUID = Field(foreign_key="community.id")
    grid_id: uuid.UUID | None = Field(default=None, foreign_key="grid.id")
    record_type: str
    record_id: uuid.UUID = Field(index=True)
    field: str
    server_value: Any = JSONField(None)
    client_value: Any = JSONField(None)
    base_version: int = 0
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    client_id: uuid.UUID | None = None
    status: str = Field(default="open", index=True)  # open | resolved
    resolution: str | None = None  # server | client
    resolved_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = None
