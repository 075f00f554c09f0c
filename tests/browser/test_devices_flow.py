"""设备对账 in Chromium: the field app's report of itself reaches the server and shows on the
office page, and signing in on a new phone while the old one owes work warns the worker."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlmodel import select

from server.db import Database
from server.models import Blob, Household, SyncClient, User, Visit
from server.routes.field import version
from sync.client import Client
from tests.browser.conftest import PHONE, overflow, screenshot
from tests.browser.conftest import sign_in as office_sign_in
from tests.browser.field import camera_photo, go_offline, sign_in, wait_synced
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


META = """async (userId) => {
  const db = await new Promise((ok, fail) => { const r = indexedDB.open('doorstep-' + userId); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const value = await new Promise((ok) => { const r = db.transaction('meta').objectStore('meta').get('rescue_key'); r.onsuccess = () => ok(r.result); r.onerror = () => ok(null); });
  db.close();
  return Boolean(value);
}"""


def test_a_rescue_file_exported_in_chromium_is_imported_once_and_then_replayed(
    browser: Browser,
    desktop: BrowserContext,
    live_server: LiveServer,
    make: Factory,
    db: Database,
    tmp_path: Path,
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    home = make.household(grid, estate="芙蓉花园")
    worker = make.user(grids=[grid])
    staff = make.user("community_staff")
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    page.wait_for_function(META, arg=str(worker.id), timeout=15_000)

    # Offline for good: two visits, one with a photo, never leave the phone.
    go_offline(phone, live_server)
    record_visit(page, home, "救援一")
    record_photo_visit(page, home, "救援二")
    page.goto(page.url.split("#")[0] + "#/me")
    with page.expect_download() as download:
        page.click("[data-action=export-rescue]")
    saved = tmp_path / "rescue.json"
    download.value.save_as(saved)
    assert "已导出救援文件：2 条记录，1 张照片" in (page.text_content("#notice") or "")
    screenshot(page, "rescue-export")
    phone.close()  # the phone is lost; only the file is left
    live_server.start()

    office = desktop.new_page()
    office_sign_in(office, live_server, staff.username, next="/devices/rescue")
    office.set_input_files("input[name=file]", str(saved))
    office.click("form[action='/devices/rescue'] button[type=submit]")
    office.wait_for_selector("#rescue-report")
    assert office.text_content("#count-applied") == "2"
    assert office.text_content("#count-replayed") == "0"
    with db.read() as s:
        notes = sorted(v.notes for v in s.exec(select(Visit).where(Visit.household_id == home.id)))
        assert notes == ["救援一", "救援二"]
        assert len(list(s.exec(select(Blob)))) == 1

    office.goto(live_server.url + "/devices/rescue")
    office.set_input_files("input[name=file]", str(saved))
    office.click("form[action='/devices/rescue'] button[type=submit]")
    office.wait_for_selector("#rescue-report")
    assert (office.text_content("#count-applied"), office.text_content("#count-replayed")) == ("0", "2")
    with db.read() as s:
        assert len(list(s.exec(select(Visit).where(Visit.household_id == home.id)))) == 2


def record_photo_visit(page: Page, home: Household, notes: str) -> None:
    page.goto(page.url.split("#")[0] + f"#/h/{home.id}/visit")
    page.fill("textarea[name=notes]", notes)
    page.set_input_files("input[data-photo=visit-photos]", camera_photo(640))  # type: ignore[arg-type]
    page.wait_for_selector("#visit-photos input[type=hidden]", state="attached")
    page.click("form[data-form=visit] button[type=submit]")
    page.wait_for_selector(f"[data-household='{home.id}'] h1")
