"""The travel card office pages in real Chromium: review queue, application, print; phone and desktop."""

from __future__ import annotations

import hashlib
import struct
import uuid
import zlib
from dataclasses import dataclass
from datetime import date

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from server import blobs
from server.commands import travel_cards as tc
from server.db import Database
from server.models import Household, TravelCard, User
from server.web.pages import STATIC
from tests.browser.conftest import LiveServer, overflow, screenshot, sign_in, watch_console
from tests.conftest import Factory
from tests.test_travel_cards import events, put_card, reload

pytestmark = pytest.mark.browser

ICON = "/static/icons/icon-192.png"
NOT_YET_THERE = () if (STATIC / ICON.removeprefix("/static/")).exists() else (ICON,)


def portrait_png(width: int = 120, height: int = 160) -> bytes:
    """A small passport-style picture (a face-coloured oval on blue), made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            head = ((x - width / 2) / (width * 0.3)) ** 2 + ((y - height * 0.42) / (height * 0.3)) ** 2 <= 1
            body = y > height * 0.75 and abs(x - width / 2) < width * 0.42
            rows += bytes((236, 196, 160) if head else (60, 70, 90) if body else (170, 200, 235))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


@dataclass
class Desk:
    staff: User
    household: Household
    first: TravelCard  # submitted longest ago
    second: TravelCard


@pytest.fixture
def desk(make: Factory, db: Database) -> Desk:
    grid = make.grid(name="芙蓉一网格")
    household = make.household(grid, estate="芙蓉小区", building="7栋", unit="1单元", room="302室")
    staff = make.user("community_staff")
    photo = portrait_png()
    sha = hashlib.sha256(photo).hexdigest()
    worker = make.actor(make.user("grid_worker", grids=[grid]))
    with db.write() as session:  # the phone uploads the photo it took
        blobs.store(session, sha256=sha, data=photo, actor=worker)
    door = {"id_seen": True, "photo_taken": True, "consent": True}
    applicants = (
        (make.resident(household, name="陈秀兰", born=date(1948, 3, 9)), "hukou", "door", sha),
        (make.resident(household, name="黄德福", born=date(1956, 11, 20)), "permit", "collect", None),
    )
    cards = []
    for resident, residence, delivery, photo_sha in applicants:  # at the door, through the commands
        data = {
            "application_id": str(uuid.uuid4()),
            "resident_id": str(resident.id),
            "delivery": delivery,
            "residence": residence,
            "checklist": door,
            "photo": photo_sha or sha,
        }
        if resident.name == "陈秀兰":
            data["proxy"] = {"name": "陈建华", "relation": "儿子", "phone": "13800138000"}
        with db.write() as session:
            card = tc.create_application(session, actor=worker, data=data)
            tc.submit_application(session, actor=worker, data={"application_id": data["application_id"]})
            if photo_sha is None:
                card.photo = None  # a photo the phone has not uploaded: the queue must say so
        cards.append(card)
    first, second = cards
    return Desk(staff=staff, household=household, first=first, second=second)


def review_and_look(page: Page, server: LiveServer, desk: Desk, name: str) -> None:
    page.goto(f"{server.url}/travel-cards/queue")
    items = page.locator(".tc-review")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("陈秀兰")  # waiting longest
    expect(items.first.locator("img.tc-photo")).to_have_js_property("naturalWidth", 120)
    expect(items.nth(1)).to_contain_text("还没有照片")
    assert overflow(page) == 0
    screenshot(page, f"{name}-travel-card-queue")

    page.get_by_role("link", name="陈秀兰").click()
    expect(page.locator("h1")).to_have_text("陈秀兰")
    expect(page.locator(".tc-history")).to_contain_text("待审核")
    assert overflow(page) == 0
    screenshot(page, f"{name}-travel-card-application")


def test_staff_review_on_a_phone(
    live_server: LiveServer, phone: BrowserContext, db: Database, desk: Desk, make: Factory
) -> None:
    page = phone.new_page()
    problems = watch_console(page, ignore=(*NOT_YET_THERE, "status of 400"))  # the refused decision
    sign_in(page, live_server, desk.staff.username, next="/travel-cards/queue")
    review_and_look(page, live_server, desk, "phone")

    # Send the second one back, from the queue, with what to supplement.
    page.goto(f"{live_server.url}/travel-cards/queue")
    second = page.locator(".tc-review").nth(1)
    second.get_by_role("radio", name="退回补充材料").check()
    second.get_by_label("原因或要补充的材料").fill("请补拍一张正面免冠照片")
    second.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".notice")).to_contain_text("退回补充材料")
    expect(page.locator(".tc-review")).to_have_count(1)
    card = reload(db, desk.second.id)
    assert (card.status, card.reason) == ("needs_supplement", "请补拍一张正面免冠照片")
    assert [e.kind for e in events(db, card.id)] == ["created", "submit", "needs_supplement"]

    # Refused without a reason: the page says why, nothing changes.
    page.locator(".tc-review").first.get_by_role("radio", name="不予通过").check()
    page.locator(".tc-review").first.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".error")).to_have_text("不予通过时必须写明原因。")
    assert reload(db, desk.first.id).status == "submitted"
    assert overflow(page) == 0
    screenshot(page, "phone-travel-card-refused-decision")

    # The other screens fit a phone too.
    put_card(
        db, make.resident(desk.household, name="周桂芳", born=date(1944, 2, 29)), "ready", delivery="door"
    )
    put_card(db, make.resident(desk.household, name="吴长生", born=date(1950, 8, 8)), "issued")
    fresh = make.resident(desk.household, name="郑玉珍", born=date(1952, 12, 1))
    for path, name in (
        ("/travel-cards", "list"),
        (f"/travel-cards/new?resident={fresh.id}", "form"),
        ("/travel-cards/delivery", "delivery"),
        ("/travel-cards/reviews", "reviews"),
    ):
        page.goto(f"{live_server.url}{path}")
        assert overflow(page) == 0, path
        screenshot(page, f"phone-travel-card-{name}")
    assert problems == []


def test_staff_review_and_print_on_a_desktop(
    live_server: LiveServer, desktop: BrowserContext, db: Database, desk: Desk
) -> None:
    page = desktop.new_page()
    problems = watch_console(page, ignore=NOT_YET_THERE)
    sign_in(page, live_server, desk.staff.username, next="/travel-cards/queue")
    review_and_look(page, live_server, desk, "desktop")

    page.get_by_role("radio", name="审核通过").check()
    page.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".tc-history")).to_contain_text("审核通过")
    assert reload(db, desk.first.id).status == "approved"

    page.get_by_role("link", name="打印申请表").click()
    expect(page.locator(".tc-print h1")).to_have_text("老年出行卡申请表")
    status_url = f"{live_server.url}/travel-cards/{desk.first.id}"
    expect(page.locator(".tc-url")).to_have_text(status_url)
    expect(page.locator("svg.tc-qr")).to_be_visible()
    screenshot(page, "desktop-travel-card-print")
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    screenshot(page, "desktop-travel-card-print-media")
    assert problems == []
    assert [e.kind for e in events(db, desk.first.id)] == ["created", "submit", "approve"]
