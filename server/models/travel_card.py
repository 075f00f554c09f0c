"""Elderly travel card applications (老年出行卡) and the history of their steps."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field

from server.models.base import JSONField, SyncRecord, scope_indexes, utcnow


class CardStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    needs_supplement = "needs_supplement"
    rejected = "rejected"
    approved = "approved"
    in_production = "in_production"
    ready = "ready"
    issued = "issued"
    cancelled = "cancelled"


class TravelCard(SyncRecord, table=True):
    __tablename__ = "travel_card"
    __table_args__ = scope_indexes("travel_card", "grid_id", "community_id")
    sync_type = "travel_card"
    scope_columns = ("community_id", "grid_id")
    private_columns = frozenset({"applicant_hash"})

    resident_id: uuid.UUID = Field(foreign_key="resident.id", index=True)
    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    community_id: uuid.UUID = Field(foreign_key="community.id")
    grid_id: uuid.UUID = Field(foreign_key="grid.id")
    # Keyed hash of the applicant's ID number: one open application per person.
    applicant_hash: str = Field(default="", index=True)
    status: str = Field(default=CardStatus.draft, index=True)
    delivery: str = "collect"
    tier: str = "free"
    residence: str = ""  # hukou 户籍 | permit 居住证
    # {id_seen, photo_taken, consent, consent_at (ISO, when the applicant agreed), consent_version}
    checklist: dict[str, Any] = JSONField(dict)
    photo: str | None = None
    proxy: dict[str, Any] | None = JSONField(None)
    reason: str = ""
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    applied_on: date | None = None
    submitted_at: datetime | None = None
    issued_at: datetime | None = None
    review_due: date | None = Field(default=None, index=True)
    # The planned visit for the current yearly review (年审), so it is planned once.
    review_visit_id: uuid.UUID | None = None


class TravelCardEvent(SyncRecord, table=True):
    __tablename__ = "travel_card_event"
    __table_args__ = scope_indexes("travel_card_event", "grid_id", "community_id")
    sync_type = "travel_card_event"
    scope_columns = ("community_id", "grid_id")

    application_id: uuid.UUID = Field(foreign_key="travel_card.id", index=True)
    community_id: uuid.UUID = Field(foreign_key="community.id")
    grid_id: uuid.UUID = Field(foreign_key="grid.id")
    kind: str
    from_status: str | None = None
    to_status: str | None = None
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    note: str = ""
    at: datetime = Field(default_factory=utcnow)
