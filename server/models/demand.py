"""Residents' requests (微诉求, code name demand) and the events of their life."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field

from server.models.base import JSONField, SyncRecord, scope_indexes, utcnow


class DemandStatus(StrEnum):
    submitted = "submitted"
    dispatched = "dispatched"
    accepted = "accepted"
    in_progress = "in_progress"
    replied = "replied"
    transferred = "transferred"
    escalated = "escalated"
    resolved = "resolved"
    rectifying = "rectifying"
    closed = "closed"


class Demand(SyncRecord, table=True):
    __table_args__ = scope_indexes("demand", "grid_id", "community_id", "department_id")
    sync_type = "demand"
    scope_columns = ("community_id", "grid_id", "department_id")
    private_columns = frozenset({"rating_token"})

    community_id: uuid.UUID = Field(foreign_key="community.id")
    grid_id: uuid.UUID | None = Field(default=None, foreign_key="grid.id")
    department_id: uuid.UUID | None = Field(default=None, foreign_key="department.id")
    household_id: uuid.UUID | None = Field(default=None, foreign_key="household.id", index=True)
    field: str
    description: str
    source: str
    status: str = Field(default=DemandStatus.submitted, index=True)
    handling_type: str | None = None
    priority: str = "normal"
    deadline: datetime | None = None
    # The limit the deadline was set with: "3" working days, "4h" (setting demand.time_limits).
    time_limit: str = ""
    # The clock stopped (waiting for the resident or a joint meeting).
    suspended_at: datetime | None = None
    assignee_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    contact_name: str = ""
    contact_phone: str = ""
    address: str = ""
    # Where the request is, when it was given without a household (the phone's position):
    # the grid whose centre is nearest is suggested for dispatch.
    lat: float | None = None
    lng: float | None = None
    photos: list[str] = JSONField(list)
    answer: str = ""
    rating: str | None = None
    rating_comment: str = ""
    # How the rating reached us: resident (their own link, no Doorstep session), visit (the worker
    # at the follow-up visit), phone (staff calling back), proxy (the link opened in a signed-in
    # browser: 代录, never the resident's own); and who recorded it.
    rating_channel: str = ""
    rated_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    # The resident's single-use rating link (/r/{token}); made when the request is answered.
    rating_token: str = Field(default="", index=True)
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


class DemandEvent(SyncRecord, table=True):
    __tablename__ = "demand_event"
    __table_args__ = scope_indexes("demand_event", "grid_id", "community_id", "department_id")
    sync_type = "demand_event"
    scope_columns = ("community_id", "grid_id", "department_id")

    demand_id: uuid.UUID = Field(foreign_key="demand.id", index=True)
    community_id: uuid.UUID = Field(foreign_key="community.id")
    grid_id: uuid.UUID | None = Field(default=None, foreign_key="grid.id")
    department_id: uuid.UUID | None = Field(default=None, foreign_key="department.id")
    kind: str
    from_status: str | None = None
    to_status: str | None = None
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    note: str = ""
    photos: list[str] = JSONField(list)
    at: datetime = Field(default_factory=utcnow)
