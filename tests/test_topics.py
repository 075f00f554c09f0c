"""Deliberation (议事): every topic step from every status by every role, the meeting's steps by
every role, and a meeting deciding three topics three ways — one a department's request that
then follows the request workflow. Runs on SQLite and, with DOORSTEP_TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import col, select

from server.access import Actor, Forbidden, NotFound, OutOfScope
from server.commands import demands as demand_commands
from server.commands import topics as commands
from server.db import Database
from server.errors import InvalidInput, InvalidTransition
from server.models import (
    AuditLog,
    Community,
    Demand,
    Department,
    Grid,
    Household,
    Meeting,
    Topic,
    TopicEvent,
    User,
)
from server.workflows import topics as flow
from tests.conftest import Factory

ROLES = ("worker", "staff", "other_staff", "department", "admin")
STATUSES = ("collecting", "deliberating", "declined", "implementing", "checking", "closed")
OFFICE = {"staff", "admin"}

# The issue's workflow, written out independently of the code's tables.
EXPECTED: dict[str, tuple[set[str], set[str], str | None]] = {
    # step: (roles, statuses it may be taken from, status after; None keeps it)
    "take_up": (OFFICE, {"collecting"}, "deliberating"),
    "decline": (OFFICE, {"collecting"}, "declined"),
    "decide": (OFFICE, {"deliberating"}, "implementing"),
    "progress": (OFFICE, {"implementing"}, None),
    "finish": (OFFICE, {"implementing"}, "checking"),
    "check": (OFFICE | {"worker"}, {"checking"}, "closed"),
}


@dataclass
class World:
    community: Community
    grid: Grid
    household: Household
    department: Department
    users: dict[str, User]


@pytest.fixture
def world(make: Factory) -> World:
    grid = make.grid(name="一网格")
    community = make.defaults["community"]
    household = make.household(grid, estate="芙蓉小区", building="3栋")
    department = make.department(name="县住建局")
    other = make.community()
    users = {
        "worker": make.user("grid_worker", grids=[grid]),
        "staff": make.user("community_staff", community=community),
        "other_staff": make.user("community_staff", community=other),
        "department": make.user("department", department=department),
        "admin": make.user("admin"),
    }
    return World(community, grid, household, department, users)


def put_topic(db: Database, world: World, status: str, **kw: Any) -> Topic:
    topic = Topic(community_id=world.community.id, title=kw.pop("title", "电动车充电棚"), status=status, **kw)
    with db.write() as session:
        session.add(topic)
    return topic


def args_for(step: str, topic: Topic) -> dict[str, Any]:
    base: dict[str, Any] = {"topic_id": str(topic.id)}
    if step == "decide":
        return base | {"decision": "在3栋北侧建充电棚", "owners": ["物业公司", "社区"], "due_days": 10}
    if step == "check":
        return base | {"verdict": "done", "note": "居民说已建好"}
    return base | {"note": "理由写在这里"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", tuple(EXPECTED))
def test_every_topic_step_from_every_status_by_every_role(
    step: str, role: str, world: World, db: Database, make: Factory
) -> None:
    actor = make.actor(world.users[role])
    roles, sources, target = EXPECTED[step]
    may = ("staff" if role == "other_staff" else role) in roles
    for status in STATUSES:
        topic = put_topic(db, world, status)
        legal = may and role != "other_staff" and status in sources
        try:
            with db.write() as session:
                commands.STEP_COMMANDS[step](session, actor=actor, data=args_for(step, topic))
        except Forbidden:
            assert not may, (status, "forbidden")
        except OutOfScope:
            assert may and role == "other_staff", (status, "out_of_scope")
        except InvalidTransition:
            assert may and role != "other_staff" and status not in sources, (status, "invalid_transition")
        else:
            assert legal, (status, "applied")
        with db.read() as session:
            after = session.get(Topic, topic.id)
            assert after is not None
            events = session.exec(select(TopicEvent).where(TopicEvent.topic_id == topic.id)).all()
            audits = session.exec(select(AuditLog).where(AuditLog.record_id == str(topic.id))).all()
        if legal:
            assert after.status == (target or status)
            (event,) = events
            assert (event.kind, event.from_status, event.to_status) == (
                flow.EVENT_KINDS[step],
                status,
                after.status,
            )
            assert event.actor_id == world.users[role].id
            assert [a.action for a in audits] == [f"topic.{flow.EVENT_KINDS[step]}"]
        else:
            assert (after.status, after.version, events, audits) == (status, topic.version, [], [])


def test_the_code_s_tables_are_the_issue_s_workflow() -> None:
    codes = {"worker": "grid_worker", "staff": "community_staff", "admin": "admin"}
    for step, (roles, sources, target) in EXPECTED.items():
        assert flow.STEP_ROLES[step] == {codes[r] for r in roles}, step
        assert flow.TRANSITIONS[step][0] == sources, step
        if step != "check":
            assert flow.TRANSITIONS[step][1] == target, step
    assert flow.OUTCOMES == {
        "resolved": "resolve",
        "department": "refer",
        "continue": "continue",
        "rejected": "reject",
    }


def test_a_declined_topic_keeps_its_reason_and_bad_input_changes_nothing(
    world: World, db: Database, make: Factory
) -> None:
    staff = make.actor(world.users["staff"])
    topic = put_topic(db, world, "collecting")
    for data in (
        {"topic_id": str(topic.id)},  # no reason
        {"topic_id": "not-a-uuid", "note": "x"},
        {"topic_id": str(topic.id), "note": "x", "extra": 1},
    ):
        with pytest.raises(InvalidInput) as refused, db.write() as session:
            commands.decline(session, actor=staff, data=data)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)
    with pytest.raises(NotFound), db.write() as session:
        commands.decline(session, actor=staff, data={"topic_id": str(uuid.uuid4()), "note": "x"})
    with db.write() as session:
        commands.decline(session, actor=staff, data={"topic_id": str(topic.id), "note": "不属于社区事务"})
    with db.read() as session:
        after = session.get(Topic, topic.id)
        assert after is not None
        assert (after.status, after.reason) == ("declined", "不属于社区事务")


def worker_request(db: Database, world: World, worker: Actor, field: str, description: str) -> Demand:
    """A request the grid's worker took down at the household's door."""
    data = {
        "demand_id": str(uuid.uuid4()),
        "household_id": str(world.household.id),
        "field": field,
        "description": description,
        "source": "visit",
    }
    with db.write() as session:
        return demand_commands.create_demand(session, actor=worker, data=data)


def test_a_topic_from_a_request_stays_linked_and_a_worker_may_raise_one_from_a_visit(
    world: World, db: Database, make: Factory
) -> None:
    staff, worker = make.actor(world.users["staff"]), make.actor(world.users["worker"])
    demand = worker_request(db, world, worker, "infrastructure", "电线从窗户拉下来给电动车充电，很危险")
    with db.write() as session:
        topic = commands.create_topic(
            session, actor=staff, data={"title": "建电动车充电棚", "demand_id": str(demand.id)}
        )
    with db.write() as session:
        raised = commands.create_topic(
            session,
            actor=worker,
            data={"title": "楼道堆物", "grid_id": str(world.grid.id), "source": "visit"},
        )
    assert (topic.source, topic.demand_id, topic.grid_id, topic.status) == (
        "demand",
        demand.id,
        world.grid.id,
        "collecting",
    )
    assert (raised.community_id, raised.created_by) == (world.community.id, world.users["worker"].id)
    with pytest.raises(Forbidden), db.write() as session:
        commands.create_topic(session, actor=make.actor(world.users["department"]), data={"title": "x"})


MEETING_STEPS = ("agenda", "attend", "minute", "decide", "close")


def meeting_args(step: str, meeting: Meeting, topic: Topic, demand: Demand) -> dict[str, Any]:
    base: dict[str, Any] = {"meeting_id": str(meeting.id)}
    if step == "decide":
        return base | {"demand_id": str(demand.id), "decision": "住建局牵头维修"}
    if step == "agenda":
        return base | {"topic_id": str(topic.id)}
    if step == "attend":
        return base | {"participants": [{"category": "secretary", "name": "刘书记", "present": True}]}
    if step == "minute":
        return base | {"topic_id": str(topic.id), "minutes": "大家同意"}
    return base


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", MEETING_STEPS)
def test_every_meeting_step_by_every_role(
    step: str, role: str, world: World, db: Database, make: Factory
) -> None:
    staff = make.actor(world.users["staff"])
    actor = make.actor(world.users[role])
    for status in ("planned", "held"):
        topic = put_topic(db, world, "deliberating")
        demand = Demand(
            community_id=world.community.id,
            grid_id=world.grid.id,
            field="dispute",
            description="楼上漏水",
            source="visit",
            status="escalated",
        )
        with db.write() as session:
            session.add(demand)
            meeting = commands.create_meeting(
                session,
                actor=staff,
                data={"kind": "joint", "starts_at": "2026-11-20T15:00:00+08:00", "place": "社区活动室"},
            )
            commands.set_agenda(
                session, actor=staff, data={"meeting_id": str(meeting.id), "topic_id": str(topic.id)}
            )
            if status == "held":
                commands.close_meeting(session, actor=staff, data={"meeting_id": str(meeting.id)})
            before = meeting.version
        legal = role in OFFICE and status == "planned"
        try:
            with db.write() as session:
                commands.MEETING_COMMANDS[step](
                    session, actor=actor, data=meeting_args(step, meeting, topic, demand)
                )
        except Forbidden:
            assert role not in OFFICE
        except OutOfScope:
            assert role == "other_staff"
        except InvalidTransition:
            assert role in OFFICE and status == "held"
        else:
            assert legal, (step, role, status)
        with db.read() as session:
            after = session.get(Meeting, meeting.id)
            assert after is not None
        if legal:
            assert after.status == ("held" if step == "close" else "planned")
        else:
            assert (after.status, after.version) == (status, before)
    assert flow.MEETING_ROLES[step] == {"community_staff", "admin"}


def test_a_meeting_decides_three_topics_three_ways_and_the_department_s_request_follows_its_workflow(
    world: World, db: Database, make: Factory
) -> None:
    staff = make.actor(world.users["staff"])
    shed = put_topic(db, world, "collecting", title="电动车充电棚")
    lights = put_topic(db, world, "collecting", title="楼道灯坏了")
    square = put_topic(db, world, "collecting", title="广场舞音量")
    with db.write() as session:
        meeting = commands.create_meeting(
            session,
            actor=staff,
            data={
                "kind": "tea",
                "starts_at": datetime(2026, 11, 20, 7, tzinfo=UTC).isoformat(),
                "place": "凉亭",
                "participants": [
                    {"category": "secretary", "name": "刘书记", "present": True},
                    {"category": "department", "name": "县住建局", "present": True},
                ],
            },
        )
        for topic in (shed, lights, square):
            commands.set_agenda(
                session, actor=staff, data={"meeting_id": str(meeting.id), "topic_id": str(topic.id)}
            )
    minutes = [
        (
            shed,
            {
                "result": "department",
                "note": "住建局在3栋北侧建充电棚",
                "department_id": str(world.department.id),
            },
        ),
        (lights, {"result": "resolved", "note": "物业当场答应明天换灯"}),
        (square, {"result": "rejected", "note": "已有管理规定，按规定执行"}),
    ]
    for topic, extra in minutes:
        with db.write() as session:
            commands.minute(
                session,
                actor=staff,
                data={"meeting_id": str(meeting.id), "topic_id": str(topic.id), "minutes": "讨论记录"}
                | extra,
            )
    with db.write() as session:
        commands.close_meeting(session, actor=staff, data={"meeting_id": str(meeting.id)})
    with db.read() as session:
        after = {t.title: t for t in session.exec(select(Topic)).all()}
        held = session.get(Meeting, meeting.id)
        assert held is not None
        demand = session.get(Demand, after["电动车充电棚"].demand_id)
        assert demand is not None
    assert held.status == "held"
    assert [item["result"] for item in held.agenda] == ["department", "resolved", "rejected"]
    assert (after["电动车充电棚"].status, after["电动车充电棚"].owners) == ("implementing", ["县住建局"])
    assert (after["楼道灯坏了"].status, after["楼道灯坏了"].decision) == ("closed", "物业当场答应明天换灯")
    assert (after["广场舞音量"].status, after["广场舞音量"].reason) == (
        "declined",
        "已有管理规定，按规定执行",
    )
    assert (demand.status, demand.department_id, demand.source) == (
        "transferred",
        world.department.id,
        "meeting",
    )
    assert held.agenda[0]["demand_id"] == str(demand.id)

    # The request then follows the request workflow: the department resolves it.
    department = make.actor(world.users["department"])
    with db.write() as session:
        demand_commands.resolve_demand(
            session, actor=department, data={"demand_id": str(demand.id), "note": "充电棚已建成"}
        )
    with db.read() as session:
        resolved = session.get(Demand, demand.id)
        assert resolved is not None and resolved.status == "resolved"
        kinds = [e.kind for e in session.exec(select(TopicEvent).order_by(col(TopicEvent.at))).all()]
    assert kinds.count("taken_up") == 3 and {"referred", "resolved", "rejected"} <= set(kinds)

    # A decided topic takes no second outcome; a topic not on the agenda none at all.
    with pytest.raises(InvalidTransition), db.write() as session:
        other = commands.create_meeting(
            session, actor=staff, data={"kind": "pavilion", "starts_at": "2026-11-27T15:00", "place": "凉亭"}
        )
        commands.set_agenda(
            session, actor=staff, data={"meeting_id": str(other.id), "topic_id": str(lights.id)}
        )


def test_a_joint_meeting_decides_a_request_escalated_to_it_in_its_minutes(
    world: World, db: Database, make: Factory
) -> None:
    staff, worker = make.actor(world.users["staff"]), make.actor(world.users["worker"])
    demand = worker_request(db, world, worker, "dispute", "楼上漏水多次协调不成")
    with db.write() as session:
        demand_commands.escalate_demand(
            session, actor=staff, data={"demand_id": str(demand.id), "note": "涉及住建和物业，提交联席会议"}
        )
        tea = commands.create_meeting(
            session, actor=staff, data={"kind": "tea", "starts_at": "2026-11-20T15:00", "place": "活动室"}
        )
        joint = commands.create_meeting(
            session, actor=staff, data={"kind": "joint", "starts_at": "2026-11-21T15:00", "place": "会议室"}
        )
    decision = {
        "demand_id": str(demand.id),
        "decision": "住建局牵头维修",
        "department_id": str(world.department.id),
    }
    with pytest.raises(InvalidInput), db.write() as session:
        commands.decide_escalated(session, actor=staff, data={"meeting_id": str(tea.id)} | decision)
    with db.read() as session:
        from server.queries import topics as topic_queries

        listed = topic_queries.meeting_detail(session, staff, joint.id).escalated
    assert [d.id for d in listed] == [demand.id]
    with db.write() as session:
        commands.decide_escalated(
            session, actor=staff, data={"meeting_id": str(joint.id), "minutes": "各方同意"} | decision
        )
    with db.read() as session:
        after = session.get(Demand, demand.id)
        held = session.get(Meeting, joint.id)
        assert after is not None and held is not None
        detail = topic_queries.meeting_detail(session, staff, joint.id)
    assert (after.status, after.department_id) == ("transferred", world.department.id)
    assert held.agenda == [
        {"demand_id": str(demand.id), "minutes": "各方同意", "result": "decided", "note": "住建局牵头维修"}
    ]
    assert detail.escalated == [] and [d.demand.id for d in detail.decided] == [demand.id]
    # Decided once: a second decision is refused by the request workflow.
    with pytest.raises(InvalidTransition), db.write() as session:
        commands.decide_escalated(session, actor=staff, data={"meeting_id": str(joint.id)} | decision)
