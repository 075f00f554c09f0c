"""消息: a request dispatched while the worker's phone is offline, with no push subscription,
reaches them by sync: the badge, the notice that opens the request, and the receipts (issue 19)."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext
from sqlmodel import select

from server.commands import demands as dm
from server.db import Database
from server.models import Demand, Notice, PushSubscription
from tests.browser.conftest import screenshot
from tests.browser.conftest import sign_in as office_sign_in
from tests.browser.field import go_offline, go_online, open_today, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def the_notice(db: Database, demand: Demand) -> Notice:
    with db.read() as s:
        return s.exec(select(Notice).where(Notice.subject_id == demand.id)).one()


def test_a_dispatch_made_while_the_phone_is_offline_reaches_the_inbox_and_is_read(
    live_server: LiveServer, phone: BrowserContext, desktop: BrowserContext, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第三网格")
    home = make.household(grid, estate="尧坑安置点", building="5栋", unit="2单元", room="101室")
    worker = make.user("grid_worker", grids=[grid])
    staff = make.user("community_staff")
    demand = Demand(
        community_id=grid.community_id,
        grid_id=None,
        household_id=home.id,
        field="infrastructure",
        description="楼道路灯坏了，晚上出门摸黑",
        source="phone",
        status="submitted",
    )
    with db.write() as s:
        s.add(demand)

    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    base = page.url.split("#")[0]
    assert page.locator("#tabbar a[href='#/inbox'] .count").count() == 0
    go_offline(phone)

    office = desktop.new_page()
    office_sign_in(office, live_server, staff.username, next=f"/demands/{demand.id}")
    office.select_option("details.step-dispatch select[name=grid_id]", str(grid.id))
    office.click("details.step-dispatch button[type=submit]")
    office.wait_for_load_state()
    notice = the_notice(db, demand)
    assert (notice.user_id, notice.delivered_at, notice.read_at) == (worker.id, None, None)
    row = office.locator(f"#receipts li[data-person='{worker.display_name}']")
    assert (row.get_attribute("data-delivered"), row.get_attribute("data-read")) == ("no", "no")
    with db.read() as s:
        assert s.exec(select(PushSubscription).where(PushSubscription.user_id == worker.id)).all() == []

    go_online(phone)
    page.click("#syncstate")
    wait_synced(page)
    page.wait_for_function(
        "() => document.querySelector(\"#tabbar a[href='#/inbox'] .count\")?.textContent === '1'"
    )
    open_today(page)
    assert "1 条未读消息" in (page.text_content("#today-inbox") or "")
    screenshot(page, "inbox-01-today-badge")
    delivered = the_notice(db, demand)
    assert delivered.delivered_at is not None and delivered.read_at is None
    office.goto(f"{live_server.url}/demands/{demand.id}")
    row = office.locator(f"#receipts li[data-person='{worker.display_name}']")
    assert (row.get_attribute("data-delivered"), row.get_attribute("data-read")) == ("yes", "no")

    page.click("#tabbar a[href='#/inbox']")
    page.wait_for_selector("#view[data-screen=inbox] #inbox[data-unread='1']")
    assert "新诉求派到您的网格" in (page.text_content("#inbox") or "")
    screenshot(page, "inbox-02-unread")
    go_offline(phone)
    page.click(f"[data-notice='{notice.id}']")
    page.wait_for_selector(f"#view[data-screen=demand] [data-demand='{demand.id}']")
    assert page.url == base + f"#/d/{demand.id}"
    assert page.locator("#tabbar a[href='#/inbox'] .count").count() == 0  # read on the phone, offline
    assert the_notice(db, demand).read_at is None  # … the server hears of it at the next sync
    go_online(phone)
    page.click("#syncstate")
    wait_synced(page)
    read = the_notice(db, demand)
    assert read.read_at is not None and read.delivered_at == delivered.delivered_at
    office.reload()
    row = office.locator(f"#receipts li[data-person='{worker.display_name}']")
    assert (row.get_attribute("data-delivered"), row.get_attribute("data-read")) == ("yes", "yes")
    assert "已读" in (row.text_content() or "") and "站内消息" in (row.text_content() or "")
    office.set_viewport_size({"width": 360, "height": 740})
    office.locator("#receipts").scroll_into_view_if_needed()
    screenshot(office, "inbox-05-office-receipts")
    page.goto(base + "#/inbox")
    page.wait_for_selector("#view[data-screen=inbox] #inbox[data-unread='0']")
    screenshot(page, "inbox-03-read")


def test_several_waiting_notices_are_summed_up_by_kind(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第三网格")
    worker = make.user("grid_worker", grids=[grid])
    staff = make.actor(make.user("community_staff"))
    for n in range(2):
        demand = Demand(
            community_id=grid.community_id,
            household_id=make.household(grid).id,
            field="environment",
            description=f"垃圾没人清运{n}",
            source="phone",
            status="submitted",
        )
        with db.write() as s:
            s.add(demand)
        with db.write() as s:
            dm.dispatch_demand(
                s,
                actor=staff,
                data={"demand_id": str(demand.id), "grid_id": str(grid.id), "handling_type": "self"},
            )
            if n == 1:
                dm.urge_demand(s, actor=staff, data={"demand_id": str(demand.id), "note": "请今天处理"})

    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    page.click("#tabbar a[href='#/inbox']")
    page.wait_for_selector("#view[data-screen=inbox] #inbox[data-unread='3']")
    assert page.text_content("#tabbar a[href='#/inbox'] .count") == "3"
    summary = page.text_content("#inbox-summary") or ""
    assert (
        "3 条未读消息" in summary
        and "新诉求派到您的网格（2条）" in summary
        and "社区督办了一条诉求" in summary
    )
    assert page.locator("section[data-kind=demand_dispatched] li").count() == 2
    assert "（2）" in (page.text_content("section[data-kind=demand_dispatched] h2") or "")
    screenshot(page, "inbox-04-summary")
