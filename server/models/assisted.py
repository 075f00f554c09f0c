"""Assisted applications (帮代办, 代办件): a worker applies for a service item on a resident's behalf."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field

from server.models.base import JSONField, SyncRecord, scope_indexes


class AssistedStatus(StrEnum):
    received = "received"  # 收件: collected at the door
    submitted = "submitted"  # 已递交: handed to the window or department
    completed = "completed"  # 办结: done, with the result
    delivered = "delivered"  # 已送达: the result is with the resident
    returned = "returned"  # 退回补件: materials missing
    withdrawn = "withdrawn"  # 撤回


class AssistedApplication(SyncRecord, table=True):
    __tablename__ = "assisted_application"
    __table_args__ = scope_indexes("assisted_application", "grid_id", "community_id", "department_id")
    sync_type = "assisted_application"
    scope_columns = ("community_id", "grid_id", "department_id")
    private_columns = frozenset({"rating_token"})

    item_id: uuid.UUID = Field(foreign_key="service_item.id", index=True)
    # The item as it read when the application began (service_item_revision), kept whatever
    # the guide says later: its name, and the materials the checklist counts.
    item_revision: int
    item_name: str
    materials: list[dict[str, Any]] = JSONField(list)
    resident_id: uuid.UUID = Field(foreign_key="resident.id", index=True)
    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    community_id: uuid.UUID = Field(foreign_key="community.id")
    grid_id: uuid.UUID = Field(foreign_key="grid.id")
    department_id: uuid.UUID | None = Field(default=None, foreign_key="department.id")
    status: str = Field(default=AssistedStatus.received, index=True)
    collected: list[int] = JSONField(list)  # indexes into `materials` collected at the door
    photos: list[str] = JSONField(list)
    notes: str = ""
    # {consent_at (ISO), consent_version}: the resident agreed to us acting on their behalf.
    consent: dict[str, Any] = JSONField(dict)
    missing: str = ""  # 退回补件: what is missing
    result: str = ""  # 办结: the outcome
    reason: str = ""  # 撤回: why
    time_limit: str = "1"  # working days, as server/workflows/workdays.TimeLimit reads it
    received_at: datetime | None = None
    deadline: datetime | None = Field(default=None, index=True)
    completed_at: datetime | None = None
    delivered_at: datetime | None = None
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    # After 已送达 the resident rates it, as requests are rated: the rating, how it reached us
    # (resident: their own link; proxy: the link opened where Doorstep is signed in; phone:
    # staff calling back) and who recorded it. A 不满意 (差评) waits for the office's
    # rectification: what was done about it, when and by whom.
    rating: str | None = None
    rating_comment: str = ""
    rating_channel: str = ""
    rated_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    rating_token: str = Field(default="", index=True)  # the single-use link /ra/{token}
    rectification: str = ""
    rectified_at: datetime | None = None
    rectified_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    # Every step: [{"kind", "from", "to", "at" (ISO), "actor_id", "note"}], oldest first.
    history: list[dict[str, Any]] = JSONField(list)
