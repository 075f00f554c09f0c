"""The phone counts a request's time limit in working days, offline, as the office does (issue 20):
"剩 N 个工作日" and the 预警 colour from the calendar it got with its labels; after 办结 it
shows the resident a QR of their own rating link."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext
from sqlmodel import select

from server.db import Database
from server.models import AuditLog, Demand, DemandEvent, Notice
from server.queries.demands import left_text
from server.workflows import demands as demand_flow
from server.workflows.workdays import TimeLimit, calendar_of
from tests.browser.conftest import screenshot
from tests.browser.field import go_offline, go_online, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_the_phone_shows_what_is_left_in_working_days_offline_and_the_rating_qr(
    phone: BrowserContext, live_server: LiveServer, make: Factory, db: Database
) -> None:
    grid = make.grid()
    worker = make.user("grid_worker", grids=[grid])
    home = make.household(grid)
    now = datetime.now(UTC)
    calendar = calendar_of({})

    def demand(
        limit: str,
        started: datetime,
        status: str = "accepted",
        deadline: datetime | None = None,
        **kw: object,
    ) -> Demand:
        return make._save(
            Demand(
                community_id=grid.community_id,
                grid_id=grid.id,
                household_id=home.id,
                field="infrastructure",
                description="楼道灯坏了",
                source="visit",
                status=status,
                handling_type="self",
                assignee_id=worker.id,
                time_limit=limit,
                deadline=deadline or TimeLimit.parse(limit).deadline(calendar, started),
                **kw,
            )
        )

    fresh = demand("7", now)
    late = demand("4h", now - timedelta(hours=5))
    soon = demand("3", now, deadline=calendar.add(now, 0.5))  # 2.5 of 3 working days used: 即将超期
    resolved = demand("3", now - timedelta(days=2), status="resolved", rating_token="tok-" + "a" * 24)
    for kind, title in (("demand_due_soon", "诉求快到期了"), ("demand_overdue", "诉求已超期")):
        make._save(
            Notice(user_id=worker.id, kind=kind, title=title, body="楼道灯坏了", link="/app/#/demands")
        )
    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    go_offline(phone, live_server)
    base = page.url.split("#")[0]
    page.goto(base + "#/demands")
    page.wait_for_selector(f"[data-demand='{fresh.id}'] [data-warning]")
    for row, level, tone in (
        (fresh, "ok", "badge"),
        (soon, "soon", "badge amber"),
        (late, "overdue", "badge red"),
    ):
        badge = page.locator(f"[data-demand='{row.id}'] [data-warning]")
        expected = left_text(demand_flow.time_left(row, calendar, datetime.now(UTC)))
        assert (badge.get_attribute("data-warning"), badge.inner_text()) == (level, expected)
        assert badge.get_attribute("class") == tone
    # The 工作台 holds both warned requests (and not the fresh one): the late one under 已超期.
    page.goto(base + "#/today")
    page.wait_for_selector("[data-task='demand_due']")
    held = {
        a.get_attribute("data-record"): a.evaluate("a => a.closest('[data-group]').dataset.group")
        for a in page.locator("[data-task='demand_due']").all()
    }
    assert held == {str(soon.id): "today", str(late.id): "overdue"}
    assert page.locator(f"[data-record='{late.id}'] .late").count() == 1
    warned = {
        str(row.id): (badge.get_attribute("data-warning"), badge.get_attribute("class"), badge.inner_text())
        for row in (soon, late)
        for badge in [page.locator(f"[data-record='{row.id}'] [data-warning]")]
    }
    assert warned == {
        str(soon.id): ("soon", "badge amber", "诉求：即将超期"),
        str(late.id): ("overdue", "badge red", "诉求：已超期"),
    }
    screenshot(page, "today-warned-requests-360")
    page.goto(base + "#/demands")
    page.wait_for_selector(f"[data-demand='{fresh.id}'] [data-warning]")
    assert page.locator(f"[data-demand='{late.id}'] [data-warning]").inner_text().startswith("超期 1")
    screenshot(page, "demands-time-left-360")
    # The 消息 screen colours the notices of a time limit the same way.
    page.goto(base + "#/inbox")
    page.wait_for_selector("[data-kind='demand_overdue'] [data-warning]")
    inbox = {
        kind: (badge.get_attribute("data-warning"), badge.get_attribute("class"), badge.inner_text())
        for kind in ("demand_due_soon", "demand_overdue")
        for badge in [page.locator(f"[data-kind='{kind}'] [data-warning]")]
    }
    assert inbox == {
        "demand_due_soon": ("soon", "badge amber", "即将超期"),
        "demand_overdue": ("overdue", "badge red", "已超期"),
    }
    screenshot(page, "inbox-warned-notices-360")
    page.goto(base + f"#/d/{resolved.id}")
    qr = page.wait_for_selector("[data-rating-qr] img")
    assert qr is not None and qr.get_attribute("src") == f"/demands/{resolved.id}/rating-qr.svg"


def test_the_handler_stops_and_starts_the_clock_on_the_phone_offline(
    phone: BrowserContext, live_server: LiveServer, make: Factory, db: Database
) -> None:
    """While a request waits for the resident, the worker stops its clock at the door, offline, with
    a reason; after the sync the server holds the stop (audited) and, on resume, the deadline moved."""
    grid = make.grid()
    worker = make.user("grid_worker", grids=[grid])
    home = make.household(grid)
    calendar = calendar_of({})
    started = datetime.now(UTC) - timedelta(hours=1)
    waiting = make._save(
        Demand(
            community_id=grid.community_id,
            grid_id=grid.id,
            household_id=home.id,
            field="infrastructure",
            description="水管漏水，等居民出差回来开门",
            source="visit",
            status="accepted",
            handling_type="self",
            assignee_id=worker.id,
            time_limit="3",
            deadline=TimeLimit.parse("3").deadline(calendar, started),
        )
    )
    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    base = page.url.split("#")[0]
    go_offline(phone, live_server)
    page.goto(base + f"#/d/{waiting.id}")
    page.wait_for_selector("form[data-form=suspend]")
    page.click("form[data-form=suspend] button[type=submit]")  # no reason: refused on the phone
    assert page.locator("form[data-form=suspend] textarea:invalid").count() == 1
    page.fill("form[data-form=suspend] textarea[name=note]", "居民出差，下周回来")
    page.click("form[data-form=suspend] button[type=submit]")
    page.wait_for_selector("[data-demand] [data-warning=suspended]")
    screenshot(page, "demand-suspended-offline-360")
    go_online(phone, live_server)
    wait_synced(page)
    with db.read() as s:
        stopped = s.get(Demand, waiting.id)
        assert stopped is not None and stopped.suspended_at is not None
        audited = s.exec(select(AuditLog).where(AuditLog.record_id == str(waiting.id))).all()
        assert "demand.suspend" in {a.action for a in audited}
        stop_deadline = stopped.deadline
    page.goto(base + f"#/d/{waiting.id}")
    page.wait_for_selector("form[data-form=resume]")
    page.fill("form[data-form=resume] textarea[name=note]", "居民回来了")
    page.click("form[data-form=resume] button[type=submit]")
    page.wait_for_selector("form[data-form=suspend]")  # the step is written: the clock runs again
    wait_synced(page)

    def resumed_on_server() -> Demand | None:
        with db.read() as s:
            row = s.get(Demand, waiting.id)
            return row if row is not None and row.suspended_at is None else None

    deadline = time.monotonic() + 15  # the status line can read 0 waiting before the step is queued
    while (resumed := resumed_on_server()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert resumed is not None
    with db.read() as s:
        kinds = [e.kind for e in s.exec(select(DemandEvent).where(DemandEvent.demand_id == waiting.id))]
    assert kinds[-2:] == ["suspended", "resumed"]
    assert resumed.deadline is not None and stop_deadline is not None and resumed.deadline >= stop_deadline
