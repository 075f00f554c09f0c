"""The county gateway (SMS, 企业微信, 钉钉/赣政通): who opted in, and each notice handed over.

A `GatewayOptIn` names the notice kinds a person wants by the county's own
bridge as well (none listed: urgent notices only). A `GatewayDelivery` is one
notice posted to the gateway, at most once successfully: its notice id is the
idempotency key the bridge sees.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from server.models.base import JSONField, new_id, utcnow


class GatewayOptIn(SQLModel, table=True):
    __tablename__ = "gateway_optin"

    user_id: uuid.UUID = Field(foreign_key="user.id", primary_key=True)
    kinds: list[str] | None = JSONField(None)  # None: urgent notices only
    created_at: datetime = Field(default_factory=utcnow)


class GatewayDelivery(SQLModel, table=True):
    __tablename__ = "gateway_delivery"
    __table_args__ = (Index("ix_gateway_delivery_status_next_attempt_at", "status", "next_attempt_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    notice_id: uuid.UUID = Field(foreign_key="notice.id", unique=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    status: str = "waiting"  # waiting | sending (claimed) | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    last_status: int | None = None
    last_error: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
