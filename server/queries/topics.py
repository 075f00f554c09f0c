"""Reads of deliberation (议事) for the office pages and the public page: topics with their
opinions counted by 小区/楼栋 and by channel, meetings with their agenda and minutes.

Opinions are counted per building and per channel, never per household or worker: no ranking
(docs/principles.md). The public page reads only what is published, and no personal data.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from server.access import Actor, get_visible, scope_filter
from server.models import (
    Community,
    Demand,
    DemandStatus,
    Department,
    Grid,
    Household,
    Meeting,
    Opinion,
    Topic,
    TopicEvent,
    User,
)
from server.workflows import demands as demand_flow
from server.workflows import topics as flow

STANCES = ("for", "conditional", "against", "none")


@dataclass
class Tally:
    """Stances counted: for, conditional, against, none, and all of them."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, stance: str) -> None:
        self.counts[stance] += 1

    @property
    def cells(self) -> list[int]:
        return [self.counts[s] for s in STANCES]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Comment:
    stance: str
    comment: str
    channel: str
    at: datetime


@dataclass
class Step:
    kind: str
    note: str
    at: datetime
    actor: str


@dataclass
class TopicDetail:
    topic: Topic
    door: Tally
    resident: Tally
    by_building: list[tuple[str, Tally]]
    comments: list[Comment]
    history: list[Step]
    steps: list[str]
    meetings: list[Meeting]
    demand: Demand | None


@dataclass
class TopicRow:
    topic: Topic
    tally: Tally


def topic_list(session: Session, actor: Actor) -> tuple[list[TopicRow], list[Meeting]]:
    topics = session.exec(
        select(Topic)
        .where(scope_filter(actor, Topic), col(Topic.deleted_at).is_(None))
        .order_by(col(Topic.created_at).desc())
    ).all()
    tallies: dict[uuid.UUID, Tally] = {t.id: Tally() for t in topics}
    if topics:
        rows = session.exec(
            select(Opinion.topic_id, Opinion.stance).where(col(Opinion.topic_id).in_(list(tallies)))
        ).all()
        for topic_id, stance in rows:
            tallies[topic_id].add(stance)
    meetings = session.exec(
        select(Meeting)
        .where(scope_filter(actor, Meeting), col(Meeting.deleted_at).is_(None))
        .order_by(col(Meeting.starts_at).desc())
    ).all()
    return [TopicRow(t, tallies[t.id]) for t in topics], list(meetings)


def _names(session: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {u.id: u.display_name for u in session.exec(select(User).where(col(User.id).in_(wanted))).all()}


def topic_detail(session: Session, actor: Actor, topic_id: uuid.UUID) -> TopicDetail:
    topic = get_visible(session, actor, Topic, topic_id)
    rows = session.exec(
        select(Opinion, Household.estate, Household.building)
        .join(Household, col(Household.id) == col(Opinion.household_id), isouter=True)
        .where(Opinion.topic_id == topic.id, col(Opinion.deleted_at).is_(None))
        .order_by(col(Opinion.at))
    ).all()
    door, resident = Tally(), Tally()
    buildings: dict[str, Tally] = {}
    comments = []
    for opinion, estate, building in rows:
        if opinion.channel == "door":
            door.add(opinion.stance)
            name = " ".join(part for part in (estate, building) if part) or "—"
            buildings.setdefault(name, Tally()).add(opinion.stance)
        else:
            resident.add(opinion.stance)
        if opinion.comment:
            comments.append(Comment(opinion.stance, opinion.comment, opinion.channel, opinion.at))
    events = session.exec(
        select(TopicEvent).where(TopicEvent.topic_id == topic.id).order_by(col(TopicEvent.at))
    ).all()
    names = _names(session, {e.actor_id for e in events})
    meetings = session.exec(
        select(Meeting).where(Meeting.community_id == topic.community_id, col(Meeting.deleted_at).is_(None))
    ).all()
    on_agenda = [m for m in meetings if any(i.get("topic_id") == str(topic.id) for i in m.agenda)]
    return TopicDetail(
        topic=topic,
        door=door,
        resident=resident,
        by_building=sorted(buildings.items(), key=lambda item: _natural(item[0])),
        comments=comments,
        history=[Step(e.kind, e.note, e.at, names.get(e.actor_id, "") if e.actor_id else "") for e in events],
        steps=flow.steps_for(actor.role, topic.status),
        meetings=sorted(on_agenda, key=lambda m: m.starts_at),
        demand=session.get(Demand, topic.demand_id) if topic.demand_id else None,
    )


def _natural(text: str) -> tuple[Any, ...]:
    """ "2栋" before "10栋"."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


@dataclass
class AgendaItem:
    topic: Topic
    tally: Tally
    minutes: str
    result: str
    note: str
    demand_id: str


@dataclass
class DecidedDemand:
    demand: Demand
    minutes: str
    note: str


@dataclass
class MeetingDetail:
    meeting: Meeting
    community: Community
    items: list[AgendaItem]
    escalated: list[Demand]  # a planned joint meeting: the requests escalated to it, to decide
    decided: list[DecidedDemand]  # the requests its minutes decided
    grids: list[Grid]
    candidates: list[Topic]  # open topics not on the agenda yet
    departments: list[Department]
    fields: dict[str, str]


def meeting_detail(session: Session, actor: Actor, meeting_id: uuid.UUID) -> MeetingDetail:
    meeting = get_visible(session, actor, Meeting, meeting_id)
    ids = [uuid.UUID(str(i["topic_id"])) for i in meeting.agenda if i.get("topic_id")]
    topics = {t.id: t for t in session.exec(select(Topic).where(col(Topic.id).in_(ids))).all()} if ids else {}
    tallies: dict[uuid.UUID, Tally] = {i: Tally() for i in ids}
    if ids:
        for topic_id, stance in session.exec(
            select(Opinion.topic_id, Opinion.stance).where(col(Opinion.topic_id).in_(ids))
        ).all():
            tallies[topic_id].add(stance)
    items = [
        AgendaItem(
            topics[uuid.UUID(str(i["topic_id"]))],
            tallies[uuid.UUID(str(i["topic_id"]))],
            str(i.get("minutes", "")),
            str(i.get("result", "")),
            str(i.get("note", "")),
            str(i.get("demand_id", "")),
        )
        for i in meeting.agenda
        if i.get("topic_id") and uuid.UUID(str(i["topic_id"])) in topics
    ]
    decided_ids = {str(i["demand_id"]): i for i in meeting.agenda if i.get("result") == "decided"}
    rows = (
        session.exec(select(Demand).where(col(Demand.id).in_([uuid.UUID(k) for k in decided_ids]))).all()
        if decided_ids
        else []
    )
    decided = [
        DecidedDemand(
            d, str(decided_ids[str(d.id)].get("minutes", "")), str(decided_ids[str(d.id)].get("note", ""))
        )
        for d in rows
    ]
    escalated = (
        session.exec(
            select(Demand)
            .where(
                Demand.community_id == meeting.community_id,
                Demand.status == DemandStatus.escalated,
                col(Demand.deleted_at).is_(None),
            )
            .order_by(col(Demand.created_at))
        ).all()
        if meeting.kind == "joint" and meeting.status == "planned"
        else []
    )
    candidates = session.exec(
        select(Topic).where(
            Topic.community_id == meeting.community_id,
            col(Topic.status).in_(flow.OPEN),
            col(Topic.deleted_at).is_(None),
        )
    ).all()
    community = session.get(Community, meeting.community_id)
    assert community is not None
    departments = session.exec(
        select(Department).where(col(Department.deleted_at).is_(None)).order_by(col(Department.name))
    ).all()
    return MeetingDetail(
        meeting=meeting,
        community=community,
        items=items,
        escalated=list(escalated),
        decided=decided,
        grids=list(
            session.exec(
                select(Grid)
                .where(Grid.community_id == meeting.community_id, col(Grid.deleted_at).is_(None))
                .order_by(col(Grid.code))
            ).all()
        ),
        candidates=[t for t in candidates if t.id not in topics],
        departments=list(departments),
        fields=demand_flow.field_names(session),
    )


@dataclass
class PublicTopic:
    title: str
    status: str
    decision: str
    owners: list[str]
    due_at: datetime | None
    decided_at: datetime | None
    progress: list[Step]


def published(session: Session, community: Community) -> list[PublicTopic]:
    """The community's decided topics, their decision and progress to 查事: titles, decisions,
    owners (names of units), dates and progress notes; never who proposed or answered."""
    topics = session.exec(
        select(Topic)
        .where(
            Topic.community_id == community.id,
            col(Topic.status).in_(flow.PUBLISHED),
            col(Topic.deleted_at).is_(None),
        )
        .order_by(col(Topic.decided_at).desc())
    ).all()
    shown = {"decided", "resolved", "referred", "progress", "finished", "checked"}
    found = []
    for topic in topics:
        events = session.exec(
            select(TopicEvent)
            .where(TopicEvent.topic_id == topic.id, col(TopicEvent.kind).in_(shown))
            .order_by(col(TopicEvent.at))
        ).all()
        found.append(
            PublicTopic(
                topic.title,
                topic.status,
                topic.decision,
                list(topic.owners),
                topic.due_at,
                topic.decided_at,
                [Step(e.kind, e.note, e.at, "") for e in events],
            )
        )
    return found


def open_topics(session: Session, community: Community) -> list[Topic]:
    """Topics residents may answer through the public link."""
    return list(
        session.exec(
            select(Topic).where(
                Topic.community_id == community.id,
                col(Topic.status).in_(flow.OPEN),
                col(Topic.deleted_at).is_(None),
            )
        ).all()
    )
