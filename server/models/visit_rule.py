"""Visit rules: whom a community's workers should see, and how often (issue 17)."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlmodel import Field

from server.models.base import SyncRecord, scope_indexes


class VisitRuleSubject(StrEnum):
    """Which residents a rule names: carriers of a tag, people of an age, or a household's status."""

    tag = "tag"
    age = "age"
    household_status = "household_status"


class VisitRulePriority(StrEnum):
    high = "high"
    normal = "normal"
    low = "low"


class VisitRule(SyncRecord, table=True):
    __tablename__ = "visit_rule"
    __table_args__ = scope_indexes("visit_rule", "community_id")
    sync_type = "visit_rule"
    # Every worker of the community holds the community's rules (reference data of one community).
    scope_columns = ("community_id",)

    community_id: uuid.UUID = Field(foreign_key="community.id")
    name: str
    subject: str = VisitRuleSubject.tag
    tag_code: str = ""  # subject tag
    min_age: int | None = None  # subject age: this age or older, from the birth date
    household_status: str = ""  # subject household_status
    interval_days: int
    priority: str = VisitRulePriority.normal
    active: bool = True
