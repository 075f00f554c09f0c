"""The audit log: every view of sensitive data, every export and every change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer
from sqlmodel import Field, SQLModel

from server.models.base import JSONField, utcnow


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: uuid.UUID | None = Field(default=None, index=True)
    action: str = Field(index=True)
    record_type: str = ""
    record_id: str = Field(default="", index=True)
    detail: dict[str, Any] = JSONField(dict)
    ip: str = ""
