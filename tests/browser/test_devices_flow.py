"""设备对账 in Chromium: the field app's report of itself reaches the server and shows on the
office page, and signing in on a new phone while the old one owes work warns the worker."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext
from sqlmodel import select

from server.db import Database
from server.models import SyncClient, User
from server.routes.field import version
from sync.client import Client
from tests.browser.conftest import PHONE, overflow, screenshot
from tests.browser.conftest import sign_in as office_sign_in
from tests.browser.field import sign_in, wait_synced
from tests.browser.test_field_app import record_visit
from tests.conftest import PASSWORD, Factory
from tests.live import LiveServer
from tests.test_sync_push import visit_args

pytestmark = pytest.mark.browser


def clients_of(db: Database, user: User) -> list[SyncClient]:
    with db.read() as s:
        return list(s.exec(select(SyncClient).where(SyncClient.user_id == user.id)))


def test_the_phone_reports_itself_and_the_office_sees_it_in_balance(
    phone: BrowserContext, desktop: BrowserContext, live_server: LiveServer, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    home = make.household(grid, estate="芙蓉花园")
    worker = make.user(grids=[grid])
    staff = make.user("community_staff")
    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    record_visit(page, home, "上门走访，一切正常")
    wait_synced(page)
    (row,) = clients_of(db, worker)
    report = row.device or {}
    assert report["app_version"] == version()
    assert (report["pending"], report["max_mutation_id"], report["rejected"]) == (0, 1, 0)
    # A sync run by the service worker cannot tell a tab from an installed app: left out.
    assert report["browser"] == "Chrome" and report.get("installed") in (False, None)
    assert report["storage_quota"] > 0 and isinstance(report["persisted"], bool)
    assert row.last_mutation_id == 1

    office = desktop.new_page()
    office_sign_in(office, live_server, staff.username, next="/devices")
    line = office.locator(f"#client-{row.client_id}")
    assert line.get_attribute("data-standing") == "in_balance"
    assert worker.display_name in line.inner_text() and "已对齐" in line.inner_text()
    assert "应用版本旧" not in line.inner_text()


def test_a_new_phone_is_warned_while_the_old_one_owes_work(
    phone: BrowserContext, browser: Browser, live_server: LiveServer, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    home = make.household(grid, estate="芙蓉花园")
    worker = make.user(grids=[grid])
    staff = make.user("community_staff")
    # The old phone pushed one visit and said three more were waiting on it, then was lost.
    with httpx.Client(base_url=live_server.url) as http:
        old = Client(http=http)
        old.login(worker.username, PASSWORD)
        for _ in range(4):
            old.queue("visit.record", visit_args(home))
        old.push(batch=1)
        old.pull()
    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    warning = page.wait_for_selector("[data-other-phones]")
    assert warning is not None
    assert "另一台手机上还有 3 条记录没有同步" in warning.inner_text()
    assert overflow(page) == 0
    screenshot(page, "devices-new-phone-warning")

    desk = browser.new_context(**PHONE)  # the office page on a phone's screen too
    office = desk.new_page()
    office_sign_in(office, live_server, staff.username, next="/devices")
    assert office.locator(f"[data-replaced='{old.client_id}']").count() == 1
    assert office.locator(f"#client-{old.client_id}").get_attribute("data-standing") == "owing"
    assert len(clients_of(db, worker)) == 2
    assert overflow(office) == 0
    screenshot(office, "devices-office-page")
    desk.close()
