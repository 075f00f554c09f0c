"""Visits: a worker at a household's door."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field

from server.models.base import JSONField, SyncRecord, scope_indexes, utcnow


class VisitPurpose(StrEnum):
    routine = "routine"
    care = "care"
    service = "service"
    follow_up = "follow_up"


class VisitOutcome(StrEnum):
    completed = "completed"
    nobody_home = "nobody_home"
    refused = "refused"
    planned = "planned"  # not yet done: a visit put on the worker's list


class Visit(SyncRecord, table=True):
    __table_args__ = (
        *scope_indexes("visit", "grid_id", "community_id"),
        # A household's latest live visit of an outcome is one seek in this index alone (care
        # visits): newest first by `at`, `deleted_at` read from the index.
        Index("ix_visit_household_outcome_at", "household_id", "outcome", "at", "deleted_at"),
    )
    sync_type = "visit"
    scope_columns = ("community_id", "grid_id")

    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    community_id: uuid.UUID = Field(foreign_key="community.id")
    grid_id: uuid.UUID = Field(foreign_key="grid.id")
    worker_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    purpose: str = VisitPurpose.routine
    outcome: str = VisitOutcome.completed
    notes: str = ""
    photos: list[str] = JSONField(list)
    # Service items (办事指南) explained at the door (一次性告知), by id.
    explained_items: list[str] = JSONField(list, sa_column_kwargs={"server_default": "[]"})
    at: datetime = Field(default_factory=utcnow)
    planned_for: date | None = None
