"""Requests against their time limits (issue 20): deadlines in working days from the settings,
the clock stopped and started again, 预警 levels, 督办 with its notice, and the dashboard."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server import preferences
from server.access import Forbidden
from server.commands import demands as dm
from server.db import Database
from server.errors import InvalidTransition
from server.models import AuditLog, Community, DemandEvent, DemandStatus, Notice, PushNotification
from server.push import triggers
from server.queries import demands as queries
from server.workflows import demands as demand_flow
from server.workflows.workdays import LOCAL, TimeLimit, calendar_of
from tests.conftest import Factory, login
from tests.test_demands import World, build_world, dm_actor, put_demand, reload

S = DemandStatus
CAL = calendar_of({})


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL)


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


def dispatched(db: Database, world: World, at: datetime, **args: Any) -> Any:
    demand = put_demand(db, world, S.submitted)
    with db.write() as s:  # made an hour before the dispatch: steps are dated by their history
        dm.add_event(s, demand, actor=None, kind="created", from_status=None, at=at - timedelta(hours=1))
    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=dm_actor(db, world, "staff"),
            data={"demand_id": str(demand.id), "grid_id": str(world.grid.id), **args},
            at=at,
        )
    return reload(db, demand.id)


def test_a_dispatch_before_national_day_is_due_after_it(world: World, db: Database) -> None:
    demand = dispatched(db, world, local("2026-09-30 10:00"), handling_type="self")  # 3 working days
    assert demand.time_limit == "3"
    assert demand.deadline is not None
    assert demand.deadline.astimezone(LOCAL) == local("2026-10-10 10:00")  # 8, 9 and the 调休 Saturday
    urgent = dispatched(db, world, local("2026-09-30 22:00"), handling_type="reply", priority="urgent")
    assert (urgent.time_limit, urgent.deadline.astimezone(LOCAL)) == ("4h", local("2026-10-01 02:00"))


def test_the_settings_change_limits_from_the_next_dispatch(world: World, db: Database) -> None:
    staff = dm_actor(db, world, "staff")
    with db.write() as s:
        limits = preferences.get(s, "demand.time_limits")
        limits["self"] = {"normal": "0.5", "urgent": "0.5"}
        preferences.set(s, "demand.time_limits", limits, staff)
    demand = dispatched(db, world, local("2026-11-27 18:00"), handling_type="self")  # a Friday evening
    assert (demand.time_limit, demand.deadline.astimezone(LOCAL)) == ("0.5", local("2026-11-30 06:00"))


def test_stopping_the_clock_keeps_what_was_left(world: World, db: Database) -> None:
    demand = dispatched(db, world, local("2026-11-23 10:00"), handling_type="self")  # due Thu 26 Nov 10:00
    worker = dm_actor(db, world, "worker")
    with db.write() as s:
        dm.accept_demand(s, actor=worker, data={"demand_id": str(demand.id)}, at=local("2026-11-23 11:00"))
    with db.write() as s:
        dm.suspend_demand(
            s,
            actor=worker,
            data={"demand_id": str(demand.id), "note": "等居民出差回来"},
            at=local("2026-11-24 10:00"),
        )
    stopped = reload(db, demand.id)
    assert stopped.status == S.accepted and stopped.suspended_at is not None
    assert not demand_flow.overdue(stopped, local("2026-12-02 10:00"))  # never overdue while it stands
    assert demand_flow.warning_level(stopped, CAL, local("2026-12-02 10:00")) == ""
    assert demand_flow.time_left(stopped, CAL, local("2026-12-02 10:00")) == (2.0, False)
    with pytest.raises(InvalidTransition), db.write() as s:
        dm.suspend_demand(s, actor=worker, data={"demand_id": str(demand.id), "note": "又停"})
    with db.write() as s:
        dm.resume_demand(
            s,
            actor=worker,
            data={"demand_id": str(demand.id), "note": "居民回来了"},
            at=local("2026-11-30 15:00"),
        )
    resumed = reload(db, demand.id)
    assert resumed.suspended_at is None
    assert resumed.deadline is not None and resumed.deadline.astimezone(LOCAL) == local("2026-12-02 15:00")
    with db.read() as s:
        kinds = [e.kind for e in s.exec(select(DemandEvent).where(DemandEvent.demand_id == demand.id))]
        audited = [a.action for a in s.exec(select(AuditLog).where(AuditLog.record_id == str(demand.id)))]
    assert kinds[-2:] == ["suspended", "resumed"]
    assert {"demand.suspend", "demand.resume"} <= set(audited)


def test_only_the_handler_or_the_office_stops_the_clock(world: World, db: Database) -> None:
    demand = dispatched(db, world, local("2026-11-30 10:00"), handling_type="self")
    with pytest.raises(InvalidTransition), db.write() as s:  # nobody has accepted it: not the worker's yet
        dm.suspend_demand(
            s, actor=dm_actor(db, world, "worker"), data={"demand_id": str(demand.id), "note": "x"}
        )
    with pytest.raises(Forbidden), db.write() as s:
        dm.urge_demand(
            s, actor=dm_actor(db, world, "worker"), data={"demand_id": str(demand.id), "note": "x"}
        )
    with db.write() as s:
        dm.suspend_demand(
            s, actor=dm_actor(db, world, "staff"), data={"demand_id": str(demand.id), "note": "待联席会议"}
        )
    assert reload(db, demand.id).suspended_at is not None


def test_warning_levels_follow_the_share_of_the_limit_used(world: World, db: Database) -> None:
    demand = dispatched(db, world, local("2026-11-27 10:00"), handling_type="self")  # Fri, 3 days: Wed 10:00
    level = lambda text: demand_flow.warning_level(demand, CAL, local(text))  # noqa: E731
    assert [
        level(t) for t in ("2026-11-30 10:00", "2026-12-01 15:59", "2026-12-01 16:00", "2026-12-02 10:01")
    ] == [
        "ok",
        "ok",
        "soon",
        "overdue",
    ]
    with db.read() as s:
        (row,) = queries.rows_for(s, [demand], now=local("2026-12-01 16:00"))
    assert (row.due_soon, row.overdue, row.left) == (True, False, "剩 0.8 个工作日")


def test_urging_notifies_the_handler_and_counts_on_the_dashboard(
    world: World, db: Database, make: Factory
) -> None:
    now = datetime.now(UTC)
    demand = dispatched(db, world, now - timedelta(hours=1), handling_type="self")
    worker = dm_actor(db, world, "worker")
    with db.write() as s:
        dm.accept_demand(s, actor=worker, data={"demand_id": str(demand.id)})
    with db.write() as s:
        dm.urge_demand(
            s, actor=dm_actor(db, world, "staff"), data={"demand_id": str(demand.id), "note": "请本周办结"}
        )
    with db.read() as s:
        told = s.exec(select(PushNotification).where(PushNotification.kind == "demand_urged")).all()
        events = s.exec(select(DemandEvent).where(DemandEvent.kind == "urged")).all()
        community = s.get(Community, world.grid.community_id)
        assert community is not None
        board = queries.dashboard(s, community, now=now)
    assert [m.user_id for m in told] == [world.users["worker"].id]
    assert "请本周办结" in told[0].body
    with db.read() as s:  # the inbox that syncs to the phone, not only the push
        inbox = s.exec(select(Notice).where(Notice.kind == "demand_urged")).all()
    assert [(n.user_id, n.subject_id) for n in inbox] == [(world.users["worker"].id, demand.id)]
    assert "请本周办结" in inbox[0].body
    assert [(e.from_status, e.to_status) for e in events] == [(S.accepted, S.accepted)]
    assert (board.urged, board.suspended) == (1, 0)


def test_the_dashboard_warns_until_next_years_holidays_are_entered(
    client: TestClient, world: World, db: Database
) -> None:
    late_2040 = datetime(2040, 11, 20, 2, tzinfo=UTC)  # 2041: no calendar package knows it
    admin = dm_actor(db, world, "admin")
    with db.write() as s:
        community = s.get(Community, world.grid.community_id)
        assert community is not None
        assert queries.dashboard(s, community, now=late_2040).unknown_year == 2041
        preferences.set(s, "calendar.years", "2041-01-01 休\n2041-02-11~2041-02-15 休\n2041-02-09 班", admin)
        assert queries.dashboard(s, community, now=late_2040).unknown_year is None
        assert not preferences.work_calendar(s).is_workday(date(2041, 2, 11))
        # The page, today: it warns exactly when next year is unknown.
        year = datetime.now(UTC).astimezone(LOCAL).year + 1
        unknown = year not in preferences.work_calendar(s).known_years
    login(client, world.users["admin"])
    assert (f"{year} 年的节假日安排还没有录入" in client.get("/demands/dashboard").text) == unknown
    with db.write() as s:
        preferences.set(s, "calendar.years", f"{year}-01-01 休\n{year}-02-06 班", admin)
    assert "data-calendar-warning" not in client.get("/demands/dashboard").text


def test_the_due_soon_notice_comes_at_75_percent_of_the_limit(world: World, db: Database) -> None:
    now = datetime.now(UTC)
    calendar = calendar_of({})
    early, late = (  # 3 working days with all of them left, and with half a day left
        put_demand(
            db, world, S.accepted, handling_type="self", time_limit="3", deadline=calendar.add(now, left)
        )
        for left in (3, 0.5)
    )
    past = put_demand(
        db, world, S.accepted, handling_type="self", time_limit="4h", deadline=now - timedelta(hours=1)
    )
    assert [demand_flow.warning_level(d, calendar, now) for d in (early, late, past)] == [
        "ok",
        "soon",
        "overdue",
    ]
    with db.write() as s:
        triggers.remind(s, now=now)
    with db.read() as s:
        told = s.exec(select(PushNotification).where(PushNotification.kind == "demand_due_soon")).all()
        inbox = {(n.kind, n.subject_id, n.user_id) for n in s.exec(select(Notice))}
    assert [(m.record_id, m.user_id) for m in told] == [(late.id, world.users["worker"].id)]
    worker = world.users["worker"].id
    assert {n for n in inbox if n[1] in (early.id, late.id, past.id)} == {
        ("demand_due_soon", late.id, worker),
        ("demand_overdue", past.id, worker),
    }
    with db.write() as s:  # once per deadline: the next sweep tells nobody again
        triggers.remind(s, now=now + timedelta(minutes=10))
    with db.read() as s:
        assert len(s.exec(select(Notice)).all()) == len(inbox)


def test_the_office_help_says_how_limits_are_counted(client: TestClient, world: World, db: Database) -> None:
    demand = dispatched(db, world, local("2026-11-30 10:00"), handling_type="self")
    login(client, world.users["staff"])
    detail = client.get(f"/demands/{demand.id}").text
    assert "时限按工作日计算" in detail and "调休上班日计入" in detail and "同一时刻截止" in detail
    assert "暂停计时期间不计" in detail and "四分之三为即将超期" in detail
    login(client, world.users["admin"])
    settings = client.get("/admin/settings").text
    assert "按国务院节假日和调休安排计算" in settings and "到第 N 个工作日的同一时刻截止" in settings
    assert "录入的年份会替换日历包里这一年的安排" in settings


def test_an_admin_enters_next_years_holidays_on_the_settings_page(
    client: TestClient, world: World, db: Database
) -> None:
    """The admin page (设置 · 节假日安排) adds and corrects a year; a wrong line is refused in Chinese
    and changes nothing; the deadlines follow at once; the change is audited."""
    token = str(login(client, world.users["admin"])["csrf_token"])
    bad = client.post(
        "/admin/settings/calendar.years",
        data={"csrf_token": token, "calendar.years": "2027-10-01 放假"},
        follow_redirects=False,
    )
    assert bad.status_code == 400 and "第 1 行看不懂" in bad.text
    text = "2027-01-01 休\n2027-02-05~2027-02-12 休\n2027-02-14 班"
    done = client.post(
        "/admin/settings/calendar.years",
        data={"csrf_token": token, "calendar.years": text},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with db.read() as s:
        calendar = preferences.work_calendar(s)
        audited = s.exec(select(AuditLog).where(AuditLog.action == "preference.set")).all()
    assert 2027 in calendar.known_years
    assert not calendar.is_workday(date(2027, 2, 8)) and calendar.is_workday(date(2027, 2, 14))
    start = local("2027-02-04 10:00")  # a Thursday: the next working day is the 调休 Sunday 14 Feb
    assert TimeLimit.parse("1").deadline(calendar, start).astimezone(LOCAL) == local("2027-02-14 10:00")
    assert any(a.record_id == "calendar.years" for a in audited)
    shown = client.get("/admin/settings").text  # the form shows the year back, one day a line
    assert "2027-02-12 休\n2027-02-14 班" in shown
