"""The field app's service worker and push, in Chromium: a push (delivered through the DevTools
Protocol, since headless Chromium has no push service) shows a Chinese notification, and opening it
leads to the record's page. The payloads are the server's own, composed from the outbox rows its
triggers wrote. The account screen asks for permission only from a tap, saying why."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, CDPSession, Page
from sqlmodel import select

from server.commands import demands as dm
from server.commands import travel_cards as tc
from server.db import Database
from server.models import CardStatus, Demand, PushNotification, TravelCard, User
from server.push import outbox
from tests.browser import field
from tests.browser.conftest import screenshot, watch_console
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser

NOTIFICATIONS = (
    "() => navigator.serviceWorker.ready.then(r => r.getNotifications())"
    ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag, data: n.data})))"
)
OPEN = (
    "tag => navigator.serviceWorker.ready.then(r => r.active.postMessage({type: 'OPEN_NOTIFICATION', tag}))"
)


def push(
    page: Page, cdp: CDPSession, server: LiveServer, registration: str, payload: dict[str, Any]
) -> list[dict[str, Any]]:
    """Deliver `payload` through DevTools as the push service would, and return the notifications
    on show once it is among them. DevTools' delivery itself dropped a message about once in a
    thousand runs on a loaded machine, so a push not shown within 5 s is delivered again (the
    same tag replaces, never adds); a handler that shows nothing still fails after three tries."""
    message = json.dumps(payload, ensure_ascii=False)
    for _attempt in range(3):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": server.url, "registrationId": registration, "data": message},
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            found = list(page.evaluate(NOTIFICATIONS))
            if any(n["tag"] == payload.get("tag") for n in found):
                return found
            page.wait_for_timeout(50)
    raise AssertionError(
        f"the push tagged {payload.get('tag')!r} never showed: {page.evaluate(NOTIFICATIONS)}"
    )


def shown(page: Page, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
    """The notifications on show, once there are `count` of them (0: once there are none)."""
    deadline = time.monotonic() + timeout
    while True:
        found = list(page.evaluate(NOTIFICATIONS))
        if len(found) >= count if count else not found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(found)} notifications on show after {timeout} s, not {count}: {found}"
            )
        page.wait_for_timeout(50)


def payload_for(db: Database, user_id: uuid.UUID) -> dict[str, Any]:
    """What the server would push to this person now: their waiting news, composed."""
    with db.read() as s:
        waiting = list(s.exec(select(PushNotification).where(PushNotification.user_id == user_id)))
    with db.write() as s:
        for row in waiting:
            stored = s.get(PushNotification, row.id)
            assert stored is not None
            s.delete(stored)
    return outbox.message_for(waiting, "zh").payload


@pytest.fixture
def worker(make: Factory) -> User:
    """A worker with a grid that has a household (so the field app has something to show)."""
    grid = make.grid()
    make.household(grid)
    return make.user("grid_worker", grids=[grid])


def signed_in_phone(
    phone: BrowserContext, live_server: LiveServer, username: str
) -> tuple[Page, CDPSession, str, list[str]]:
    phone.grant_permissions(["notifications"], origin=live_server.url)
    page = phone.new_page()
    # Subscribing fails in headless Chromium (no push service); Chromium says so on the console.
    problems = watch_console(page, ignore=("does not support the Push API",))
    field.sign_in(page, live_server, username)
    cdp = phone.new_cdp_session(page)
    return page, cdp, field.worker_registration(page, cdp, f"{live_server.url}/app/"), problems


def test_a_push_shows_the_news_in_chinese_and_opening_it_leads_to_the_record(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉一网格")
    worker = make.user("grid_worker", grids=[grid])
    staff = make.user("community_staff")
    household = make.household(grid)
    resident = make.resident(household, name="王桂英")
    demand = Demand(
        community_id=grid.community_id,
        household_id=household.id,
        field="property",
        description="3栋电梯异响，老人不敢坐",
        source="phone",
    )
    card = TravelCard(
        resident_id=resident.id,
        household_id=household.id,
        community_id=grid.community_id,
        grid_id=grid.id,
        status=CardStatus.in_production,
        delivery="door",
        created_by=worker.id,
    )
    with db.write() as s:
        s.add_all([demand, card])
    # The office dispatches the request to the worker's grid: the trigger writes the news.
    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=make.actor(staff),
            data={"demand_id": str(demand.id), "grid_id": str(grid.id), "handling_type": "self"},
        )
    page, cdp, registration, problems = signed_in_phone(phone, live_server, worker.username)

    [note] = push(page, cdp, live_server, registration, payload_for(db, worker.id))
    assert note["title"] == "新诉求派到您的网格"
    assert note["body"].startswith("物业服务：3栋电梯异响，老人不敢坐。请接单，")
    assert note["tag"] == f"demand-{demand.id}"
    assert note["data"] == {"url": f"/app/#/d/{demand.id}", "kind": "demand_dispatched", "count": 1}
    page.goto(f"{live_server.url}/app/#/me")
    page.wait_for_selector("#notifications[data-permission=granted]")

    page.evaluate(OPEN, note["tag"])  # what a tap on it runs

    page.wait_for_url(f"{live_server.url}/app/#/d/{demand.id}")
    page.wait_for_selector("#view[data-screen=demand]")
    assert "3栋电梯异响" in page.inner_text("#view")
    assert page.evaluate(NOTIFICATIONS) == []  # opened, so gone from the tray
    screenshot(page, "push-opened-demand")

    # The card becomes ready: "请上门送卡", and its page opens.
    with db.write() as s:
        tc.advance_application(
            s, actor=make.actor(staff), data={"application_id": str(card.id), "to": "ready"}
        )
    [note] = push(page, cdp, live_server, registration, payload_for(db, worker.id))
    assert (note["title"], note["body"]) == ("出行卡已制好", "王*英的出行卡已制好，请上门送卡。")
    page.evaluate(OPEN, note["tag"])
    page.wait_for_url(f"{live_server.url}/app/#/card/{card.id}")
    page.wait_for_selector("#view[data-screen=card]")
    assert problems == []


def test_a_summary_and_a_conflict_lead_to_the_list_and_the_outbox(
    live_server: LiveServer, phone: BrowserContext, worker: User, db: Database
) -> None:
    page, cdp, registration, problems = signed_in_phone(phone, live_server, worker.username)
    for n in range(3):
        with db.write() as s:
            outbox.enqueue(
                s,
                user_id=worker.id,
                kind="demand_dispatched",
                title="新诉求派到您的网格",
                body=f"第{n + 1}条",
                url=f"/app/#/d/{uuid.uuid4()}",
                tag=f"demand-{n}",
            )

    [note] = push(page, cdp, live_server, registration, payload_for(db, worker.id))
    assert (note["title"], note["body"], note["tag"]) == (
        "家门口：3条新消息",
        "新诉求派到您的网格（3条）",
        "doorstep-summary",
    )
    page.evaluate(OPEN, "doorstep-summary")
    page.wait_for_url(f"{live_server.url}/app/#/demands")
    page.wait_for_selector("#view[data-screen=demands]")
    assert shown(page, 0) == []  # opened, so gone from the tray; the worker is done with it

    [note] = push(
        page,
        cdp,
        live_server,
        registration,
        {
            "title": "有同步冲突等您处理",
            "body": "住户的“电话”在您之前已被别人改过，请选择保留哪个值。",
            "tag": "conflicts",
            "url": "/app/#/outbox",
            "kind": "conflict_waiting",
            "count": 1,
            "renotify": True,
        },
    )
    assert note["title"] == "有同步冲突等您处理"
    page.evaluate(OPEN, "conflicts")
    page.wait_for_url(f"{live_server.url}/app/#/outbox")
    page.wait_for_selector("#view[data-screen=outbox]")
    assert problems == []


def test_a_push_from_elsewhere_never_opens_another_site(
    live_server: LiveServer, phone: BrowserContext, worker: User
) -> None:
    page, cdp, registration, _problems = signed_in_phone(phone, live_server, worker.username)
    [note] = push(
        page,
        cdp,
        live_server,
        registration,
        {"title": "家门口", "body": "", "tag": "x", "url": "https://evil.example/"},
    )
    assert note["data"]["url"] == "https://evil.example/"
    page.evaluate(OPEN, "x")
    assert shown(page, 0) == []
    page.wait_for_load_state()
    page.wait_for_timeout(300)
    assert [p.url.split("#")[0] for p in phone.pages] == [f"{live_server.url}/app/"]


def test_the_account_screen_asks_only_on_a_tap_and_says_why(
    live_server: LiveServer, phone: BrowserContext, worker: User
) -> None:
    page = phone.new_page()
    field.sign_in(page, live_server, worker.username)
    asked: list[str] = []
    page.expose_function("noteAsked", lambda: asked.append("asked"))
    page.evaluate(
        "() => { const ask = Notification.requestPermission.bind(Notification);"
        " Notification.requestPermission = () => { window.noteAsked(); return ask(); }; }"
    )
    page.goto(f"{live_server.url}/app/#/me")
    section = page.wait_for_selector("#notifications[data-permission=default]")
    assert section is not None
    text = section.inner_text()
    assert (
        "开启后，诉求派到您的网格、诉求快到期或已超期、出行卡审核有结果、同步冲突等您处理时，手机会提醒您"
        in text
    )
    assert asked == []  # signing in and opening the screen asked nothing
    screenshot(page, "push-account-screen")

    phone.grant_permissions(["notifications"], origin=live_server.url)
    page.click("button[data-action=enable-push]")

    # Headless Chromium has no push service, so subscribing fails; the app says so and the
    # screen shows that notifications are allowed.
    page.wait_for_selector("#notifications[data-permission=granted]")
    assert asked == ["asked"]
    assert "开启通知没有成功" in page.inner_text("#notice")
