"""Handovers (转交): an edit a phone made offline of a record that has since left its worker's
scope, kept for whoever holds the record now instead of being refused and forgotten (issue 22)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from server.models.base import JSONField, new_id, utcnow


class HandoverStatus(StrEnum):
    open = "open"
    applied = "applied"
    dismissed = "dismissed"


class Handover(SQLModel, table=True):
    __tablename__ = "handover"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    community_id: uuid.UUID = Field(foreign_key="community.id", index=True)
    grid_id: uuid.UUID | None = Field(default=None, foreign_key="grid.id", index=True)
    record_type: str
    record_id: uuid.UUID
    # The refused mutation, as the phone sent it.
    client_id: uuid.UUID
    mutation_id: int = Field(sa_type=BigInteger)
    name: str
    args: dict[str, Any] = JSONField(dict)
    at: datetime | None = None  # when the old worker acted, on the phone's clock
    from_user_id: uuid.UUID = Field(foreign_key="user.id")
    from_name: str
    handed_to: str  # who holds the record now, as the old phone is told
    status: str = Field(default=HandoverStatus.open, index=True)
    reason: str = ""
    resolved_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    resolved_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
