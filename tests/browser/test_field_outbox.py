"""The outbox in words, refusals with their true reason, conflicts counted and masked, and
offline work dated when the worker did it (issue 16, points 6, 7, 12 and the status line)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page

from server.clock import LOCAL_TZ
from server.commands import demands as dm
from server.commands.households import update_household
from server.db import Database
from server.models import Household, Resident, User
from tests.browser.conftest import screenshot
from tests.browser.conftest import sign_in as office_sign_in
from tests.browser.field import go_offline, go_online, pending, sign_in, wait_synced
from tests.browser.test_field_app import start_card
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser

ENGLISH_KEYS = ("phone", "delivery", "checklist", "photo", "notes", "set.", "resident.create", "visit.record")


@dataclass
class Street:
    worker: User
    staff: User
    home: Household  # 芙蓉花园5栋2单元1002室
    elder: Resident  # 76, in `home`


@pytest.fixture
def street(make: Factory) -> Street:
    grid = make.grid(name="芙蓉第一网格")
    home = make.household(
        grid, estate="芙蓉花园", building="5栋", unit="2单元", room="1002室", phone="13800001234"
    )
    make.resident(home, name="李建国", relation="head", born=date(1980, 5, 1))
    elder = make.resident(home, name="陈秀兰", relation="parent", born=date(1950, 6, 1))
    for _ in range(3):
        make.household(grid, estate="芙蓉花园", building="6栋")
    return Street(make.user("grid_worker", grids=[grid]), make.user("community_staff"), home, elder)


def at(page: Page, hash: str) -> None:
    page.goto(page.url.split("#")[0] + hash)


def status_line(page: Page) -> str:
    return (page.text_content("#syncstate") or "").strip()


def one_line(page: Page) -> bool:
    """The status line fits on one line at 360 px, nothing cut off."""
    return bool(
        page.evaluate(
            "() => { const el = document.getElementById('syncstate');"
            " const lh = parseFloat(getComputedStyle(el).lineHeight) || 16;"
            " return el.scrollWidth <= el.clientWidth && el.getBoundingClientRect().height < 2 * lh + 12; }"
        )
    )


def test_the_outbox_says_what_and_for_whom_in_chinese_and_taps_through_to_the_record(
    live_server: LiveServer, phone: BrowserContext, street: Street
) -> None:
    page = phone.new_page()
    sign_in(page, live_server, street.worker.username)
    assert "已全部同步" in status_line(page) and "从未" not in status_line(page)
    go_offline(phone, live_server)

    at(page, f"#/h/{street.home.id}/resident")
    page.fill("input[name=name]", "张三")
    page.click("form[data-form=resident] button[type=submit]")
    page.wait_for_selector(f"[data-household='{street.home.id}'] h1")
    at(page, f"#/h/{street.home.id}/edit")
    page.fill("input[name=phone]", "13912345678")
    page.click("form[data-form=household] button[type=submit]")
    page.wait_for_selector(f"[data-household='{street.home.id}'] h1")
    start_card(page, street.elder)
    page.wait_for_function("() => document.getElementById('syncstate').dataset.pending !== '0'")

    line = status_line(page)
    assert line.startswith("离线 · ") and "条待同步" in line and "已全部同步" not in line
    assert one_line(page), line

    at(page, "#/outbox")
    page.wait_for_selector("#pending li")
    entries = [t.strip() for t in page.locator("#pending [data-subject]").all_text_contents()]
    address = "芙蓉花园 5栋 2单元 1002室"
    assert entries == [
        f"添加居民 · 张三 · {address}",
        f"修改户信息 · {address}",
        f"出行卡申请 · 陈秀兰 · {address}",
    ]
    listed = page.text_content("#pending") or ""
    assert "电话" in listed  # what the update changed, in words
    assert not [key for key in ENGLISH_KEYS if key in listed], listed
    assert "13912345678" not in listed
    badge = page.text_content("#tabbar a[href='#/outbox'] .count")
    assert badge is not None and int(badge) == pending(page)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "outbox-01-offline-in-words")

    page.locator("#pending [data-subject]").first.click()
    page.wait_for_selector(f"[data-household='{street.home.id}'] h1")
    assert page.url.endswith(f"#/h/{street.home.id}")
    assert "张三" in (page.text_content("#view") or "")


def test_a_refusal_gives_its_true_reason_and_got_it_keeps_it_on_the_phone(
    live_server: LiveServer, phone: BrowserContext, street: Street, make: Factory, db: Database
) -> None:
    staff = make.actor(street.staff)
    department = make.department(name="县住建局")
    demand_id = uuid.uuid4()
    with db.write() as s:
        dm.create_demand(
            s,
            actor=staff,
            data={
                "demand_id": str(demand_id),
                "household_id": str(street.home.id),
                "field": "infrastructure",
                "description": "楼道灯不亮",
                "source": "hotline",
                "contact_name": "李建国",
            },
        )
    with db.write() as s:
        dispatch = {"demand_id": str(demand_id), "grid_id": str(street.home.grid_id), "handling_type": "self"}
        dm.dispatch_demand(s, actor=staff, data=dispatch)
    page = phone.new_page()
    sign_in(page, live_server, street.worker.username)
    go_offline(phone, live_server)
    at(page, f"#/d/{demand_id}")
    page.click("[data-action=accept]")
    page.wait_for_selector("[data-sync=pending]")
    with db.write() as s:
        transfer = {"demand_id": str(demand_id), "department_id": str(department.id), "note": "超出社区权限"}
        dm.transfer_demand(s, actor=staff, data=transfer)

    go_online(phone, live_server)
    page.click("#syncstate")
    page.wait_for_function(
        "() => document.getElementById('syncstate').dataset.rejected === '1'", timeout=15_000
    )
    assert "1 条被退回" in status_line(page) and "已全部同步" not in status_line(page)
    at(page, "#/outbox")
    refused = page.wait_for_selector("#rejected li[data-code=invalid_transition]")
    assert refused is not None
    reason = page.text_content("#rejected [data-reason]") or ""
    assert "已转交县住建局办理" in reason and "已被接单，或没有派到您的网格" not in reason
    subject = page.text_content("#rejected [data-subject]") or ""
    assert subject.strip() == "接单 · 李建国 · 芙蓉花园 5栋 2单元 1002室"
    screenshot(page, "outbox-02-refused-true-reason")

    page.click("#rejected [data-action=dismiss]")
    page.wait_for_function("() => document.getElementById('syncstate').dataset.rejected === '0'")
    # The status line counts at once; the list and the tab are painted by the repaint after it.
    page.wait_for_function("() => document.querySelectorAll('#rejected li').length === 0")
    page.wait_for_function("() => !document.querySelector(\"#tabbar a[href='#/outbox'] .count\")")
    page.reload()
    page.wait_for_selector("body[data-ready]")
    at(page, "#/outbox")
    page.wait_for_selector("#dismissed-section")
    page.click("#dismissed-section summary")
    kept = page.locator("#dismissed li[data-status=dismissed]")
    assert kept.count() == 1 and "已转交县住建局办理" in (kept.text_content() or "")
    assert "已全部同步" in status_line(page)
    screenshot(page, "outbox-03-refusal-seen")


def test_conflicts_count_in_the_status_line_and_badge_and_show_no_full_number(
    live_server: LiveServer,
    phone: BrowserContext,
    desktop: BrowserContext,
    street: Street,
    make: Factory,
    db: Database,
) -> None:
    page = phone.new_page()
    sign_in(page, live_server, street.worker.username)
    go_offline(phone, live_server)
    at(page, f"#/h/{street.home.id}/edit")
    page.fill("input[name=phone]", "13912345678")
    page.click("form[data-form=household] button[type=submit]")
    page.wait_for_selector(f"[data-household='{street.home.id}'] h1")
    with db.write() as s:
        update_household(
            s,
            actor=make.actor(street.staff),
            data={
                "household_id": str(street.home.id),
                "base_version": street.home.version,
                "set": {"phone": "13700005678"},
            },
        )
    go_online(phone, live_server)
    page.click("#syncstate")
    page.wait_for_function(
        "() => document.getElementById('syncstate').dataset.conflicts === '1'", timeout=15_000
    )
    wait_synced(page)
    line = status_line(page)
    assert "1 处冲突" in line and "已全部同步" not in line, line
    assert one_line(page), line
    assert page.text_content("#tabbar a[href='#/outbox'] .count") == "1"
    at(page, "#/outbox")
    card = page.wait_for_selector("#conflicts li[data-conflict]")
    assert card is not None
    assert page.text_content("#conflicts [data-value=server]") == "137****5678"
    assert page.text_content("#conflicts [data-value=client]") == "139****5678"
    text = page.text_content("#view") or ""
    assert "13700005678" not in text and "13912345678" not in text
    screenshot(page, "outbox-04-conflict-masked")

    office = desktop.new_page()
    office.set_viewport_size({"width": 360, "height": 740})
    office_sign_in(office, live_server, street.staff.username, next="/conflicts")
    office.wait_for_selector(".conflicts li")
    assert "13912345678" not in (office.text_content("main") or "")
    assert office.text_content(".client-value") == "139****5678"
    screenshot(office, "outbox-05-office-conflict-masked")
    office.click("text=显示完整号码")
    office.wait_for_selector(".client-value")
    assert office.text_content(".client-value") == "13912345678"
    screenshot(office, "outbox-06-office-conflict-revealed")

    page.click("#conflicts [data-choice=client]")
    page.wait_for_function(
        "() => document.getElementById('syncstate').dataset.conflicts === '0'", timeout=15_000
    )


def nine_in_the_morning() -> datetime:
    """9:00 in Shanghai on the latest day it is already past (the server clamps the future)."""
    now = datetime.now(LOCAL_TZ)
    nine = now.replace(hour=9, minute=0, second=0, microsecond=0)
    return nine if nine < now - timedelta(minutes=10) else nine - timedelta(days=1)


def test_work_done_offline_at_nine_shows_nine_on_the_phone_and_in_the_office(
    live_server: LiveServer, phone: BrowserContext, desktop: BrowserContext, street: Street
) -> None:
    nine = nine_in_the_morning()
    page = phone.new_page()
    sign_in(page, live_server, street.worker.username)
    go_offline(phone, live_server)
    page.clock.install(time=nine)  # the worker's morning at the door; it syncs hours later
    page.reload()
    page.wait_for_selector("body[data-ready]")
    start_card(page, street.elder)
    page.click("[data-action=submit-card]")
    page.wait_for_selector("section[data-card][data-status=submitted]")
    card_id = (page.get_attribute("section[data-card]", "data-card") or "").strip()

    go_online(phone, live_server)
    page.click("#syncstate")
    wait_synced(page)
    at(page, f"#/card/{card_id}")
    # The repaint after the sync follows the status line: wait for the server's history.
    page.wait_for_function(
        "() => { const t = document.querySelector('.timeline'); return t && t.children.length && !t.textContent.includes('待同步'); }"
    )
    timeline = page.text_content(".timeline") or ""
    day = nine.strftime("%Y-%m-%d")
    assert f"{day} 09:0" in timeline, timeline
    assert "待同步" not in timeline  # the server's own history, not the phone's guess
    screenshot(page, "outbox-07-card-at-nine")

    office = desktop.new_page()
    office_sign_in(office, live_server, street.staff.username, next=f"/travel-cards/{card_id}")
    office.wait_for_selector("main")
    assert f"提交于 {day} 09:0" in (office.text_content("main") or "")
