"""Deliberation (议事): topics, their steps, residents' opinions, and the meetings that decide them
(issue 21; the five steps of 邻聚里 and the 书记下午茶)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from server.models.base import JSONField, SyncRecord, new_id, scope_indexes, utcnow


class TopicStatus(StrEnum):
    collecting = "collecting"  # 征集: open for opinions
    deliberating = "deliberating"  # 审议 taken up; 协商 on a meeting's agenda
    declined = "declined"  # 审议 declined, or 不予采纳 at a meeting (with a reason)
    implementing = "implementing"  # 公布 + 落实: decided, owners at work
    checking = "checking"  # 查事: done, residents asked whether it was
    closed = "closed"  # 当场解决, or 查事 confirmed


class Topic(SyncRecord, table=True):
    __table_args__ = scope_indexes("topic", "community_id")
    sync_type = "topic"
    # Every worker of the community holds its topics: any door may be asked about them.
    scope_columns = ("community_id",)

    community_id: uuid.UUID = Field(foreign_key="community.id")
    # A topic of one grid (a building's charging shed) or, without, of the whole community.
    grid_id: uuid.UUID | None = Field(default=None, foreign_key="grid.id")
    title: str
    description: str = ""
    status: str = Field(default=TopicStatus.collecting, index=True)
    # Where it came from: demand (提交议事 on a request), visit, public (the resident form), staff.
    source: str = "staff"
    demand_id: uuid.UUID | None = Field(default=None, foreign_key="demand.id")
    visit_id: uuid.UUID | None = Field(default=None, foreign_key="visit.id")
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    # 公布: what was decided (or the answer given on the spot); 不予采纳 / declined: why.
    decision: str = ""
    reason: str = ""
    # 落实: who carries it out and by when (working days from the decision).
    owners: list[str] = JSONField(list)
    due_at: datetime | None = None
    # 查事: the residents' verdict (done | not_done).
    verdict: str = ""
    decided_at: datetime | None = None
    closed_at: datetime | None = None


class TopicEvent(SQLModel, table=True):
    """One step of a topic: who took it, when, with what note (its audit trail)."""

    __tablename__ = "topic_event"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    topic_id: uuid.UUID = Field(foreign_key="topic.id", index=True)
    kind: str
    from_status: str | None = None
    to_status: str | None = None
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    meeting_id: uuid.UUID | None = Field(default=None, foreign_key="meeting.id")
    note: str = ""
    photos: list[str] = JSONField(list)
    at: datetime = Field(default_factory=utcnow)


class Opinion(SyncRecord, table=True):
    """A household's stance on a topic, asked at the door (channel door), or a resident's own
    answer through the topic's public link (channel resident, no household, counted apart)."""

    __table_args__ = (
        UniqueConstraint("topic_id", "household_id", name="uq_opinion_topic_household"),
        UniqueConstraint("topic_id", "phone_hash", name="uq_opinion_topic_phone"),
        *scope_indexes("opinion", "community_id", "grid_id"),
    )
    sync_type = "opinion"
    scope_columns = ("community_id", "grid_id")
    private_columns = frozenset({"phone_hash"})

    topic_id: uuid.UUID = Field(foreign_key="topic.id", index=True)
    community_id: uuid.UUID = Field(foreign_key="community.id")
    grid_id: uuid.UUID | None = Field(default=None, foreign_key="grid.id")
    household_id: uuid.UUID | None = Field(default=None, foreign_key="household.id")
    stance: str  # for 赞成 | conditional 有条件赞成 | against 反对 | none 无意见
    comment: str = ""
    channel: str = "door"
    recorded_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    # One answer per phone number on the public link (a keyed hash, never the number).
    phone_hash: str | None = None
    at: datetime = Field(default_factory=utcnow)


class MeetingStatus(StrEnum):
    planned = "planned"
    held = "held"  # minutes closed


class Meeting(SyncRecord, table=True):
    __table_args__ = scope_indexes("meeting", "community_id")
    sync_type = "meeting"
    scope_columns = ("community_id",)

    community_id: uuid.UUID = Field(foreign_key="community.id")
    kind: str = "tea"  # 书记下午茶 | pavilion 凉亭议事会 | joint 联席会议 | residents 居民议事会
    title: str = ""
    starts_at: datetime
    place: str = ""
    status: str = Field(default=MeetingStatus.planned, index=True)
    # Participants by category: [{"category": "社区书记", "name": "…", "present": true}, …].
    participants: list[dict[str, object]] = JSONField(list)
    # The agenda in order, with minutes and outcome per topic:
    # [{"topic_id", "minutes", "outcome", "note", "demand_id"}, …].
    agenda: list[dict[str, object]] = JSONField(list)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    held_at: datetime | None = None
