"""Domain commands for deliberation (议事): topics, opinions gathered at the door or through a
topic's public link, and the meetings whose minutes decide them — the one write path for the
office pages and the sync mutation `topic.opinion`.

The rules (steps, roles, outcomes) are `server.workflows.topics`. Checks run in one order:
arguments (`invalid_args`), role (`forbidden`), scope (`not_found` / `out_of_scope`), the
current status (`invalid_transition`). A refused command changes nothing. Every step writes a
TopicEvent (who, when, note) and an audit row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from server import audit, preferences
from server.access import Actor, Forbidden, NotFound, get_visible
from server.clock import step_time
from server.commands import demands as demand_commands
from server.commands.households import check_phone
from server.commands.validation import validate
from server.errors import IdReused, InvalidInput, InvalidTransition
from server.i18n import _l, labels
from server.i18n import gettext as _
from server.models import (
    Community,
    Demand,
    Department,
    Grid,
    Household,
    Meeting,
    MeetingStatus,
    Opinion,
    Topic,
    TopicEvent,
    TopicStatus,
    Visit,
    utcnow,
)
from server.people.vault import Vault
from server.workflows import demands as demand_flow
from server.workflows import topics as flow
from server.workflows.workdays import TimeLimit

S = TopicStatus
M = TypeVar("M", bound=BaseModel)
StanceCode = Literal["for", "conditional", "against", "none"]
SourceCode = Literal["demand", "visit", "staff"]
KindCode = Literal["tea", "pavilion", "joint", "residents"]
ResultCode = Literal["", "resolved", "department", "continue", "rejected"]
# The opinion's id is derived from the topic and the household: one answer per household per
# topic whichever phone or page records it, and the same id on a phone that records it again.
OPINION_NS = uuid.UUID("6b1f3c52-8f0e-4f62-9a8e-0d0c5e2b7a21")


# What the fields are called in refusals (the shared labels name the others).
NAMES = {
    "title": _l("议题名称"),
    "description": _l("议题说明"),
    "comment": _l("居民意见"),
    "note": _l("说明"),
    "decision": _l("决定"),
    "phone": _l("手机号"),
}


def _check(schema: type[M], data: Any) -> M:
    return validate(schema, data, NAMES)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TopicCreate(_Args):
    topic_id: uuid.UUID | None = None
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    source: SourceCode = "staff"
    grid_id: uuid.UUID | None = None
    community_id: uuid.UUID | None = None  # an admin names the community (staff have theirs)
    household_id: uuid.UUID | None = None  # raised at this household's door: a topic of its grid
    demand_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None


class OpinionArgs(_Args):
    topic_id: uuid.UUID
    household_id: uuid.UUID
    stance: StanceCode
    comment: str = Field(default="", max_length=500)


class PublicOpinion(_Args):
    stance: StanceCode
    comment: str = Field(default="", max_length=500)
    phone: str = Field(default="", max_length=30)


class TopicRef(_Args):
    topic_id: uuid.UUID


class TopicNote(TopicRef):
    note: str = Field(default="", max_length=2000)


class TopicDecide(TopicRef):
    decision: str = Field(min_length=1, max_length=2000)
    owners: list[str] = Field(min_length=1, max_length=10)
    due_days: int = Field(ge=1, le=365)


class TopicCheck(TopicRef):
    verdict: Literal["done", "not_done"]
    note: str = Field(default="", max_length=2000)


class Participant(_Args):
    category: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=40)
    present: bool = False


class MeetingCreate(_Args):
    meeting_id: uuid.UUID | None = None
    kind: KindCode
    title: str = Field(default="", max_length=100)
    starts_at: datetime
    place: str = Field(min_length=1, max_length=100)
    community_id: uuid.UUID | None = None
    participants: list[Participant] = Field(default_factory=list, max_length=60)


class MeetingRef(_Args):
    meeting_id: uuid.UUID


class MeetingAgenda(MeetingRef):
    topic_id: uuid.UUID
    remove: bool = False


class MeetingAttend(MeetingRef):
    participants: list[Participant] = Field(max_length=60)


class MeetingMinute(MeetingRef):
    topic_id: uuid.UUID
    minutes: str = Field(default="", max_length=4000)
    result: ResultCode = ""
    note: str = Field(default="", max_length=2000)  # the answer, the decision, or the reason
    department_id: uuid.UUID | None = None
    field: str = Field(default="", max_length=32)  # 领域 of the department's request
    address: str = Field(default="", max_length=200)  # where, for the department's request


class MeetingDecide(MeetingRef):
    """A request escalated to the joint meeting, decided in its minutes (`demand.decide`)."""

    demand_id: uuid.UUID
    minutes: str = Field(default="", max_length=4000)
    decision: str = Field(min_length=1, max_length=1900)
    grid_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None


# -- topics --------------------------------------------------------------------------------------


def _event(
    session: Session,
    topic: Topic,
    *,
    actor: Actor | None,
    kind: str,
    before: str | None,
    note: str = "",
    at: datetime | None = None,
    meeting_id: uuid.UUID | None = None,
) -> datetime:
    when = step_time(at, floor=_last_step(session, topic))
    session.add(
        TopicEvent(
            topic_id=topic.id,
            kind=kind,
            from_status=before,
            to_status=topic.status,
            actor_id=actor.id if actor else None,
            meeting_id=meeting_id,
            note=note,
            at=when,
        )
    )
    audit.record(
        session,
        actor=actor,
        action=f"topic.{kind}",
        record_type="topic",
        record_id=topic.id,
        from_status=before,
        to_status=topic.status,
        note=note[:200],
    )
    return when


def _last_step(session: Session, topic: Topic) -> datetime | None:
    latest: datetime | None = session.exec(
        select(TopicEvent.at).where(TopicEvent.topic_id == topic.id).order_by(TopicEvent.at.desc())  # type: ignore[attr-defined]
    ).first()
    return latest


def _community_of(session: Session, actor: Actor, args: TopicCreate, grid: Grid | None) -> uuid.UUID:
    if grid is not None:
        return grid.community_id
    community_id = actor.community_id or args.community_id
    if community_id is None or session.get(Community, community_id) is None:
        raise InvalidInput({"community_id": _("请选择社区。")})
    return community_id


def create_topic(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Topic:
    """A topic enters 征集: from a request (提交议事, linked), a visit, or the office."""
    args = _check(TopicCreate, data)
    if not flow.WORKFLOW.may(actor, "create"):
        raise Forbidden(actor.role)
    if args.topic_id is not None and session.get(Topic, args.topic_id) is not None:
        existing = get_visible(session, actor, Topic, args.topic_id)
        if existing.title == args.title and existing.description == args.description:
            return existing  # a replay
        raise IdReused(_("这个议题编号已被另一个议题使用。"))
    grid = get_visible(session, actor, Grid, args.grid_id) if args.grid_id else None
    if args.household_id is not None:
        grid = session.get(Grid, get_visible(session, actor, Household, args.household_id).grid_id)
    demand = get_visible(session, actor, Demand, args.demand_id) if args.demand_id else None
    visit = get_visible(session, actor, Visit, args.visit_id) if args.visit_id else None
    if demand is not None and grid is None and demand.grid_id is not None:
        grid = session.get(Grid, demand.grid_id)
    if grid is not None and actor.is_worker and grid.id not in actor.grid_ids:
        raise NotFound("grid")
    community_id = demand.community_id if demand is not None else _community_of(session, actor, args, grid)
    if actor.community_id is not None and community_id != actor.community_id:
        raise NotFound("community")
    source = "demand" if demand else "visit" if visit else args.source
    topic = Topic(
        id=args.topic_id or uuid.uuid4(),
        community_id=community_id,
        grid_id=grid.id if grid else None,
        title=args.title,
        description=args.description,
        source=source,
        demand_id=demand.id if demand else None,
        visit_id=visit.id if visit else None,
        created_by=actor.id,
        status=S.collecting,
    )
    session.add(topic)
    session.flush()
    _event(session, topic, actor=actor, kind="created", before=None, note=args.title, at=at)
    session.flush()
    return topic


def _open_topic(session: Session, actor: Actor, step: str, topic_id: uuid.UUID) -> Topic:
    return flow.WORKFLOW.open(session, actor, step, topic_id)


def _move(
    session: Session,
    actor: Actor,
    topic: Topic,
    step: str,
    *,
    note: str,
    at: datetime | None,
    meeting_id: uuid.UUID | None = None,
    to: str | None = None,
) -> datetime:
    if step in flow.NEEDS_NOTE and not note:
        raise InvalidInput({"note": _("说明：必须填写。")})
    before = topic.status
    topic.status = to or flow.TRANSITIONS[step][1] or topic.status
    when = _event(
        session,
        topic,
        actor=actor,
        kind=flow.EVENT_KINDS[step],
        before=before,
        note=note,
        at=at,
        meeting_id=meeting_id,
    )
    if topic.status == S.closed:
        topic.closed_at = when
    return when


def take_up(session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None) -> Topic:
    """审议: the community takes the topic up for deliberation (协商)."""
    args = _check(TopicNote, data)
    topic = _open_topic(session, actor, "take_up", args.topic_id)
    _move(session, actor, topic, "take_up", note=args.note, at=at)
    session.flush()
    return topic


def decline(session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None) -> Topic:
    """审议: declined, with the reason the proposer sees."""
    args = _check(TopicNote, data)
    topic = _open_topic(session, actor, "decline", args.topic_id)
    _move(session, actor, topic, "decline", note=args.note, at=at)
    topic.reason = args.note
    session.flush()
    return topic


def decide(session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None) -> Topic:
    """公布: the decision, its owners and its due date in working days; 落实 begins."""
    args = _check(TopicDecide, data)
    owners = [name.strip() for name in args.owners if name.strip()]
    if not owners:
        raise InvalidInput({"owners": _("落实责任人：必须填写。")})
    topic = _open_topic(session, actor, "decide", args.topic_id)
    when = _move(session, actor, topic, "decide", note=args.decision, at=at)
    _publish(session, topic, args.decision, owners, when, args.due_days)
    session.flush()
    return topic


def _publish(
    session: Session, topic: Topic, decision: str, owners: list[str], when: datetime, due_days: int | None
) -> None:
    topic.decision = decision
    topic.owners = owners
    topic.decided_at = when
    if due_days:
        topic.due_at = TimeLimit(due_days).deadline(preferences.work_calendar(session), when)


def progress(session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None) -> Topic:
    """落实: a progress note."""
    args = _check(TopicNote, data)
    topic = _open_topic(session, actor, "progress", args.topic_id)
    _move(session, actor, topic, "progress", note=args.note, at=at)
    session.flush()
    return topic


def finish(session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None) -> Topic:
    """落实 done: the residents are asked whether it was (查事)."""
    args = _check(TopicNote, data)
    topic = _open_topic(session, actor, "finish", args.topic_id)
    _move(session, actor, topic, "finish", note=args.note, at=at)
    session.flush()
    return topic


def check(session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None) -> Topic:
    """查事: done closes the topic; not done sends it back to 落实."""
    args = _check(TopicCheck, data)
    topic = _open_topic(session, actor, "check", args.topic_id)
    to = S.closed if args.verdict == "done" else S.implementing
    note = labels.label("verdict", args.verdict) + ("：" + args.note if args.note else "")
    _move(session, actor, topic, "check", note=note, at=at, to=to)
    topic.verdict = args.verdict
    session.flush()
    return topic


# -- opinions ---------------------------------------------------------------------------------------


def opinion_id(topic_id: uuid.UUID, household_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(OPINION_NS, f"{topic_id}/{household_id}")


def record_opinion(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Opinion:
    """`topic.opinion`: a household's stance asked at the door. One per household per topic;
    recording it again changes it; the same answer again changes nothing (a replay)."""
    args = _check(OpinionArgs, data)
    topic = _open_topic(session, actor, "opinion", args.topic_id)
    household = get_visible(session, actor, Household, args.household_id)
    if household.community_id != topic.community_id or (
        topic.grid_id is not None and household.grid_id != topic.grid_id
    ):
        raise InvalidInput({"household_id": _("户：这个议题不征求这一户的意见。")})
    when = step_time(at)
    key = opinion_id(topic.id, household.id)
    opinion = session.get(Opinion, key)
    if opinion is None:
        opinion = Opinion(
            id=key,
            topic_id=topic.id,
            community_id=topic.community_id,
            grid_id=household.grid_id,
            household_id=household.id,
            stance=args.stance,
            comment=args.comment,
            channel="door",
            recorded_by=actor.id,
            at=when,
        )
        session.add(opinion)
    elif (opinion.stance, opinion.comment) != (args.stance, args.comment):
        opinion.stance, opinion.comment = args.stance, args.comment
        opinion.recorded_by, opinion.at, opinion.updated_at = actor.id, when, utcnow()
    session.flush()
    return opinion


def public_opinion(session: Session, *, topic: Topic, data: dict[str, Any], vault: Vault) -> Opinion:
    """A resident's own answer through the topic's public link (居民本人): counted apart from the
    door answers; one per phone number when a number is given (a second one replaces it)."""
    args = _check(PublicOpinion, data)
    phone = check_phone(args.phone) if args.phone else ""
    phone_hash = vault.keyed_hash(phone) if phone else None
    if topic.deleted_at is not None or topic.status not in flow.OPEN:
        raise InvalidTransition(_("这个议题已不再征求意见。"))
    existing = (
        session.exec(
            select(Opinion).where(Opinion.topic_id == topic.id, Opinion.phone_hash == phone_hash)
        ).first()
        if phone_hash
        else None
    )
    if existing is not None:
        existing.stance, existing.comment, existing.at = args.stance, args.comment, utcnow()
        session.flush()
        return existing
    opinion = Opinion(
        topic_id=topic.id,
        community_id=topic.community_id,
        stance=args.stance,
        comment=args.comment,
        channel="resident",
        phone_hash=phone_hash,
    )
    session.add(opinion)
    session.flush()
    return opinion


# -- meetings -------------------------------------------------------------------------------------


def create_meeting(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Meeting:
    """A meeting planned: kind, time, place, participants by category."""
    args = _check(MeetingCreate, data)
    if not flow.MEETING_WORKFLOW.may(actor, "create"):
        raise Forbidden(actor.role)
    community_id = actor.community_id or args.community_id
    if community_id is None or session.get(Community, community_id) is None:
        raise InvalidInput({"community_id": _("请选择社区。")})
    meeting = Meeting(
        id=args.meeting_id or uuid.uuid4(),
        community_id=community_id,
        kind=args.kind,
        title=args.title or labels.label("meeting_kind", args.kind),
        starts_at=args.starts_at,
        place=args.place,
        participants=_participants(args.participants),
        created_by=actor.id,
    )
    session.add(meeting)
    audit.record(session, actor=actor, action="meeting.create", record_type="meeting", record_id=meeting.id)
    session.flush()
    return meeting


def _participants(participants: list[Participant]) -> list[dict[str, object]]:
    for person in participants:
        if person.category not in flow.CATEGORIES:
            raise InvalidInput({"participants": _("参会人员：类别不是可选的值。")})
    return [person.model_dump() for person in participants]


def _open_meeting(session: Session, actor: Actor, step: str, meeting_id: uuid.UUID) -> Meeting:
    return flow.MEETING_WORKFLOW.open(session, actor, step, meeting_id)


def _item(meeting: Meeting, topic_id: uuid.UUID) -> dict[str, Any] | None:
    return next((dict(item) for item in meeting.agenda if item.get("topic_id") == str(topic_id)), None)


def set_agenda(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Meeting:
    """Put a topic on the agenda (a topic still in 征集 is taken up: 审议通过), or take it off."""
    args = _check(MeetingAgenda, data)
    meeting = _open_meeting(session, actor, "agenda", args.meeting_id)
    topic = get_visible(session, actor, Topic, args.topic_id)
    if topic.community_id != meeting.community_id:
        raise NotFound("topic")
    present = _item(meeting, topic.id) is not None
    if args.remove:
        meeting.agenda = [item for item in meeting.agenda if item.get("topic_id") != str(topic.id)]
    elif not present:
        if topic.status not in flow.OPEN:
            raise flow.WORKFLOW.refuse(topic, "continue")
        if topic.status == S.collecting:
            _move(session, actor, topic, "take_up", note=_("列入%(title)s议程。", title=meeting.title), at=at)
        meeting.agenda = [
            *meeting.agenda,
            {"topic_id": str(topic.id), "minutes": "", "result": "", "note": ""},
        ]
    audit.record(
        session,
        actor=actor,
        action="meeting.agenda",
        record_type="meeting",
        record_id=meeting.id,
        topic_id=topic.id,
    )
    session.flush()
    return meeting


def attend(session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None) -> Meeting:
    """The participants and who came."""
    args = _check(MeetingAttend, data)
    meeting = _open_meeting(session, actor, "attend", args.meeting_id)
    meeting.participants = _participants(args.participants)
    audit.record(session, actor=actor, action="meeting.attend", record_type="meeting", record_id=meeting.id)
    session.flush()
    return meeting


def minute(session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None) -> Meeting:
    """Minutes of one agenda topic and, when given, its outcome: 当场解决 closes it with the answer,
    转部门联合调处 transfers its request (made now when it has none) to a department, 继续协商
    keeps it for the next meeting, 不予采纳 declines it with the reason."""
    args = _check(MeetingMinute, data)
    meeting = _open_meeting(session, actor, "minute", args.meeting_id)
    item = _item(meeting, args.topic_id)
    if item is None:
        raise InvalidInput({"topic_id": _("议题：不在这次会议的议程上。")})
    topic = get_visible(session, actor, Topic, args.topic_id)
    item["minutes"] = args.minutes
    if args.result:
        step = flow.OUTCOMES[args.result]
        if not flow.WORKFLOW.allowed(step, topic.status):
            raise flow.WORKFLOW.refuse(topic, step)
        note = args.note or (_("下次会议继续协商。") if step == "continue" else "")
        if step == "refer":
            demand = _refer(session, actor, topic, args, at)
            item["demand_id"] = str(demand.id)
        when = _move(session, actor, topic, step, note=note, at=at, meeting_id=meeting.id)
        if step in ("resolve", "refer"):
            owners = [_department_name(session, args.department_id)] if step == "refer" else []
            _publish(session, topic, note, owners, when, None)
        elif step == "reject":
            topic.reason = note
        item["result"], item["note"] = args.result, note
    meeting.agenda = [
        item if i.get("topic_id") == item["topic_id"] else i for i in meeting.agenda
    ]  # in place
    audit.record(
        session,
        actor=actor,
        action="meeting.minute",
        record_type="meeting",
        record_id=meeting.id,
        topic_id=topic.id,
    )
    session.flush()
    return meeting


def _department_name(session: Session, department_id: uuid.UUID | None) -> str:
    department = session.get(Department, department_id) if department_id else None
    return department.name if department else ""


def _refer(session: Session, actor: Actor, topic: Topic, args: MeetingMinute, at: datetime | None) -> Demand:
    """转部门联合调处: the topic's request (or a new one, source 会议) transferred to the department;
    from there it follows the request workflow."""
    if args.department_id is None:
        raise InvalidInput({"department_id": _("职能部门：必须选择。")})
    if not args.note:
        raise InvalidInput({"note": _("说明：必须填写。")})
    demand = session.get(Demand, topic.demand_id) if topic.demand_id else None
    if demand is None or not demand_flow.allowed("transfer", demand.status):
        demand = demand_commands.create_demand(
            session,
            actor=actor,
            data={
                "demand_id": str(uuid.uuid4()),
                "grid_id": str(topic.grid_id) if topic.grid_id else None,
                "field": args.field or "infrastructure",
                "description": f"{topic.title}：{args.note}",
                "source": "meeting",
                "address": args.address,
            },
            at=at,
        )
        topic.demand_id = demand.id
    note = _("议事会议决定：%(note)s", note=args.note)
    demand_commands.transfer_demand(
        session,
        actor=actor,
        data={"demand_id": str(demand.id), "department_id": str(args.department_id), "note": note[:500]},
        at=at,
    )
    return demand


def decide_escalated(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Meeting:
    """A joint meeting (联席会议) decides a request escalated to it: the request's own step
    `demand.decide` (to a grid, a department, or answered), with the meeting named in the
    request's history and the decision in the meeting's minutes."""
    args = _check(MeetingDecide, data)
    meeting = _open_meeting(session, actor, "decide", args.meeting_id)
    if meeting.kind != "joint":
        raise InvalidInput({"meeting_id": _("会议：只有联席会议才能议定提交联席会议的诉求。")})
    demand = get_visible(session, actor, Demand, args.demand_id)
    if demand.community_id != meeting.community_id:
        raise NotFound("demand")
    decided = {
        "demand_id": str(demand.id),
        "decision": f"{meeting.title}：{args.decision}",
        **({"grid_id": str(args.grid_id)} if args.grid_id else {}),
        **({"department_id": str(args.department_id)} if args.department_id else {}),
    }
    demand_commands.decide_demand(session, actor=actor, data=decided, at=at)
    item: dict[str, object] = {
        "demand_id": str(demand.id),
        "minutes": args.minutes,
        "result": "decided",
        "note": args.decision,
    }
    meeting.agenda = [*meeting.agenda, item]
    audit.record(
        session,
        actor=actor,
        action="meeting.decide",
        record_type="meeting",
        record_id=meeting.id,
        demand_id=demand.id,
    )
    session.flush()
    return meeting


def close_meeting(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Meeting:
    """The minutes are final (会议纪要): the meeting is held."""
    args = _check(MeetingRef, data)
    meeting = _open_meeting(session, actor, "close", args.meeting_id)
    meeting.status = MeetingStatus.held
    meeting.held_at = step_time(at)
    audit.record(session, actor=actor, action="meeting.close", record_type="meeting", record_id=meeting.id)
    session.flush()
    return meeting


# Step → its command, read by the office routes and the tests.
STEP_COMMANDS: dict[str, Callable[..., Topic]] = {
    "take_up": take_up,
    "decline": decline,
    "decide": decide,
    "progress": progress,
    "finish": finish,
    "check": check,
}

MEETING_COMMANDS: dict[str, Callable[..., Meeting]] = {
    "agenda": set_agenda,
    "attend": attend,
    "minute": minute,
    "decide": decide_escalated,
    "close": close_meeting,
}
