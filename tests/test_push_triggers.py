"""Triggers: each change in the issue's list tells the right person, in Chinese, with the page to open.

The changes are made through the same domain commands the phones and office
pages use; the notifications are read back from the outbox, where the flush
hook wrote them in the change's own transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlmodel import col, select

from server import jobs
from server.access import Actor
from server.clock import LOCAL_TZ
from server.commands import demands as dm
from server.commands import travel_cards as tc
from server.commands.updates import apply_changes
from server.db import Database
from server.jobs import JOBS
from server.models import (
    CardStatus,
    Community,
    Demand,
    DemandEvent,
    DemandStatus,
    Department,
    Grid,
    Household,
    Notice,
    PushNotification,
    Resident,
    TravelCard,
    User,
    utcnow,
)
from server.push import triggers
from server.push.triggers import EVENTS, NOTICES, due_reminders, mask_name, remind
from server.web.services import Services
from server.workflows import demands as demand_flow
from server.workflows import travel_cards as card_flow
from tests.conftest import Factory

S = DemandStatus


@dataclass
class World:
    community: Community
    grid: Grid
    other_grid: Grid
    household: Household
    resident: Resident
    department: Department
    users: dict[str, User]

    def actor(self, make: Factory, who: str) -> Actor:
        return make.actor(self.users[who])


@pytest.fixture
def world(make: Factory) -> World:
    grid, other_grid = make.grid(name="一网格"), make.grid(name="二网格")
    household = make.household(grid)
    resident = make.resident(household, name="王桂英", born=date(1950, 6, 1))
    department = make.department(name="县住建局")
    users = {
        "worker": make.user("grid_worker", grids=[grid]),
        "partner": make.user("grid_worker", grids=[grid]),  # the same grid, a second worker
        "other_worker": make.user("grid_worker", grids=[other_grid]),
        "staff": make.user("community_staff"),
        "other_staff": make.user("community_staff"),
        "department": make.user("department", department=department),
        "admin": make.user("admin"),
    }
    with make.db.read() as s:
        community = s.get(Community, grid.community_id)
    assert community is not None
    return World(community, grid, other_grid, household, resident, department, users)


@pytest.fixture(autouse=True)
def one_notice_per_notification(db: Database) -> Iterator[None]:
    """Every trigger's news is first a notice for the same person, beside its push (issue 19)."""
    yield
    with db.read() as s:
        pushes = {p.id: (p.user_id, p.kind, p.record_id) for p in s.exec(select(PushNotification))}
        inbox = [(n.push_id, (n.user_id, n.kind, n.subject_id)) for n in s.exec(select(Notice))]
    assert sorted(p for p, _ in inbox) == sorted(pushes)  # exactly one notice per notification
    assert all(pushes[p] == facts for p, facts in inbox)


def put_demand(db: Database, world: World, status: str, **kw: Any) -> Demand:
    fields: dict[str, Any] = {
        "community_id": world.grid.community_id,
        "grid_id": world.grid.id,
        "household_id": world.household.id,
        "field": "infrastructure",
        "description": "3栋楼道路灯坏了一年多，联系电话13812345678",
        "source": "visit",
        "status": status,
    }
    demand = Demand(**(fields | kw))
    with db.write() as s:
        s.add(demand)
    return demand


def news(db: Database, *where: Any) -> list[PushNotification]:
    with db.read() as s:
        return list(s.exec(select(PushNotification).where(*where).order_by(col(PushNotification.created_at))))


def told(db: Database, world: World) -> dict[str, list[tuple[str, str, str]]]:
    """who → [(title, body, url)] of what waits for them."""
    names = {user.id: name for name, user in world.users.items()}
    found: dict[str, list[tuple[str, str, str]]] = {}
    for n in news(db):
        found.setdefault(names.get(n.user_id, str(n.user_id)), []).append((n.title, n.body, n.url))
    return found


def local(moment: datetime | None) -> str:
    assert moment is not None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")


def reload(db: Database, model: Any, row_id: uuid.UUID) -> Any:
    with db.read() as s:
        return s.get(model, row_id)


# -- requests ------------------------------------------------------------------------------------


def test_a_request_dispatched_to_a_grid_tells_its_workers(world: World, make: Factory, db: Database) -> None:
    demand = put_demand(db, world, S.submitted)
    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=world.actor(make, "staff"),
            data={"demand_id": str(demand.id), "grid_id": str(world.grid.id), "handling_type": "self"},
        )
    deadline = local(reload(db, Demand, demand.id).deadline)
    expected = (
        "新诉求派到您的网格",
        f"基础设施维护：3栋楼道路灯坏了一年多，联系电话138****5678。请接单，{deadline}前办结。",
        f"/app/#/d/{demand.id}",
    )
    assert told(db, world) == {"worker": [expected], "partner": [expected]}
    assert {(n.kind, n.urgency, n.tag, n.record_type) for n in news(db)} == {
        ("demand_dispatched", "normal", f"demand-{demand.id}", "demand")
    }


def test_an_urgent_request_is_urgent_news(world: World, make: Factory, db: Database) -> None:
    demand = put_demand(db, world, S.submitted)
    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=world.actor(make, "staff"),
            data={
                "demand_id": str(demand.id),
                "grid_id": str(world.other_grid.id),
                "handling_type": "self",
                "priority": "urgent",
            },
        )
    assert {n.urgency for n in news(db)} == {"high"}
    assert set(told(db, world)) == {"other_worker"}


def test_a_residents_own_submission_tells_the_office(world: World, db: Database) -> None:
    with db.write() as s:
        demand = dm.submit_public(
            s,
            community=world.community,
            data={"field": "environment", "description": "小区门口垃圾三天没人清运"},
        )
    expected = ("居民提交了新诉求", "环境卫生：小区门口垃圾三天没人清运。请分派。", f"/demands/{demand.id}")
    assert told(db, world) == {"staff": [expected], "other_staff": [expected]}


def test_a_request_a_worker_records_at_the_door_tells_nobody(
    world: World, make: Factory, db: Database
) -> None:
    with db.write() as s:
        dm.create_demand(
            s,
            actor=world.actor(make, "worker"),
            data={
                "demand_id": str(uuid.uuid4()),
                "household_id": str(world.household.id),
                "field": "property",
                "description": "电梯异响",
                "source": "visit",
            },
        )
    assert news(db) == []


def test_a_request_returned_by_a_department_tells_the_office(
    world: World, make: Factory, db: Database
) -> None:
    demand = put_demand(db, world, S.transferred, department_id=world.department.id, handling_type="transfer")
    with db.write() as s:
        dm.return_demand(
            s,
            actor=world.actor(make, "department"),
            data={"demand_id": str(demand.id), "reason": "不属于本部门职责"},
        )
    expected = ("部门退回了一条诉求", "县住建局：不属于本部门职责", f"/demands/{demand.id}")
    assert told(db, world) == {"staff": [expected], "other_staff": [expected]}


def test_a_request_transferred_to_a_department_tells_it(world: World, make: Factory, db: Database) -> None:
    demand = put_demand(db, world, S.submitted)
    with db.write() as s:
        dm.transfer_demand(
            s,
            actor=world.actor(make, "staff"),
            data={"demand_id": str(demand.id), "department_id": str(world.department.id)},
        )
    [(title, body, url)] = told(db, world)["department"]
    assert (title, url) == ("新诉求转交到您的部门", f"/demands/{demand.id}")
    assert body.startswith("基础设施维护：3栋楼道路灯坏了") and "前办结" in body
    assert set(told(db, world)) == {"department"}


def test_a_dissatisfied_resident_tells_the_grid_again(world: World, make: Factory, db: Database) -> None:
    demand = put_demand(
        db,
        world,
        S.resolved,
        handling_type="self",
        assignee_id=world.users["worker"].id,
        rating_token="tok-1",
    )
    with db.write() as s:
        dm.rate_by_token(s, token="tok-1", data={"rating": "dissatisfied", "comment": "又坏了"})
    expected = (
        "居民不满意，诉求要整改",
        "基础设施维护：3栋楼道路灯坏了一年多，联系电话138****5678。请重新接单整改。",
        f"/app/#/d/{demand.id}",
    )
    assert told(db, world) == {"worker": [expected], "partner": [expected]}


def test_the_one_who_made_the_change_is_not_told(world: World, make: Factory, db: Database) -> None:
    demand = put_demand(db, world, S.resolved, handling_type="self", assignee_id=world.users["worker"].id)
    with db.write() as s:
        dm.rate_demand(
            s, actor=world.actor(make, "worker"), data={"demand_id": str(demand.id), "rating": "dissatisfied"}
        )
    assert set(told(db, world)) == {"partner"}


def test_steps_that_are_nobodys_news_tell_nobody(world: World, make: Factory, db: Database) -> None:
    demand = put_demand(db, world, S.dispatched, handling_type="self")
    ref = {"demand_id": str(demand.id)}
    with db.write() as s:
        dm.accept_demand(s, actor=world.actor(make, "worker"), data=ref)
        dm.progress_demand(s, actor=world.actor(make, "worker"), data=ref | {"note": "已报修"})
        dm.resolve_demand(s, actor=world.actor(make, "worker"), data=ref | {"note": "已修好"})
    assert news(db) == []


def test_old_events_from_a_phone_that_was_away_are_history_not_news(world: World, db: Database) -> None:
    demand = put_demand(db, world, S.dispatched)
    with db.write() as s:
        s.add(
            DemandEvent(
                demand_id=demand.id,
                community_id=demand.community_id,
                grid_id=demand.grid_id,
                kind="dispatched",
                to_status=S.dispatched,
                at=utcnow() - timedelta(days=3),
            )
        )
    assert news(db) == []


def test_a_change_that_rolls_back_tells_nobody(world: World, make: Factory, db: Database) -> None:
    demand = put_demand(db, world, S.submitted)
    with pytest.raises(RuntimeError), db.write() as s:
        dm.dispatch_demand(
            s,
            actor=world.actor(make, "staff"),
            data={"demand_id": str(demand.id), "grid_id": str(world.grid.id), "handling_type": "self"},
        )
        assert len(s.exec(select(PushNotification)).all()) == 2  # written with the change …
        raise RuntimeError("the request failed after the dispatch")
    assert news(db) == []  # … and gone with it


def test_a_muted_session_tells_nobody(world: World, make: Factory, db: Database) -> None:
    demand = put_demand(db, world, S.submitted)
    with db.write() as s:
        triggers.mute(s)
        dm.dispatch_demand(
            s,
            actor=world.actor(make, "staff"),
            data={"demand_id": str(demand.id), "grid_id": str(world.grid.id), "handling_type": "self"},
        )
    assert news(db) == []


def test_an_inactive_worker_is_not_told(world: World, make: Factory, db: Database) -> None:
    with db.write() as s:
        partner = s.get(User, world.users["partner"].id)
        assert partner is not None
        partner.active = False
    demand = put_demand(db, world, S.submitted)
    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=world.actor(make, "staff"),
            data={"demand_id": str(demand.id), "grid_id": str(world.grid.id), "handling_type": "self"},
        )
    assert set(told(db, world)) == {"worker"}


# -- reminders ------------------------------------------------------------------------------------


def test_due_within_24_hours_then_overdue_each_told_once(world: World, db: Database) -> None:
    now = utcnow()
    mine = put_demand(
        db,
        world,
        S.accepted,
        handling_type="self",
        assignee_id=world.users["worker"].id,
        deadline=now + timedelta(hours=5),
    )
    open_ = put_demand(db, world, S.dispatched, handling_type="self", deadline=now + timedelta(hours=20))
    departments = put_demand(
        db, world, S.transferred, department_id=world.department.id, deadline=now - timedelta(hours=2)
    )
    put_demand(
        db, world, S.accepted, assignee_id=world.users["worker"].id, deadline=now + timedelta(hours=40)
    )
    put_demand(db, world, S.accepted, assignee_id=world.users["worker"].id, deadline=now - timedelta(days=8))
    put_demand(db, world, S.resolved, assignee_id=world.users["worker"].id, deadline=now - timedelta(hours=1))

    with db.read() as s:
        assert due_reminders(s, now=now) == {mine.id, open_.id, departments.id}
    with db.write() as s:
        assert remind(s, now=now, only={mine.id}) == 1
    with db.read() as s:
        assert due_reminders(s, now=now) == {open_.id, departments.id}
    with db.write() as s:
        assert remind(s, now=now) == 3
    with db.read() as s:
        assert due_reminders(s, now=now + timedelta(minutes=10)) == set()
    with db.write() as s:
        assert remind(s, now=now + timedelta(minutes=10)) == 0  # told once

    soon = f"期限{local(mine.deadline)}，请抓紧办理。"
    assert told(db, world) == {
        "worker": [
            (
                "诉求快到期了",
                f"基础设施维护：3栋楼道路灯坏了一年多，联系电话138****5678。{soon}",
                f"/app/#/d/{mine.id}",
            ),
            (
                "诉求快到期了",
                f"基础设施维护：3栋楼道路灯坏了一年多，联系电话138****5678。期限{local(open_.deadline)}，请抓紧办理。",
                f"/app/#/d/{open_.id}",
            ),
        ],
        "partner": [
            (
                "诉求快到期了",
                f"基础设施维护：3栋楼道路灯坏了一年多，联系电话138****5678。期限{local(open_.deadline)}，请抓紧办理。",
                f"/app/#/d/{open_.id}",
            ),
        ],
        "department": [
            (
                "诉求已超期",
                f"基础设施维护：3栋楼道路灯坏了一年多，联系电话138****5678。期限{local(departments.deadline)}已过，请尽快办理。",
                f"/demands/{departments.id}",
            ),
        ],
    }
    # Past its deadline, the one due soon is told once more: now it is overdue.
    with db.write() as s:
        assert remind(s, now=now + timedelta(hours=6)) == 1
    assert told(db, world)["worker"][-1][0] == "诉求已超期"
    # A new deadline (the resident was dissatisfied) is a new reminder.
    with db.write() as s:
        row = s.get(Demand, mine.id)
        assert row is not None
        row.deadline = now + timedelta(hours=30)
    with db.write() as s:
        assert remind(s, now=now + timedelta(hours=10)) == 1


def test_an_escalated_request_reminds_the_office(world: World, db: Database) -> None:
    put_demand(db, world, S.escalated, handling_type="self", deadline=utcnow() + timedelta(hours=3))
    with db.write() as s:
        remind(s)
    assert set(told(db, world)) == {"staff", "other_staff"}
    assert {url.split("/")[1] for _t, _b, url in told(db, world)["staff"]} == {"demands"}


# -- travel cards -----------------------------------------------------------------------------------


def put_card(db: Database, world: World, status: str, created_by: str = "worker", **kw: Any) -> TravelCard:
    card = TravelCard(
        resident_id=world.resident.id,
        household_id=world.resident.household_id,
        community_id=world.resident.community_id,
        grid_id=world.resident.grid_id,
        applicant_hash=world.resident.id_hash,
        status=status,
        created_by=world.users[created_by].id,
        **kw,
    )
    with db.write() as s:
        s.add(card)
    return card


@pytest.mark.parametrize(
    ("decision", "title", "body"),
    [
        ("approve", "出行卡申请已通过", "王*英的老年出行卡申请已审核通过，等待制卡。"),
        ("needs_supplement", "出行卡申请要补充材料", "王*英：照片背景太暗，请重拍"),
        ("reject", "出行卡申请未通过", "王*英：户籍不在本县"),
    ],
)
def test_a_decision_on_an_application_tells_the_worker_who_applied(
    world: World, make: Factory, db: Database, decision: str, title: str, body: str
) -> None:
    card = put_card(db, world, CardStatus.submitted)
    reason = {"approve": "", "needs_supplement": "照片背景太暗，请重拍", "reject": "户籍不在本县"}[decision]
    with db.write() as s:
        tc.review_application(
            s,
            actor=world.actor(make, "staff"),
            data={"application_id": str(card.id), "decision": decision, "reason": reason},
        )
    assert told(db, world) == {"worker": [(title, body, f"/app/#/card/{card.id}")]}
    assert news(db)[0].tag == f"travel_card-{card.id}"


@pytest.mark.parametrize(
    ("delivery", "body"),
    [("collect", "王*英的出行卡已制好，可以通知居民领取。"), ("door", "王*英的出行卡已制好，请上门送卡。")],
)
def test_a_card_ready_tells_the_worker(
    world: World, make: Factory, db: Database, delivery: str, body: str
) -> None:
    card = put_card(db, world, CardStatus.approved, delivery=delivery)
    staff = world.actor(make, "staff")
    with db.write() as s:
        tc.advance_application(s, actor=staff, data={"application_id": str(card.id), "to": "in_production"})
    assert news(db) == []  # in production: nothing to do for the worker yet
    with db.write() as s:
        tc.advance_application(s, actor=staff, data={"application_id": str(card.id), "to": "ready"})
    assert told(db, world) == {"worker": [("出行卡已制好", body, f"/app/#/card/{card.id}")]}


def test_an_application_made_at_the_office_opens_the_office_page(
    world: World, make: Factory, db: Database
) -> None:
    card = put_card(db, world, CardStatus.submitted, created_by="other_staff")
    with db.write() as s:
        tc.review_application(
            s, actor=world.actor(make, "staff"), data={"application_id": str(card.id), "decision": "approve"}
        )
    assert told(db, world)["other_staff"][0][2] == f"/travel-cards/{card.id}"


def test_names_are_masked_on_the_lock_screen() -> None:
    assert [mask_name(n) for n in ("张三", "王桂英", "欧阳娜娜", "李", " 赵钱 ")] == [
        "张*",
        "王*英",
        "欧**娜",
        "李",
        "赵*",
    ]


# -- conflicts ------------------------------------------------------------------------------------------


def test_a_conflict_tells_the_one_whose_change_waits(world: World, make: Factory, db: Database) -> None:
    with db.read() as s:
        base = s.get(Household, world.household.id)
        assert base is not None
        base_version = base.version
    with db.write() as s:
        row = s.get(Household, world.household.id)
        assert row is not None
        row.phone = "13800000001"  # the office changed it meanwhile
    with db.write() as s:
        row = s.get(Household, world.household.id)
        assert row is not None
        result = apply_changes(
            s,
            actor=world.actor(make, "worker"),
            record=row,
            changes={"phone": "13900000002"},
            base_version=base_version,
            client_id=str(uuid.uuid4()),
        )
        assert result.conflict_fields == ["phone"]
    assert told(db, world) == {
        "worker": [
            ("有同步冲突等您处理", "住户的“电话”在您之前已被别人改过，请选择保留哪个值。", "/app/#/outbox")
        ]
    }
    assert news(db)[0].tag == "conflicts"


# -- the table ---------------------------------------------------------------------------------------


def test_every_event_names_a_notice_and_every_kind_it_names_is_written() -> None:
    assert set(EVENTS.values()) <= set(NOTICES)
    demand_kinds = set(demand_flow.EVENT_KINDS.values()) | {"created"}
    card_kinds = set(card_flow.TRANSITIONS) | {"created", "updated"}
    for record, kind, status in EVENTS:
        if record == "demand_event":
            assert kind in demand_kinds, kind
            assert status is None or status in set(S), status
        elif record == "travel_card_event":
            assert kind in card_kinds, kind
        else:
            assert (record, kind) == ("conflict", "open")


def test_the_reminders_job_writes_each_reminder_once(world: World, db: Database) -> None:
    put_demand(db, world, S.dispatched, handling_type="self", deadline=utcnow() + timedelta(hours=20))
    job = next(job for job in JOBS if job.name == "push_remind")
    services = cast(Services, SimpleNamespace(db=db))
    assert job.run(services) == 2  # both workers of the grid
    assert job.run(services) == 0
    assert sorted(told(db, world)) == ["partner", "worker"]


def test_the_reminders_job_writes_a_long_list_in_short_writes_each_once(
    world: World, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "REMINDERS_PER_WRITE", 1)
    for hours in (20, 21, 22):
        put_demand(db, world, S.dispatched, handling_type="self", deadline=utcnow() + timedelta(hours=hours))
    writes = []
    services = cast(Services, SimpleNamespace(db=db))
    run_write = db.run_write
    monkeypatch.setattr(db, "run_write", lambda fn: writes.append(fn) or run_write(fn))
    job = next(job for job in JOBS if job.name == "push_remind")
    assert job.run(services) == 6  # three requests, both workers of the grid each
    assert len(writes) == 3 + 1  # one write a request, then the outbox's purge
    assert job.run(services) == 0
    assert sorted(len(v) for v in told(db, world).values()) == [3, 3]


def test_requests_with_the_same_holders_are_each_due_until_each_is_told(world: World, db: Database) -> None:
    now = utcnow()
    first, second = (
        put_demand(db, world, S.dispatched, handling_type="self", deadline=now + timedelta(hours=hours))
        for hours in (10, 12)
    )
    with db.read() as s:
        assert due_reminders(s, now=now) == {first.id, second.id}
    with db.write() as s:
        assert remind(s, now=now, only={first.id}) == 2  # both workers of the grid
    with db.read() as s:
        assert due_reminders(s, now=now) == {second.id}
