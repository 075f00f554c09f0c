"""工作台 (issue 17): the worker's tasks on the phone are the server's, clear at once when done
offline, stay cleared after a reload and a sync, and a card made ready by staff arrives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import select

from server.clock import LOCAL_TZ
from server.commands.travel_cards import advance_application
from server.db import Database
from server.models import Conflict, Demand, Household, TravelCard, User, Visit
from server.queries.tasks import tasks_for
from tests.browser.conftest import SCREENSHOTS, screenshot
from tests.browser.field import go_offline, go_online, open_today, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


@dataclass
class Day:
    worker: User
    staff: User
    today: Household  # never visited, tagged 独居: due today
    overdue: Household  # last seen 10 days ago, interval 7
    week: Household  # last seen 3 days ago: due in 4 days
    elder: Household  # an 85-year-old, never visited: due today (age rule)
    quiet: Household  # nobody a rule names
    card: TravelCard  # in production, to the door


@pytest.fixture
def day(make: Factory) -> Day:
    grid = make.grid(name="芙蓉第一网格")
    make.tag("alone", name="独居老人")
    make.visit_rule(tag_code="alone", interval_days=7, name="独居老人每周")
    make.visit_rule(subject="age", tag_code="", min_age=80, interval_days=14, name="高龄老人")
    worker = make.user("grid_worker", grids=[grid])

    def home(
        building: str, unit: str, room: str, tags: list[str] | None = None, born: date | None = None
    ) -> Household:
        h = make.household(grid, estate="芙蓉花园", building=building, unit=unit, room=room)
        make.resident(h, tags=tags or [], born=born or date(1970, 1, 1))
        return h

    due_today = home("2栋", "1单元", "101室", ["alone"])
    overdue = home("10栋", "1单元", "201室", ["alone"])
    week = home("2栋", "1单元", "102室", ["alone"])
    elder = home("2栋", "2单元", "301室", born=date(1941, 3, 3))
    quiet = home("3栋", "1单元", "101室")
    now = datetime.now(UTC)
    for household, days in ((overdue, 10), (week, 3)):
        make._save(
            Visit(
                household_id=household.id,
                community_id=household.community_id,
                grid_id=grid.id,
                worker_id=worker.id,
                outcome="completed",
                at=now - timedelta(days=days),
            )
        )
    resident = make.resident(quiet, name="王大爷", born=date(1955, 2, 2))
    card = make._save(
        TravelCard(
            resident_id=resident.id,
            household_id=quiet.id,
            community_id=quiet.community_id,
            grid_id=grid.id,
            status="in_production",
            delivery="door",
        )
    )
    return Day(worker, make.user("community_staff"), due_today, overdue, week, elder, quiet, card)


def shown(page: Page) -> list[tuple[str, str, str]]:
    """(section, kind, record) of every task on the 工作台, in screen order."""
    return [
        (
            row.evaluate("a => a.closest('[data-group]').dataset.group"),
            row.get_attribute("data-task") or "",
            row.get_attribute("data-record") or "",
        )
        for row in page.query_selector_all("[data-task]")
    ]


def server_tasks(db: Database, make: Factory, worker: User) -> set[tuple[str, str]]:
    with db.read() as session:
        return {(str(t.kind), t.record_id) for t in tasks_for(session, make.actor(worker), datetime.now(UTC))}


def test_the_workbench_lists_what_the_server_says_is_due_building_by_building(
    phone: BrowserContext, live_server: LiveServer, day: Day, db: Database, make: Factory
) -> None:
    page = phone.new_page()
    sign_in(page, live_server, day.worker.username)
    open_today(page)
    rows = shown(page)
    assert {(kind, record) for _, kind, record in rows} == server_tasks(db, make, day.worker)
    assert rows == [
        ("overdue", "care_visit", str(day.overdue.id)),
        ("today", "care_visit", str(day.today.id)),  # 2栋1单元 before 2栋2单元 before 10栋
        ("today", "care_visit", str(day.elder.id)),
        ("week", "care_visit", str(day.week.id)),
    ]
    counts = {
        li.get_attribute("data-count"): li.inner_text() for li in page.query_selector_all("#task-counts li")
    }
    assert [counts[k].split()[0] for k in ("overdue", "today", "week")] == ["1", "2", "1"]
    headings = [h.inner_text() for h in page.query_selector_all("[data-group=today] h3.building")]
    assert headings == ["芙蓉花园 2栋 1单元 · 1 项", "芙蓉花园 2栋 2单元 · 1 项"]
    assert "超期 3 天" in page.inner_text("[data-group=overdue]")
    screenshot(page, "today-360")


def test_a_visit_recorded_offline_clears_its_task_at_once_after_a_reload_and_after_sync(
    phone: BrowserContext, live_server: LiveServer, day: Day, db: Database
) -> None:
    page = phone.new_page()
    sign_in(page, live_server, day.worker.username)
    open_today(page)
    go_offline(phone, live_server)
    page.click(f"[data-task=care_visit][data-record='{day.today.id}']")
    page.wait_for_selector("form[data-form=visit]")
    assert page.input_value("select[name=purpose]") == "care"
    page.click("form[data-form=visit] button[type=submit]")
    page.wait_for_selector("#task-counts")
    assert str(day.today.id) not in {record for _, _, record in shown(page)}
    assert len(shown(page)) == 3
    page.reload()
    page.wait_for_selector("#task-counts")
    assert str(day.today.id) not in {record for _, _, record in shown(page)}
    go_online(phone, live_server)
    page.click("#syncstate")
    wait_synced(page)
    page.wait_for_selector("#task-counts")
    assert [record for _, _, record in shown(page)] == [
        str(day.overdue.id),
        str(day.elder.id),
        str(day.week.id),
    ]
    with db.read() as session:
        visits = session.exec(select(Visit).where(Visit.household_id == day.today.id)).all()
    assert [(v.purpose, v.outcome) for v in visits] == [("care", "completed")]


def test_a_card_made_ready_by_staff_arrives_as_a_task_after_sync(
    phone: BrowserContext, live_server: LiveServer, day: Day, db: Database, make: Factory
) -> None:
    page = phone.new_page()
    sign_in(page, live_server, day.worker.username)
    open_today(page)
    assert "card_deliver" not in {kind for _, kind, _ in shown(page)}
    with db.write() as session:
        advance_application(
            session, actor=make.actor(day.staff), data={"application_id": str(day.card.id), "to": "ready"}
        )
    page.click("#syncstate")
    page.wait_for_selector(f"[data-task=card_deliver][data-record='{day.card.id}']")
    assert ("today", "card_deliver", str(day.card.id)) in shown(page)
    page.click(f"[data-task=card_deliver][data-record='{day.card.id}']")
    page.wait_for_selector("[data-card][data-status=ready]")


@dataclass
class Kinds:
    worker: User
    tasks: dict[str, str]  # kind -> the record its task names
    later: TravelCard  # issued, its review in 40 days: no task yet


@pytest.fixture
def kinds(make: Factory) -> Kinds:
    """One household with a task of every kind the issue names, and records that make none."""
    grid = make.grid(name="芙蓉第二网格")
    make.tag("alone", name="独居老人")
    make.visit_rule(tag_code="alone", interval_days=7, name="独居老人每周")
    worker, other = make.user("grid_worker", grids=[grid]), make.user("grid_worker", grids=[grid])
    home = make.household(grid, estate="芙蓉花园", building="5栋", unit="1单元", room="101室")
    elder = make.resident(home, tags=["alone"], born=date(1948, 5, 5))
    today = datetime.now(UTC).astimezone(LOCAL_TZ).date()

    def card(status: str, **kw: object) -> TravelCard:
        return make._save(
            TravelCard(
                resident_id=elder.id,
                household_id=home.id,
                community_id=home.community_id,
                grid_id=grid.id,
                status=status,
                **kw,
            )
        )

    def demand(status: str, **kw: object) -> Demand:
        return make._save(
            Demand(
                community_id=home.community_id,
                grid_id=grid.id,
                household_id=home.id,
                field="infrastructure",
                description="楼道灯坏了",
                source="visit",
                status=status,
                handling_type="self",
                **kw,
            )
        )

    supplement = card("needs_supplement")
    deliver = card("ready", delivery="door")
    review = card("issued", review_due=today + timedelta(days=20))
    later = card("issued", review_due=today + timedelta(days=40))
    card("ready", delivery="collect")  # the resident collects it: nothing to take to the door
    accept = demand("dispatched")
    rectify = demand("rectifying", rating="dissatisfied")
    due = demand("accepted", assignee_id=worker.id, deadline=datetime.now(UTC) + timedelta(hours=2))
    demand("accepted", assignee_id=other.id, deadline=datetime.now(UTC) + timedelta(hours=2))  # another's
    conflict = make._save(
        Conflict(
            community_id=home.community_id,
            grid_id=grid.id,
            record_type="household",
            record_id=home.id,
            field="phone",
            server_value="13800138000",
            client_value="13900139000",
            user_id=worker.id,
            status="open",
        )
    )
    tasks = {
        "care_visit": str(home.id),
        "card_supplement": str(supplement.id),
        "card_deliver": str(deliver.id),
        "card_review": str(review.id),
        "demand_accept": str(accept.id),
        "demand_rectify": str(rectify.id),
        "demand_due": str(due.id),
        "conflict": str(conflict.id),
    }
    return Kinds(worker, tasks, later)


# What each task opens: the screen and the step or form it is there for.
OPENS = {
    "care_visit": "form[data-form=visit]",
    "card_supplement": "[data-card][data-status=needs_supplement]",
    "card_deliver": "[data-action=deliver]",
    "card_review": "[data-action=plan-review]",
    "demand_accept": "[data-action=accept]",
    "demand_rectify": "[data-action=accept]",
    "demand_due": "form[data-form=resolve]",
    "conflict": "[data-conflict]",
}


def test_every_kind_of_task_is_listed_as_the_server_says_and_opens_its_screen(
    phone: BrowserContext, live_server: LiveServer, kinds: Kinds, db: Database, make: Factory
) -> None:
    page = phone.new_page()
    sign_in(page, live_server, kinds.worker.username)
    open_today(page)
    go_offline(phone, live_server)
    rows = shown(page)
    assert {(kind, record) for _, kind, record in rows} == server_tasks(db, make, kinds.worker)
    assert {kind: record for _, kind, record in rows} == kinds.tasks
    assert str(kinds.later.id) not in {record for _, _, record in rows}  # its review is 40 days off
    page.screenshot(path=str(SCREENSHOTS / "today-kinds-360.png"))  # what the phone shows, 360×740
    texts = page.inner_text("[data-group=today]")
    for words in (
        "出行卡：补充材料",
        "出行卡：送卡上门",
        "出行卡：安排年审",
        "诉求：待接单",
        "诉求：差评整改",
    ):
        assert words in texts
    for kind, record in kinds.tasks.items():
        open_today(page)
        page.click(f"[data-task={kind}][data-record='{record}']")
        page.wait_for_selector(OPENS[kind])
        if kind == "demand_rectify":
            assert page.inner_text("[data-action=accept]") == "接单整改"
        if kind == "conflict":
            assert page.query_selector(f"[data-conflict='{record}']") is not None


def test_a_day_with_nothing_left_says_the_work_is_done(
    phone: BrowserContext, live_server: LiveServer, make: Factory
) -> None:
    grid = make.grid(name="芙蓉第三网格")
    make.tag("alone", name="独居老人")
    make.visit_rule(tag_code="alone", interval_days=7)
    worker = make.user("grid_worker", grids=[grid])
    home = make.household(grid, estate="芙蓉花园", building="6栋", unit="1单元", room="101室")
    make.resident(home, tags=["alone"])
    make._save(
        Visit(
            household_id=home.id,
            community_id=home.community_id,
            grid_id=grid.id,
            worker_id=worker.id,
            outcome="completed",
            at=datetime.now(UTC) - timedelta(hours=1),
        )
    )
    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    go_offline(phone, live_server)
    page.reload()
    open_today(page)
    assert page.query_selector("[data-task]") is None
    assert "今天的工作都完成了" in page.inner_text("[data-empty]")
    assert [li.inner_text().split()[0] for li in page.query_selector_all("#task-counts li")] == [
        "0",
        "0",
        "0",
    ]
    page.screenshot(path=str(SCREENSHOTS / "today-empty-360.png"))
