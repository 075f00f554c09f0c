"""A household moves to another grid while the old worker's phone holds a visit of it, offline:
the old phone is told "已转交给 X 处理" (not an error), and the new grid's worker, on their phone's
browser, applies it on /handovers — the visit lands once, still the old worker's (issue 22)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from sqlmodel import select

from server.commands.households import move_household
from server.db import Database
from server.models import Household, Visit
from tests.browser.conftest import PHONE, overflow, screenshot
from tests.browser.field import go_offline, go_online, sign_in
from tests.browser.test_field_app import record_visit
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_a_visit_of_a_household_moved_away_is_handed_over_to_the_new_grid(
    phone: BrowserContext, browser: Browser, live_server: LiveServer, make: Factory, db: Database
) -> None:
    community = make.community()
    east, west = make.grid(community, name="芙蓉第一网格"), make.grid(community, name="芙蓉第二网格")
    home = make.household(east, estate="芙蓉花园", building="5栋", unit="2单元", room="1002室")
    old, new = make.user(grids=[east]), make.user(grids=[west])
    staff = make.actor(make.user("community_staff", community=community))

    page = phone.new_page()
    sign_in(page, live_server, old.username)
    go_offline(phone, live_server)
    record_visit(page, home, "离线时上门，老人身体不错")
    with db.write() as s:
        row = s.get(Household, home.id)
        assert row is not None
        move_household(s, actor=staff, household=row, grid_id=west.id)
    go_online(phone, live_server)
    page.click("#syncstate")
    page.wait_for_function(
        "() => document.getElementById('syncstate').dataset.pending === '0'", timeout=15_000
    )
    page.goto(page.url.split("#")[0] + "#/outbox")
    handed = page.wait_for_selector("#handed-over [data-handed-to]")
    assert handed is not None
    assert handed.inner_text() == f"已转交给 芙蓉第二网格网格员{new.display_name} 处理。"
    assert page.get_attribute("#syncstate", "data-rejected") == "0"  # not an error
    assert page.locator("#rejected li").count() == 0
    assert overflow(page) == 0
    screenshot(page, "handover-old-phone")

    other = browser.new_context(**PHONE)
    desk = other.new_page()
    sign_in(desk, live_server, new.username)  # the new worker's field app: told in 消息
    desk.click("#tabbar a[href='#/inbox']")
    told = desk.locator("#inbox a[data-action=open-notice]", has_text="有一条修改转交给您处理")
    expect(told).to_have_count(1)  # the inbox paints after the tap; count() alone does not wait
    assert old.display_name in told.inner_text()
    told.click()  # opens the office page on the phone's browser, signed in by the app's session
    desk.wait_for_url("**/handovers")
    card = desk.locator("[data-handover]")
    assert card.count() == 1
    assert old.display_name in card.inner_text() and "离线时上门，老人身体不错" in card.inner_text()
    assert overflow(desk) == 0
    screenshot(desk, "handover-new-holder")
    card.get_by_role("button", name="采用", exact=True).click()
    desk.wait_for_selector("p.notice[role=status]")
    assert desk.locator("[data-handover]").count() == 0
    other.close()
    with db.read() as s:
        visits = list(s.exec(select(Visit).where(Visit.household_id == home.id)))
    assert [(v.notes, v.worker_id, v.grid_id) for v in visits] == [
        ("离线时上门，老人身体不错", old.id, west.id)
    ]
