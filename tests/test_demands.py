"""Residents' requests: every step from every state by every role, through `/sync/push`; the
rectification loop; deadlines; scope changes reaching the phones (SYNC.md rule 10)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, col, select

from server import preferences
from server.commands import demands as dm
from server.db import Database
from server.errors import InvalidInput
from server.models import (
    AuditLog,
    Demand,
    DemandEvent,
    DemandStatus,
    Department,
    Grid,
    Household,
    User,
    utcnow,
)
from server.people import masking
from server.queries import grid_suggestion
from server.workflows import demands as demand_flow
from server.workflows.workdays import TimeLimit, calendar_of
from tests.conftest import Factory

S = DemandStatus

# -- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    grid: Grid
    other_grid: Grid
    household: Household
    department: Department
    other_department: Department
    users: dict[str, User]


ROLES = ("worker", "other_worker", "staff", "department", "other_department", "admin")


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


def build_world(make: Factory) -> World:
    grid, other_grid = (
        make.grid(name="一网格", lat=27.43, lng=115.83),
        make.grid(name="二网格", lat=27.45, lng=115.86),
    )
    household = make.household(grid, estate="芙蓉小区", building="3栋")
    department, other_department = make.department(name="县住建局"), make.department(name="县民政局")
    users = {
        "worker": make.user("grid_worker", grids=[grid]),
        "other_worker": make.user("grid_worker", grids=[other_grid]),
        "staff": make.user("community_staff"),
        "department": make.user("department", department=department),
        "other_department": make.user("department", department=other_department),
        "admin": make.user("admin"),
    }
    return World(grid, other_grid, household, department, other_department, users)


# A request in each state it can be in, and who holds it: (status, "grid" | "department").
SCENARIOS: tuple[tuple[str, str], ...] = (
    (S.submitted, "grid"),
    (S.dispatched, "grid"),
    (S.accepted, "grid"),
    (S.in_progress, "grid"),
    (S.in_progress, "department"),
    (S.replied, "grid"),
    (S.replied, "department"),
    (S.resolved, "grid"),
    (S.resolved, "department"),
    (S.transferred, "department"),
    (S.escalated, "grid"),
    (S.escalated, "department"),
    (S.rectifying, "grid"),
    (S.rectifying, "department"),
    (S.closed, "grid"),
)


def put_demand(db: Database, world: World, status: str, path: str = "grid", **kw: Any) -> Demand:
    """A request already in `status` (made straight in the table): always in the grid (a worker
    found it at the door); with the department when it went that way; accepted by the worker
    when the grid handles it past acceptance."""
    handled = path == "grid" and status in (S.accepted, S.in_progress, S.replied, S.resolved)
    fields: dict[str, Any] = {
        "community_id": world.grid.community_id,
        "grid_id": world.grid.id,
        "department_id": world.department.id if path == "department" else None,
        "household_id": world.household.id,
        "field": "infrastructure",
        "description": "楼道路灯坏了一年多",
        "source": "visit",
        "status": status,
        "handling_type": None if status == S.submitted else ("transfer" if path == "department" else "self"),
        "assignee_id": world.users["worker"].id if handled else None,
        "address": world.household.address,
        "rating_token": "tok-" + uuid.uuid4().hex if status in (S.replied, S.resolved) else "",
    }
    demand = Demand(**(fields | kw))
    with db.write() as session:
        session.add(demand)
    return demand


def step_args(step: str, demand: Demand, world: World) -> dict[str, Any]:
    ref = {"demand_id": str(demand.id)}
    return (
        ref
        | {
            "dispatch": {"grid_id": str(world.grid.id), "handling_type": "self", "priority": "normal"},
            "accept": {},
            "progress": {"note": "已联系电工，明天上午更换灯泡", "photos": []},
            "reply": {"answer": "路灯属于物业维修范围，已督促物业三日内修复"},
            "resolve": {"note": "已更换路灯", "photos": []},
            "answer": {"answer": "该路段路灯改造已列入今年计划"},
            "transfer": {"department_id": str(world.department.id), "note": "超出社区权限"},
            "return": {"reason": "不属于本部门职责"},
            "escalate": {"note": "涉及多个部门"},
            "decide": {"decision": "联席会议决定：由物业先行维修，费用从维修基金列支"},
            "rate": {"rating": "satisfied", "comment": ""},
            "close": {"note": ""},
            "suspend": {"note": "等待居民提供材料"},
            "resume": {"note": "材料已补齐"},
            "urge": {"note": "请本周内办结"},
        }[step]
    )


def reload(db: Database, demand_id: uuid.UUID) -> Demand:
    with db.read() as session:
        demand = session.get(Demand, demand_id)
        assert demand is not None
        return demand


def history(db: Database, demand_id: uuid.UUID) -> list[DemandEvent]:
    with db.read() as session:
        rows = session.exec(
            select(DemandEvent)
            .where(DemandEvent.demand_id == demand_id)
            .order_by(col(DemandEvent.at), col(DemandEvent.created_at))
        )
        return list(rows)


# -- the table, written out from the issue (not read back from the code) -----------------------

OFFICE = {"staff", "admin"}
WORKERS = {"worker", "other_worker"}
DEPARTMENTS = {"department", "other_department"}
EXPECTED_ROLES: dict[str, set[str]] = {
    "dispatch": OFFICE,
    "accept": WORKERS,
    "progress": WORKERS | DEPARTMENTS,
    "reply": WORKERS | DEPARTMENTS,
    "resolve": WORKERS | DEPARTMENTS,
    "answer": OFFICE,
    "transfer": OFFICE,
    "return": DEPARTMENTS,
    "escalate": OFFICE | DEPARTMENTS,
    "decide": OFFICE,
    "rate": WORKERS | OFFICE,
    "close": OFFICE,
}
GRID_OPEN = {(S.submitted, "grid"), (S.dispatched, "grid"), (S.accepted, "grid"), (S.in_progress, "grid")}
DEPT_HANDLING = {(S.transferred, "department"), (S.in_progress, "department"), (S.rectifying, "department")}
ANSWERED = {(s, p) for s in (S.replied, S.resolved) for p in ("grid", "department")}
RECTIFYING = {(S.rectifying, "grid"), (S.rectifying, "department")}
# step: {role: the scenarios from which that role may take the step}
LEGAL: dict[str, dict[str, set[tuple[str, str]]]] = {
    "dispatch": {key: {(S.submitted, "grid"), (S.dispatched, "grid"), *RECTIFYING} for key in OFFICE},
    "accept": {"worker": {(S.dispatched, "grid"), (S.rectifying, "grid")}},
    "progress": {"worker": {(S.accepted, "grid"), (S.in_progress, "grid")}, "department": DEPT_HANDLING},
    "reply": {"worker": {(S.accepted, "grid"), (S.in_progress, "grid")}, "department": DEPT_HANDLING},
    "resolve": {"worker": {(S.accepted, "grid"), (S.in_progress, "grid")}, "department": DEPT_HANDLING},
    "answer": {key: {(S.submitted, "grid")} for key in OFFICE},
    "transfer": dict.fromkeys(OFFICE, GRID_OPEN | RECTIFYING | {(S.in_progress, "department")}),
    "return": {"department": DEPT_HANDLING},
    "escalate": {
        **dict.fromkeys(OFFICE, GRID_OPEN | DEPT_HANDLING | RECTIFYING),
        "department": DEPT_HANDLING,
    },
    "decide": {key: {(S.escalated, "grid"), (S.escalated, "department")} for key in OFFICE},
    "rate": {"worker": ANSWERED, **dict.fromkeys(OFFICE, ANSWERED)},
    "close": dict.fromkeys(OFFICE, ANSWERED | {(S.submitted, "grid")}),
}
TARGET = {
    "dispatch": S.dispatched,
    "accept": S.accepted,
    "progress": S.in_progress,
    "reply": S.replied,
    "resolve": S.resolved,
    "answer": S.replied,
    "transfer": S.transferred,
    "return": S.submitted,
    "escalate": S.escalated,
    "decide": S.replied,  # no grid or department named: the decision is the answer
    "rate": S.closed,  # satisfied
    "close": S.closed,
}


def sees(role: str, path: str) -> bool:
    return role in ("worker", "staff", "admin") or (role == "department" and path == "department")


CLOCK_AND_URGE = {"suspend", "resume", "urge"}


def test_the_code_s_tables_are_the_issue_s_workflow() -> None:
    # The clock and 督办 keep the status; test_demand_time_limits.py covers them.
    assert set(demand_flow.STEPS) == set(EXPECTED_ROLES) | CLOCK_AND_URGE
    role_codes = {
        "worker": "grid_worker",
        "other_worker": "grid_worker",
        "staff": "community_staff",
        "department": "department",
        "other_department": "department",
        "admin": "admin",
    }
    for step, roles in EXPECTED_ROLES.items():
        assert set(demand_flow.STEP_ROLES[step]) == {role_codes[r] for r in roles}, step
    assert set(demand_flow.STEP_ROLES["create"]) == {"grid_worker", "community_staff", "admin"}
    for step, (_sources, target) in demand_flow.TRANSITIONS.items():
        assert target == (None if step in {"decide", "rate"} | CLOCK_AND_URGE else TARGET[step]), step


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", tuple(EXPECTED_ROLES))
def test_every_step_from_every_state_by_every_role(
    step: str, role: str, world: World, db: Database, sync_phone: Any
) -> None:
    demands = {scenario: put_demand(db, world, *scenario) for scenario in SCENARIOS}
    phone = sync_phone(world.users[role])
    sent = {s: phone.queue(f"demand.{step}", step_args(step, d, world)) for s, d in demands.items()}
    phone.push()
    legal = LEGAL[step].get(role, set())

    for scenario, demand in demands.items():
        status, path = scenario
        result = phone.results[sent[scenario]]
        after = reload(db, demand.id)
        events = history(db, demand.id)
        if scenario in legal:
            assert result["status"] == "applied", (scenario, result)
            assert after.status == TARGET[step], scenario
            (event,) = events
            assert event.kind == demand_flow.EVENT_KINDS[step]
            assert (event.from_status, event.to_status) == (status, TARGET[step])
            assert event.actor_id == world.users[role].id
            assert (event.grid_id, event.department_id) == (after.grid_id, after.department_id)
            continue
        if role not in EXPECTED_ROLES[step]:
            expected = "forbidden"
        elif not sees(role, path):
            expected = "out_of_scope"
        else:
            expected = "invalid_transition"
        assert (result["status"], result.get("code")) == ("rejected", expected), (scenario, result)
        # A refused step changes nothing.
        assert (after.version, after.status, events) == (demand.version, status, []), scenario


def test_unknown_requests_and_bad_arguments_are_refused_with_their_codes(
    world: World, db: Database, sync_phone: Any
) -> None:
    demand = put_demand(db, world, S.submitted)
    staff = sync_phone(world.users["staff"])
    cases = [
        (
            "demand.dispatch",
            {"demand_id": str(uuid.uuid4()), "grid_id": str(world.grid.id), "handling_type": "self"},
        ),
        (
            "demand.dispatch",
            {"demand_id": str(demand.id), "grid_id": str(world.grid.id), "handling_type": "transfer"},
        ),
        (
            "demand.dispatch",
            {"demand_id": str(demand.id), "grid_id": str(uuid.uuid4()), "handling_type": "self"},
        ),
        ("demand.transfer", {"demand_id": str(demand.id), "department_id": str(uuid.uuid4())}),
        ("demand.answer", {"demand_id": str(demand.id), "answer": ""}),
        ("demand.answer", {"demand_id": str(demand.id), "answer": "好", "extra": 1}),
        ("demand.escalate", {"demand_id": str(demand.id)}),
        (
            "demand.decide",
            {
                "demand_id": str(demand.id),
                "decision": "x",
                "grid_id": str(world.grid.id),
                "department_id": str(world.department.id),
            },
        ),
        ("demand.close", {"demand_id": "not-a-uuid"}),
    ]
    ids = [staff.queue(name, args) for name, args in cases]
    staff.push()
    codes = [staff.results[i].get("code") for i in ids]
    assert codes == [
        "not_found",
        "invalid_args",
        "not_found",
        "not_found",
        "invalid_args",
        "invalid_args",
        "invalid_args",
        "invalid_args",
        "invalid_args",
    ]
    assert "办理类型" in staff.results[ids[1]]["message"]
    assert reload(db, demand.id).version == demand.version
    assert history(db, demand.id) == []


def test_a_worker_who_did_not_accept_it_may_not_handle_it(
    world: World, db: Database, make: Factory, sync_phone: Any
) -> None:
    colleague = make.user("grid_worker", grids=[world.grid])
    demand = put_demand(db, world, S.accepted)
    phone = sync_phone(colleague)
    sent = [phone.queue(f"demand.{s}", step_args(s, demand, world)) for s in ("progress", "resolve", "reply")]
    phone.push()
    assert {phone.results[i]["code"] for i in sent} == {"invalid_transition"}
    assert reload(db, demand.id).status == S.accepted


@pytest.mark.parametrize(
    ("status", "path", "assignee", "expected"),
    [
        (S.transferred, "department", None, "已转交县住建局办理"),
        (S.in_progress, "department", None, "已转交县住建局办理"),
        (S.accepted, "grid", "colleague", "已被{colleague}接单"),
        (S.accepted, "grid", "worker", "您已经接了这条诉求"),
        (S.submitted, "grid", None, "现在是“待派单”，不能接单"),
        (S.closed, "grid", None, "现在是“已归档”，不能接单"),
    ],
)
def test_a_refused_accept_says_the_true_reason(
    world: World,
    db: Database,
    make: Factory,
    sync_phone: Any,
    status: str,
    path: str,
    assignee: str | None,
    expected: str,
) -> None:
    """A worker whose accept is refused learns why: a department has it, a colleague took it,
    they took it already, or its status — never one message guessing at all of them."""
    colleague = make.user("grid_worker", grids=[world.grid])
    who = {"colleague": colleague.id, "worker": world.users["worker"].id, None: None}[assignee]
    demand = put_demand(db, world, status, path, assignee_id=who)
    phone = sync_phone(world.users["worker"])
    sent = phone.queue("demand.accept", {"demand_id": str(demand.id)})
    phone.push()
    assert phone.results[sent]["code"] == "invalid_transition"
    assert expected.format(colleague=colleague.display_name) in phone.results[sent]["message"]
    assert reload(db, demand.id).status == status


def test_an_accept_outside_the_worker_s_grids_says_so(world: World, db: Database, make: Factory) -> None:
    demand = put_demand(db, world, S.dispatched)
    stranger = make.actor(make.user("grid_worker", grids=[world.other_grid]))
    with db.read() as s:
        found = s.get(Demand, demand.id)
        assert found is not None
        assert dm._accept_refusal(s, stranger, found) == "这条诉求没有派到您的网格。"


# -- whole lives, through the phones and the office --------------------------------------------


def test_the_rectification_loop_until_the_resident_is_satisfied(
    world: World, db: Database, sync_phone: Any
) -> None:
    staff, worker = sync_phone(world.users["staff"]), sync_phone(world.users["worker"])
    demand_id = str(uuid.uuid4())
    worker.queue(
        "demand.create",
        {
            "demand_id": demand_id,
            "household_id": str(world.household.id),
            "field": "infrastructure",
            "description": "楼道路灯坏了",
            "source": "visit",
            "photos": [],
        },
    )
    worker.push()
    staff.queue(
        "demand.dispatch", {"demand_id": demand_id, "grid_id": str(world.grid.id), "handling_type": "self"}
    )
    staff.push()
    ref = {"demand_id": demand_id}
    for name, args in (
        ("demand.accept", {}),
        ("demand.progress", {"note": "已报修", "photos": []}),
        ("demand.resolve", {"note": "已更换灯泡", "photos": []}),
        ("demand.rate", {"rating": "dissatisfied", "comment": "第二天又坏了"}),
    ):
        worker.queue(name, ref | args)
    worker.push()
    assert {r["status"] for r in worker.results.values()} == {"applied"}
    reopened = reload(db, uuid.UUID(demand_id))
    assert reopened.status == S.rectifying and reopened.rating == "dissatisfied"
    assert reopened.assignee_id is None and reopened.resolved_at is None and reopened.rating_token == ""
    assert reopened.deadline is not None and reopened.deadline > utcnow() + timedelta(hours=71)

    # Rectification: handling again needs a new acceptance; then resolve and rate again.
    before = worker.next_id
    worker.queue("demand.resolve", ref | {"note": "再修", "photos": []})
    for name, args in (
        ("demand.accept", {}),
        ("demand.resolve", {"note": "更换了整条线路", "photos": []}),
        ("demand.rate", {"rating": "basically_satisfied", "comment": "还行"}),
    ):
        worker.queue(name, ref | args)
    worker.push()
    assert worker.results[before]["code"] == "invalid_transition"
    assert [worker.results[i]["status"] for i in range(before + 1, before + 4)] == ["applied"] * 3
    done = reload(db, uuid.UUID(demand_id))
    assert (done.status, done.rating, done.rating_comment) == (S.closed, "basically_satisfied", "还行")
    assert done.closed_at is not None and done.resolved_at is not None
    kinds = [(e.kind, e.to_status) for e in history(db, uuid.UUID(demand_id))]
    assert kinds == [
        ("created", S.submitted),
        ("dispatched", S.dispatched),
        ("accepted", S.accepted),
        ("progress", S.in_progress),
        ("resolved", S.resolved),
        ("rated", S.rectifying),
        ("accepted", S.accepted),
        ("resolved", S.resolved),
        ("rated", S.closed),
    ]
    # A closed request is rated no more.
    worker.queue("demand.rate", ref | {"rating": "dissatisfied", "comment": ""})
    worker.push()
    assert worker.results[worker.next_id - 1]["code"] == "invalid_transition"


def test_a_department_rectifies_what_it_resolved(world: World, db: Database) -> None:
    demand = put_demand(db, world, S.resolved, "department")
    worker = dm_actor(db, world, "worker")
    department = dm_actor(db, world, "department")
    with db.write() as s:
        dm.rate_demand(s, actor=worker, data={"demand_id": str(demand.id), "rating": "dissatisfied"})
    with db.write() as s:
        dm.progress_demand(s, actor=department, data={"demand_id": str(demand.id), "note": "重新施工"})
        dm.resolve_demand(s, actor=department, data={"demand_id": str(demand.id), "note": "已重新铺设"})
    after = reload(db, demand.id)
    assert after.status == S.resolved and after.rating_token


def dm_actor(db: Database, world: World, role: str) -> Any:
    from server.auth import actor_for

    with db.read() as session:
        return actor_for(session, world.users[role])


def test_escalation_and_the_joint_meeting_s_decision(world: World, db: Database) -> None:
    staff = dm_actor(db, world, "staff")
    department = dm_actor(db, world, "department")
    to_grid = put_demand(db, world, S.transferred, "department")
    to_department = put_demand(db, world, S.submitted)
    with db.write() as s:
        dm.escalate_demand(s, actor=department, data={"demand_id": str(to_grid.id), "note": "需多部门协调"})
        dm.escalate_demand(
            s, actor=staff, data={"demand_id": str(to_department.id), "note": "书记下午茶提出"}
        )
    with db.write() as s:
        dm.decide_demand(
            s,
            actor=staff,
            data={
                "demand_id": str(to_grid.id),
                "decision": "由网格组织物业维修",
                "grid_id": str(world.grid.id),
            },
        )
        dm.decide_demand(
            s,
            actor=staff,
            data={
                "demand_id": str(to_department.id),
                "decision": "住建局牵头",
                "department_id": str(world.other_department.id),
                "priority": "urgent",
            },
        )
    a, b = reload(db, to_grid.id), reload(db, to_department.id)
    assert (a.status, a.department_id, a.grid_id, a.handling_type) == (
        S.dispatched,
        None,
        world.grid.id,
        "self",
    )
    assert (b.status, b.department_id, b.handling_type, b.priority) == (
        S.transferred,
        world.other_department.id,
        "transfer",
        "urgent",
    )
    assert history(db, a.id)[-1].note == "由网格组织物业维修（交一网格办理）"
    with db.read() as s:
        actions = set(s.exec(select(AuditLog.action).where(AuditLog.record_id == str(b.id))))
    assert actions == {"demand.escalate", "demand.decide"}


def test_the_office_answers_directly_and_closes(world: World, db: Database) -> None:
    staff = dm_actor(db, world, "staff")
    answered, duplicate = put_demand(db, world, S.submitted), put_demand(db, world, S.submitted)
    with db.write() as s:
        dm.answer_demand(s, actor=staff, data={"demand_id": str(answered.id), "answer": "已列入改造计划"})
        dm.close_demand(s, actor=staff, data={"demand_id": str(duplicate.id), "note": "与上一条重复"})
    a, d = reload(db, answered.id), reload(db, duplicate.id)
    assert (a.status, a.handling_type, a.answer) == (S.replied, "reply", "已列入改造计划")
    assert a.resolved_at is not None and len(a.rating_token) >= 20
    assert (d.status, d.rating_token) == (S.closed, "") and d.closed_at is not None


# -- deadlines -------------------------------------------------------------------------------------


def test_deadlines_come_from_the_settings_per_type_and_priority(world: World, db: Database) -> None:
    staff = dm_actor(db, world, "staff")
    demands = [put_demand(db, world, S.submitted) for _ in range(4)]
    start = utcnow()
    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=staff,
            data={
                "demand_id": str(demands[0].id),
                "grid_id": str(world.grid.id),
                "handling_type": "reply",
                "priority": "urgent",
            },
        )
        dm.transfer_demand(
            s, actor=staff, data={"demand_id": str(demands[1].id), "department_id": str(world.department.id)}
        )
    with db.write() as s:
        limits = preferences.get(s, "demand.time_limits")
        limits["reply"]["urgent"] = "2h"
        limits["self"]["normal"] = "2"
        preferences.set(s, "demand.time_limits", limits, staff)
    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=staff,
            data={
                "demand_id": str(demands[2].id),
                "grid_id": str(world.grid.id),
                "handling_type": "reply",
                "priority": "urgent",
            },
        )
        dm.dispatch_demand(
            s,
            actor=staff,
            data={"demand_id": str(demands[3].id), "grid_id": str(world.grid.id), "handling_type": "self"},
        )
    end = utcnow()
    calendar = calendar_of({})
    for demand, allowed in zip(demands, ["4h", "7", "2h", "2"], strict=True):
        row = reload(db, demand.id)
        assert row.deadline is not None and row.time_limit == allowed
        limit = TimeLimit.parse(allowed)
        assert limit.deadline(calendar, start) <= row.deadline <= limit.deadline(calendar, end)


def test_overdue_and_due_soon() -> None:
    now = datetime(2026, 3, 2, 8, tzinfo=UTC)

    def demand(status: str, hours: float | None) -> Demand:
        deadline = now + timedelta(hours=hours) if hours is not None else None
        return Demand(
            community_id=uuid.uuid4(),
            field="property",
            description="x",
            source="phone",
            status=status,
            deadline=deadline,
        )

    cases = [
        (S.dispatched, -1, True, False),
        (S.accepted, -0.01, True, False),
        (S.transferred, 0, False, True),
        (S.in_progress, 23.9, False, True),
        (S.rectifying, 24, False, True),
        (S.escalated, 24.1, False, False),
        (S.resolved, -5, False, False),  # answered: the clock stopped
        (S.replied, -5, False, False),
        (S.closed, -5, False, False),
        (S.submitted, None, False, False),
        (S.dispatched, None, False, False),
    ]
    for status, hours, overdue, soon in cases:
        d = demand(status, hours)
        assert (demand_flow.overdue(d, now), demand_flow.due_soon(d, now)) == (overdue, soon), (status, hours)


def test_overdue_queries_agree_with_the_helpers(world: World, db: Database) -> None:
    now = utcnow()
    offsets = [-48, -1, 1, 23, 30, None]
    made = [
        put_demand(db, world, S.dispatched, deadline=now + timedelta(hours=h) if h is not None else None)
        for h in offsets
    ]
    made.append(put_demand(db, world, S.resolved, deadline=now - timedelta(hours=3)))
    with db.read() as s:
        late = set(s.exec(select(Demand.id).where(demand_flow.overdue_clause(now))))
        running = set(s.exec(select(Demand.id).where(demand_flow.running_clause(now))))
    assert late == {d.id for d in made if demand_flow.overdue(d, now)} == {made[0].id, made[1].id}
    # The candidates for 即将超期 hold every request due soon.
    assert running == {made[2].id, made[3].id, made[4].id}
    assert {d.id for d in made if demand_flow.due_soon(d, now)} == {made[2].id, made[3].id}


# -- scope changes reach the phones (SYNC.md rule 10) --------------------------------------------


def test_transfer_and_return_move_the_request_between_phones(
    world: World, db: Database, sync_phone: Any
) -> None:
    demand = put_demand(db, world, S.submitted)
    staff = dm_actor(db, world, "staff")
    department_phone = sync_phone(world.users["department"])
    department_phone.pull()
    assert department_phone.records("demand") == {}

    with db.write() as s:
        dm.transfer_demand(
            s, actor=staff, data={"demand_id": str(demand.id), "department_id": str(world.department.id)}
        )
    department_phone.pull()
    assert set(department_phone.records("demand")) == {str(demand.id)}
    pulled_events = department_phone.records("demand_event")
    assert [e["kind"] for e in pulled_events.values()] == ["transferred"]
    assert department_phone.records("demand")[str(demand.id)]["status"] == S.transferred
    assert "rating_token" not in department_phone.records("demand")[str(demand.id)]

    department_phone.queue("demand.return", {"demand_id": str(demand.id), "reason": "不属于本部门职责"})
    department_phone.push()
    department_phone.pull()
    assert department_phone.records("demand") == {}
    assert department_phone.records("demand_event") == {}
    back = reload(db, demand.id)
    assert (back.status, back.department_id, back.deadline) == (S.submitted, None, None)
    # A late step from the phone that lost it is out_of_scope, never dropped silently.
    department_phone.queue("demand.progress", {"demand_id": str(demand.id), "note": "已派人查看"})
    department_phone.push()
    assert department_phone.results[department_phone.next_id - 1]["code"] == "out_of_scope"


def test_dispatch_to_another_grid_leaves_the_old_grid_s_phones(
    world: World, db: Database, sync_phone: Any
) -> None:
    demand = put_demand(db, world, S.submitted)
    staff = dm_actor(db, world, "staff")
    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=staff,
            data={"demand_id": str(demand.id), "grid_id": str(world.grid.id), "handling_type": "self"},
        )
    here, there = sync_phone(world.users["worker"]), sync_phone(world.users["other_worker"])
    here.pull()
    there.pull()
    assert str(demand.id) in here.records("demand") and there.records("demand") == {}
    assert len(here.records("demand_event")) == 1

    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=staff,
            data={
                "demand_id": str(demand.id),
                "grid_id": str(world.other_grid.id),
                "handling_type": "reply",
                "priority": "urgent",
            },
        )
    here.pull()
    there.pull()
    assert here.records("demand") == {} and here.records("demand_event") == {}
    assert there.records("demand")[str(demand.id)]["status"] == S.dispatched
    assert there.records("demand")[str(demand.id)]["grid_id"] == str(world.other_grid.id)
    assert len(there.records("demand_event")) == 2
    there.queue("demand.accept", {"demand_id": str(demand.id)})
    here.queue("demand.accept", {"demand_id": str(demand.id)})
    there.push()
    here.push()
    assert there.results[1]["status"] == "applied"
    assert here.results[1]["code"] == "out_of_scope"


# -- capture, suggestion, masking ------------------------------------------------------------------


def test_create_accepts_configured_fields_and_coordinates_but_not_the_public_source(
    world: World, db: Database
) -> None:
    staff = dm_actor(db, world, "staff")
    with db.write() as s:
        fields = [*preferences.get(s, "demand.fields"), {"code": "safety", "name": "平安建设"}]
        preferences.set(s, "demand.fields", fields, staff)
    base = {
        "field": "safety",
        "description": "小区门口监控坏了",
        "source": "hotline",
        "lat": 27.451,
        "lng": 115.861,
    }
    with db.write() as s:
        demand = dm.create_demand(s, actor=staff, data={"demand_id": str(uuid.uuid4()), **base})
    assert (demand.field, demand.grid_id, demand.lat) == ("safety", None, 27.451)
    for bad in ({"field": "weather"}, {"source": "public"}):
        with pytest.raises(InvalidInput), db.write() as s:
            dm.create_demand(s, actor=staff, data={"demand_id": str(uuid.uuid4()), **base, **bad})


def test_the_grid_suggestion_household_then_distance_then_estate(
    world: World, db: Database, make: Factory
) -> None:
    make.household(world.other_grid, estate="桃园新村", building="1栋")
    make.household(world.other_grid, estate="桃园新村", building="2栋")
    cases = [
        (put_demand(db, world, S.submitted), world.grid.id, "household"),
        (
            put_demand(db, world, S.submitted, household_id=None, lat=27.452, lng=115.858),
            world.other_grid.id,
            "nearest",
        ),
        (
            put_demand(db, world, S.submitted, household_id=None, address="桃园新村2栋"),
            world.other_grid.id,
            "estate",
        ),
        (
            put_demand(db, world, S.submitted, household_id=None, address="", description="门口坑洼"),
            None,
            None,
        ),
    ]
    with db.read() as s:
        for demand, grid_id, why in cases:
            found = grid_suggestion.suggest_grid(s, demand)
            assert (found.grid.id if found else None, found.why if found else None) == (grid_id, why)


def test_mask_numbers_hides_phones_and_id_numbers() -> None:
    text = "联系13812345678或0794-6123456，身份证360121195001011234，车牌赣F12345，面积120平"
    masked = masking.mask_numbers(text)
    assert "13812345678" not in masked and "360121195001011234" not in masked and "6123456" not in masked
    assert "138****5678" in masked and "赣F12345" in masked and "120平" in masked


def test_the_migrations_build_the_demand_tables_of_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in differences if "demand" in repr(d) or "api_key" in repr(d)] == []


def test_triage_may_put_the_request_in_another_field(world: World, db: Database) -> None:
    staff = dm_actor(db, world, "staff")
    dispatched, transferred = put_demand(db, world, S.submitted), put_demand(db, world, S.submitted)
    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=staff,
            data={
                "demand_id": str(dispatched.id),
                "grid_id": str(world.grid.id),
                "handling_type": "self",
                "field": "environment",
            },
        )
        dm.transfer_demand(
            s,
            actor=staff,
            data={
                "demand_id": str(transferred.id),
                "department_id": str(world.department.id),
                "field": "property",
            },
        )
    assert reload(db, dispatched.id).field == "environment"
    assert history(db, dispatched.id)[-1].note == "派单至一网格。领域改为环境卫生。"
    assert reload(db, transferred.id).field == "property"
    with pytest.raises(InvalidInput), db.write() as s:
        dm.dispatch_demand(
            s,
            actor=staff,
            data={
                "demand_id": str(dispatched.id),
                "grid_id": str(world.grid.id),
                "handling_type": "self",
                "field": "weather",
            },
        )
