"""Push notifications: browsers' subscriptions, the outbox of news for people, and each delivery.

A `PushNotification` is one piece of news for one person, written in the same
transaction as the change it tells of. The sender turns what waits for a
person into one message (a summary when several wait) and one `PushDelivery`
per subscription of theirs, claimed by one sender at a time; every try is a
`PushAttempt`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, Text
from sqlmodel import Field, SQLModel

from server.models.base import new_id, utcnow

DEFAULT_TTL = 24 * 3600


class PushSubscription(SQLModel, table=True):
    """A browser's `PushSubscription` for one user, on one sync client (one installed app)."""

    __tablename__ = "push_subscription"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    client_id: uuid.UUID | None = Field(default=None, index=True)
    endpoint: str = Field(sa_type=Text)
    # SHA-256 of the endpoint: endpoints can be long, the unique index stays small.
    endpoint_hash: str = Field(max_length=64, unique=True)
    p256dh: str
    auth: str
    expiration_time: datetime | None = None
    user_agent: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_success_at: datetime | None = None


class PushNotification(SQLModel, table=True):
    """One piece of news for one person, waiting in the outbox until a sender takes it."""

    __tablename__ = "push_notification"
    __table_args__ = (Index("ix_push_notification_status_created_at", "status", "created_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    kind: str
    title: str
    body: str
    url: str
    tag: str
    urgency: str = "normal"  # Web Push Urgency: very-low | low | normal | high
    ttl: int = DEFAULT_TTL
    record_type: str | None = None
    record_id: uuid.UUID | None = None
    # Set for news that must be told once only (reminders): a second one is not written.
    dedupe_key: str | None = Field(default=None, unique=True)
    status: str = "pending"  # pending | composed (into a delivery) | unsubscribed | expired
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    # The message (and its deliveries) that carried it.
    group_id: uuid.UUID | None = None


class PushDelivery(SQLModel, table=True):
    """One message to one subscription; a sender claims it with a lease, so it goes out once."""

    __tablename__ = "push_delivery"
    __table_args__ = (Index("ix_push_delivery_status_next_attempt_at", "status", "next_attempt_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    group_id: uuid.UUID = Field(index=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    subscription_id: uuid.UUID = Field(index=True)
    payload: str = Field(sa_type=Text)
    topic: str = ""
    urgency: str = "normal"
    expires_at: datetime
    # waiting (for its next attempt) | sending (claimed) | sent | gone | failed | expired | too_large
    status: str = "waiting"
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_until: datetime | None = None
    claimed_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class PushAttempt(SQLModel, table=True):
    """Every try to hand a delivery to a push service, and what came of it."""

    __tablename__ = "push_attempt"

    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    delivery_id: uuid.UUID = Field(index=True)
    subscription_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    origin: str = ""
    at: datetime = Field(default_factory=utcnow, index=True)
    status_code: int | None = None
    outcome: str  # sent | retry | gone | failed | too_large | expired
    detail: str = ""
    retry_at: datetime | None = None
    duration_ms: int = 0
