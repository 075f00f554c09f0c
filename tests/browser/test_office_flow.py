"""The office pages in real Chromium, on a 360×740 phone and on a desktop."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import Session, select

from server.db import Database
from server.models import AuditLog, Household, Resident, User, Visit
from server.people import idnumber
from server.web.pages import STATIC
from tests.browser.conftest import LiveServer, overflow, screenshot, sign_in, watch_console
from tests.conftest import Factory

pytestmark = pytest.mark.browser

ID_NUMBER = idnumber.make("360121", date(1948, 3, 9), 124)
# base.html links an icon that is not in the repository yet; strict again once it is.
ICON = "/static/icons/icon-192.png"
NOT_YET_THERE = () if (STATIC / ICON.removeprefix("/static/")).exists() else (ICON,)


@dataclass
class Street:
    worker: User
    target: Household


@pytest.fixture
def street(make: Factory) -> Street:
    grid = make.grid(name="幸福网格")
    lonely = make.tag("lonely_elder", name="独居老人")
    target = make.household(
        grid, estate="桂花苑", building="3栋", unit="2单元", room="501室", phone="13812345678"
    )
    make.resident(
        target, name="陈秀兰", relation="head", id_number=ID_NUMBER, phone="13900001111", tags=[lonely.code]
    )
    make.resident(target, name="陈小明", relation="grandchild", born=date(2012, 5, 1))
    for n in range(5):
        neighbour = make.household(grid, estate="幸福小区", building=f"{n + 1}栋", phone=f"1370000{n:04d}")
        make.resident(neighbour, name=f"邻居{n}", relation="head")
    return Street(worker=make.user("grid_worker", grids=[grid]), target=target)


def search(page: Page, text: str) -> None:
    """Type into the search box and wait for htmx to swap in the results (no page load)."""
    page.evaluate("() => { window.stillSamePage = true }")
    page.get_by_role("searchbox").fill(text)
    page.wait_for_url(re.compile(r"/households\?q="))
    expect(page.locator("#results .count")).not_to_contain_text("共 6 户")
    assert page.evaluate("() => window.stillSamePage === true"), "the search reloaded the whole page"


def test_a_worker_finds_a_household_and_records_a_visit_on_a_phone(
    live_server: LiveServer, phone: BrowserContext, db: Database, street: Street
) -> None:
    page = phone.new_page()
    problems = watch_console(page, ignore=NOT_YET_THERE)
    sign_in(page, live_server, street.worker.username, next="/households")
    expect(page).to_have_url(f"{live_server.url}/households")
    expect(page.locator("#results .count")).to_have_text("共 6 户")

    search(page, "桂花")
    rows = page.locator("#results ul.households > li")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("陈秀兰")
    expect(rows.first).to_contain_text("138****5678")
    expect(rows.first).to_contain_text("独居老人")
    assert overflow(page) == 0
    screenshot(page, "phone-households-list")

    rows.first.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/households/{street.target.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("桂花苑 3栋 2单元 501室")
    expect(page.locator("#visits")).to_contain_text("还没有走访记录。")
    assert ID_NUMBER not in page.content()
    assert overflow(page) == 0
    screenshot(page, "phone-household-detail")

    page.get_by_role("link", name="记录走访").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("记录走访")
    page.get_by_label("关爱重点人群").check()
    page.get_by_label("无人在家").check()
    page.get_by_label("备注").fill("门上贴了联系卡，明天再来")
    assert overflow(page) == 0
    screenshot(page, "phone-visit-form")
    page.get_by_role("button", name="保存走访").click()

    expect(page).to_have_url(re.compile(rf"/households/{street.target.id}\?saved=visit"))
    expect(page.get_by_role("status")).to_have_text("走访已记录。")
    history = page.locator("#visits .timeline > li")
    expect(history).to_have_count(1)
    for text in ("关爱重点人群", "无人在家", "门上贴了联系卡，明天再来", street.worker.display_name):
        expect(history.first).to_contain_text(text)
    assert overflow(page) == 0
    screenshot(page, "phone-household-after-visit")
    assert problems == []

    with Session(db.engine) as session:
        visits = session.exec(select(Visit)).all()
    assert len(visits) == 1
    visit = visits[0]
    assert (visit.household_id, visit.grid_id) == (street.target.id, street.target.grid_id)
    assert visit.worker_id == street.worker.id
    assert (visit.purpose, visit.outcome, visit.notes) == ("care", "nobody_home", "门上贴了联系卡，明天再来")


def test_revealing_a_residents_numbers_swaps_them_in_and_is_logged(
    live_server: LiveServer, phone: BrowserContext, db: Database, street: Street
) -> None:
    page = phone.new_page()
    problems = watch_console(page, ignore=NOT_YET_THERE)
    sign_in(page, live_server, street.worker.username, next="/households")
    page.goto(f"{live_server.url}/households/{street.target.id}")
    card = page.locator("li.resident", has_text="陈秀兰")
    expect(card).to_contain_text(idnumber.mask(ID_NUMBER))
    page.evaluate("() => { window.stillSamePage = true }")

    card.get_by_role("button", name="显示完整号码").click()

    expect(card).to_contain_text(ID_NUMBER)
    expect(card).to_contain_text("13900001111")
    assert page.evaluate("() => window.stillSamePage === true")
    assert overflow(page) == 0
    screenshot(page, "phone-resident-revealed")
    assert problems == []
    with Session(db.engine) as session:
        logged = session.exec(select(AuditLog).where(AuditLog.action == "reveal_id_number")).all()
    assert [(row.record_type, row.actor_id) for row in logged] == [("resident", street.worker.id)]


def test_the_pages_lay_out_on_a_desktop(
    live_server: LiveServer, desktop: BrowserContext, make: Factory, street: Street
) -> None:
    staff = make.user("community_staff")
    page = desktop.new_page()
    problems = watch_console(page, ignore=NOT_YET_THERE)
    sign_in(page, live_server, staff.username, next="/households")
    page.goto(f"{live_server.url}/households")
    expect(page.locator("#results ul.households > li")).to_have_count(6)
    assert overflow(page) == 0
    screenshot(page, "desktop-households-list")
    page.goto(f"{live_server.url}/households/{street.target.id}")
    assert overflow(page) == 0
    screenshot(page, "desktop-household-detail")
    page.goto(f"{live_server.url}/households/{street.target.id}/edit")
    expect(page.get_by_label("网格")).to_be_visible()  # staff may move a household
    screenshot(page, "desktop-household-form")
    assert problems == []


def test_a_wrong_id_number_is_explained_next_to_the_field_and_nothing_is_stored(
    live_server: LiveServer, phone: BrowserContext, db: Database, street: Street
) -> None:
    page = phone.new_page()
    # The refused form itself answers 400; Chromium logs that as an error.
    problems = watch_console(page, ignore=(*NOT_YET_THERE, "status of 400"))
    sign_in(page, live_server, street.worker.username, next="/households")
    page.goto(f"{live_server.url}/households/{street.target.id}/residents/new")
    page.get_by_label("姓名").fill("陈大勇")
    page.get_by_label("与户主关系").select_option(label="子女")
    page.get_by_label("身份证号").fill(ID_NUMBER[:-1] + ("1" if ID_NUMBER[-1] != "1" else "2"))
    page.get_by_label("电话").fill("1380013800")
    page.get_by_label("独居老人").check()
    page.get_by_role("button", name="保存").click()

    expect(page.locator("#id_number-error")).to_have_text("身份证号校验位不对，请核对后重新输入。")
    expect(page.get_by_label("姓名")).to_have_value("陈大勇")
    expect(page.get_by_label("与户主关系")).to_have_value("child")
    expect(page.get_by_label("独居老人")).to_be_checked()
    assert overflow(page) == 0
    screenshot(page, "phone-resident-form-refused")
    assert problems == []
    with Session(db.engine) as session:
        assert session.exec(select(Resident).where(Resident.name == "陈大勇")).first() is None


def test_the_harness_restarts_the_server_and_reopens_a_persistent_phone(
    live_server: LiveServer, phone_profile: Callable[..., BrowserContext], street: Street
) -> None:
    context = phone_profile()
    page = context.pages[0] if context.pages else context.new_page()
    sign_in(page, live_server, street.worker.username, next="/households")
    old_pid = live_server.process.pid if live_server.process else None

    live_server.restart()  # SIGKILL, then start again on the same port and database
    context.close()
    context = phone_profile()  # the same profile: the session cookie is still there
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server.url}/households")

    assert live_server.process is not None and live_server.process.pid != old_pid
    expect(page).to_have_url(f"{live_server.url}/households")
    expect(page.locator("#results .count")).to_have_text("共 6 户")
    assert page.viewport_size == {"width": 360, "height": 740}
