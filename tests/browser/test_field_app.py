"""The offline field app in real Chromium at 360×740 (issue: offline field app, tests 1–6)."""

from __future__ import annotations

import hashlib
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import col, func, select

from server.db import Database
from server.models import Blob, Demand, Household, Resident, SyncClient, TravelCard, User, Visit
from tests.browser.conftest import screenshot, watch_console
from tests.browser.field import (
    camera_photo,
    go_offline,
    go_online,
    open_app,
    open_households,
    outbox_counts,
    pending,
    sign_in,
    wait_synced,
    worker_registration,
)
from tests.browser.link import CutLink
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


@dataclass
class Grid:
    worker: User
    elder: Resident  # 76 years old
    elder_home: Household
    never_opened: Household
    households: list[Household]


@pytest.fixture
def grid(make: Factory) -> Grid:
    grid = make.grid(name="芙蓉第一网格")
    make.tag("lonely_elder", name="独居老人")
    households = [make.household(grid, estate="芙蓉花园", phone=f"1380000{n:04d}") for n in range(12)]
    for n, household in enumerate(households):
        make.resident(household, name=f"住户{n}", relation="head", born=date(1985, 1, 1 + n))
    elder_home = households[3]
    elder = make.resident(elder_home, name="陈秀兰", relation="parent", born=date(1950, 6, 1))
    return Grid(
        worker=make.user("grid_worker", grids=[grid]),
        elder=elder,
        elder_home=elder_home,
        never_opened=households[7],
        households=households,
    )


def count(db: Database, model: Any, *where: Any) -> int:
    with db.read() as s:
        return int(s.exec(select(func.count()).select_from(model).where(*where)).one())


def record_visit(page: Page, household: Household, notes: str) -> None:
    page.goto(page.url.split("#")[0] + f"#/h/{household.id}/visit")
    page.fill("textarea[name=notes]", notes)
    page.click("form[data-form=visit] button[type=submit]")
    page.wait_for_selector(f"[data-household='{household.id}'] h1")


def capture_request(page: Page, household: Household, text: str, *, photo: bool = True) -> None:
    page.goto(page.url.split("#")[0] + f"#/h/{household.id}/demand")
    page.fill("textarea[name=description]", text)
    if photo:
        page.set_input_files("input[data-photo=demand-photos]", camera_photo(640))  # type: ignore[arg-type]
        page.wait_for_selector("#demand-photos input[type=hidden]", state="attached")
    page.click("form[data-form=demand] button[type=submit]")
    page.wait_for_selector(f"[data-household='{household.id}'] h1")


def start_card(page: Page, resident: Resident) -> None:
    page.goto(page.url.split("#")[0] + f"#/h/{resident.household_id}")
    page.click(f"[data-start-card='{resident.id}']")
    page.check("input[name=id_seen]")
    page.check("input[name=photo_taken]")
    page.check("input[name=consent]")
    page.set_input_files("input[data-photo=card-photo]", camera_photo(600))  # type: ignore[arg-type]
    page.wait_for_selector("#card-photo input[type=hidden]", state="attached")
    page.select_option("select[name=delivery]", "door")
    page.click("form[data-form=card] button[type=submit]")
    page.wait_for_selector("[data-card]")


def test_a_day_offline_survives_a_closed_browser_and_lands_exactly_once(
    live_server: LiveServer, phone_profile: Callable[..., BrowserContext], grid: Grid, db: Database
) -> None:
    context = phone_profile()
    page = context.new_page()
    problems = watch_console(page, ignore=("ERR_INTERNET_DISCONNECTED", "Failed to fetch", "net::ERR"))
    sign_in(page, live_server, grid.worker.username)
    screenshot(page, "field-01-households-online")

    go_offline(context, live_server)
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert page.locator("#households li").count() == len(grid.households)
    assert "离线" in (page.text_content("#syncstate") or "")
    screenshot(page, "field-02-households-offline")

    page.click(f"[data-household='{grid.never_opened.id}']")
    page.wait_for_selector(f"[data-household='{grid.never_opened.id}'] h1")
    screenshot(page, "field-03-household-never-opened")
    record_visit(page, grid.never_opened, "离线走访：老人身体硬朗")
    screenshot(page, "field-04-after-visit")
    capture_request(page, grid.never_opened, "楼道路灯坏了一年多，晚上出门摸黑")
    start_card(page, grid.elder)
    screenshot(page, "field-05-travel-card-draft")
    assert pending(page) == 3 + 2  # three records and two photos wait
    context.close()

    context = phone_profile()
    go_offline(context)
    page = context.new_page()
    open_app(page, live_server)
    assert outbox_counts(page) == (3, 0, 2)
    screenshot(page, "field-06-outbox-offline")

    live_server.start()
    started = time.monotonic()
    go_online(context)
    wait_synced(page, timeout=10_000)
    assert time.monotonic() - started < 10

    worker = grid.worker.id
    assert count(db, Visit, Visit.household_id == grid.never_opened.id, Visit.worker_id == worker) == 1
    assert count(db, Demand, Demand.household_id == grid.never_opened.id) == 1
    assert count(db, TravelCard, TravelCard.resident_id == grid.elder.id) == 1
    with db.read() as s:
        demand = s.exec(select(Demand).where(Demand.household_id == grid.never_opened.id)).one()
        card = s.exec(select(TravelCard).where(TravelCard.resident_id == grid.elder.id)).one()
        hashes = [*demand.photos, card.photo]
        assert len(hashes) == 2 and all(hashes)
        for sha in hashes:
            blob = s.get(Blob, sha)
            assert blob is not None and hashlib.sha256(blob.data).hexdigest() == sha
            assert blob.content_type == "image/jpeg"
        assert card.delivery == "door" and card.checklist.get("consent") is True
    assert "已全部同步" in (page.text_content("#syncstate") or "")
    screenshot(page, "field-07-synced")
    assert problems == []


def test_a_grid_of_several_pull_pages_arrives_whole(
    live_server: LiveServer, phone: BrowserContext, grid: Grid, db: Database
) -> None:
    """4,200 visits are three pages (rule 12): the app asks for each next page while the
    one before is still arriving; the phone must end up with exactly the server's copy."""
    from datetime import UTC, datetime, timedelta

    import httpx
    from sqlalchemy import insert

    from server import versions
    from sync.client import Client
    from tests.conftest import PASSWORD

    household = grid.households[0]
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "community_id": household.community_id,
            "grid_id": household.grid_id,
            "household_id": grid.households[n % 12].id,
            "worker_id": grid.worker.id,
            "purpose": "routine",
            "outcome": "completed",
            "notes": f"往期走访{n}",
            "photos": [],
            "at": now - timedelta(minutes=n),
            "created_at": now,
            "updated_at": now,
            "field_versions": {},
        }
        for n in range(4200)
    ]
    with db.write() as s:
        for row, version in zip(rows, versions.allocate(s, len(rows)), strict=True):
            row["version"] = version
        s.execute(insert(Visit), rows)

    page = phone.new_page()
    sign_in(page, live_server, grid.worker.username)
    on_phone = page.evaluate(
        """async () => { const db = await new Promise((ok) => { const r = indexedDB.open(`doorstep-${window.doorstep.me.id}`); r.onsuccess = () => ok(r.result); });
        const keys = await new Promise((ok) => { const r = db.transaction('records').objectStore('records').getAllKeys(); r.onsuccess = () => ok(r.result); });
        const cursor = await new Promise((ok) => { const r = db.transaction('meta').objectStore('meta').get('cursor'); r.onsuccess = () => ok(r.result); });
        return { keys, cursor }; }"""
    )
    with httpx.Client(base_url=live_server.url) as http:
        fresh = Client(http=http)
        fresh.login(grid.worker.username, PASSWORD)
        fresh.pull()
    assert sorted(tuple(key) for key in on_phone["keys"]) == sorted(fresh.store)
    assert sum(1 for kind, _ in fresh.store if kind == "visit") == 4200
    assert on_phone["cursor"] == fresh.cursor


def test_two_phones_edit_the_same_phone_number_and_the_office_resolves_it(
    live_server: LiveServer, browser: Any, grid: Grid, make: Factory, db: Database, desktop: BrowserContext
) -> None:
    from tests.browser.conftest import PHONE

    household = grid.households[0]
    phones: list[tuple[BrowserContext, Page]] = []
    second = _second_worker(make, household)
    for user in (grid.worker, second):
        context = browser.new_context(**PHONE)
        page = context.new_page()
        sign_in(page, live_server, user.username)
        phones.append((context, page))
    live_server.stop()  # both phones are cut off: neither service worker can sync in the background
    for (context, page), number in zip(phones, ("13911112222", "13733334444"), strict=True):
        go_offline(context)
        page.goto(page.url.split("#")[0] + f"#/h/{household.id}/edit")
        page.fill("input[name=phone]", number)
        page.click("form[data-form=household] button[type=submit]")
        page.wait_for_selector(f"[data-household='{household.id}'] h1")
    (first_ctx, first), (second_ctx, second_page) = phones
    live_server.start()
    go_online(first_ctx)
    wait_synced(first)
    go_online(second_ctx)
    wait_synced(second_page)

    with db.read() as s:
        assert s.get(Household, household.id).phone == "13911112222"  # type: ignore[union-attr]
    second_page.goto(second_page.url.split("#")[0] + "#/outbox")
    conflict = second_page.wait_for_selector("#conflicts li")
    assert conflict is not None
    shown = conflict.text_content() or ""
    assert "139****2222" in shown and "137****4444" in shown  # masked (issue 16, point 12)
    assert "13911112222" not in shown and "13733334444" not in shown
    screenshot(second_page, "field-08-conflict-on-phone")

    office = desktop.new_page()
    from tests.browser.conftest import sign_in as office_sign_in

    staff = make.user("community_staff")
    office_sign_in(office, live_server, staff.username, next="/conflicts")
    office.get_by_role("button", name="用手机上改的").click()
    office.wait_for_selector("text=没有待处理的冲突")

    for _context, page in phones:
        page.click("#syncstate")
        page.goto(page.url.split("#")[0] + "#/outbox")
        page.wait_for_function(
            "() => document.querySelectorAll('#conflicts li').length === 0", timeout=15_000
        )
        page.goto(page.url.split("#")[0] + f"#/h/{household.id}")
        page.wait_for_selector("text=137****4444")
    for context, _page in phones:
        context.close()


def _second_worker(make: Factory, household: Household) -> User:
    from server.models import Grid as GridModel

    with make.db.read() as s:
        grid = s.get(GridModel, household.grid_id)
    assert grid is not None
    return make.user("grid_worker", grids=[grid])


def test_the_server_dying_mid_sync_keeps_items_pending_without_an_error_loop(
    live_server: LiveServer, phone: BrowserContext, grid: Grid, db: Database
) -> None:
    link = CutLink(live_server.port, on_cut=live_server.crash)
    page = phone.new_page()
    sign_in(page, link, grid.worker.username)
    go_offline(phone, live_server)  # neither the page nor the service worker's Background Sync gets through
    for n in range(30):
        record_visit(page, grid.households[n % 12], f"第{n}次走访")
    assert pending(page) == 30

    # The server commits the whole batch and dies before the phone hears back,
    # whichever of the page and the service worker sends it.
    link.arm()
    go_online(phone, live_server)
    page.wait_for_function(
        "() => document.getElementById('syncstate').textContent.includes('连不上') || document.getElementById('banner').textContent.includes('连不上')",
        timeout=15_000,
    )
    assert (link.pushes, link.cuts) == (1, 1)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if "/sync/" in request.url else None)
    time.sleep(6)
    assert pending(page) == 30  # nothing was dropped on the phone
    assert len(requests) <= 3, f"retrying too eagerly: {requests}"
    screenshot(page, "field-09-server-down")

    live_server.start()
    page.click("#syncstate")
    wait_synced(page, timeout=20_000)
    link.close()
    assert link.cuts == 1
    with db.read() as s:
        visits = s.exec(select(Visit).where(Visit.worker_id == grid.worker.id)).all()
        assert sorted(v.notes for v in visits) == sorted(
            f"第{n}次走访" for n in range(30)
        )  # each exactly once
        client = s.exec(select(SyncClient).where(SyncClient.user_id == grid.worker.id)).one()
        assert client.last_mutation_id == 30


def test_what_the_service_worker_meets_while_syncing_shows_on_the_page(
    live_server: LiveServer, phone: BrowserContext, grid: Grid, db: Database
) -> None:
    """Background Sync runs in the service worker; the page, synced and idle (its next
    quiet pull is minutes away), hears from the worker that the session is gone (401)."""
    from server.models import UserSession

    page = phone.new_page()
    sign_in(page, live_server, grid.worker.username)
    cdp = phone.new_cdp_session(page)
    registration = worker_registration(page, cdp, f"{live_server.url}/app/")
    with db.write() as s:
        for record in s.exec(select(UserSession).where(UserSession.user_id == grid.worker.id)).all():
            s.delete(record)
    # The server trusts a session it checked within the last 5 s (server/auth.py), so
    # Background Sync is fired until the worker meets the 401.
    deadline = time.monotonic() + 30
    while "登录已过期" not in (page.text_content("#banner") or ""):
        assert time.monotonic() < deadline, page.text_content("#banner")
        cdp.send(
            "ServiceWorker.dispatchSyncEvent",
            {
                "origin": live_server.url,
                "registrationId": registration,
                "tag": "doorstep-sync",
                "lastChance": False,
            },
        )
        page.wait_for_timeout(1000)
    assert "需要重新登录" in (page.text_content("#syncstate") or "")


def test_after_the_server_is_restored_from_a_backup_the_phone_starts_over_and_loses_nothing_it_holds(
    live_server: LiveServer, phone: BrowserContext, grid: Grid, db: Database
) -> None:
    page = phone.new_page()
    sign_in(page, live_server, grid.worker.username)
    for n in range(2):
        record_visit(page, grid.households[n], f"备份前的走访{n}")
    wait_synced(page)
    first = count(db, SyncClient, SyncClient.user_id == grid.worker.id)
    assert first == 1

    # The backup was taken after the first visit: the second, acknowledged, is gone
    # from the server, and the server's count of this phone is back at 1.
    go_offline(phone, live_server)
    with db.write() as s:
        s.delete(s.exec(select(Visit).where(Visit.notes == "备份前的走访1")).one())
        client = s.exec(select(SyncClient).where(SyncClient.user_id == grid.worker.id)).one()
        client.last_mutation_id = 1
        old_client = client.client_id
    for n in range(2, 4):
        record_visit(page, grid.households[n], f"恢复后的走访{n}")
    assert pending(page) == 2  # ids 3 and 4: the server now expects 2
    go_online(phone, live_server)
    page.click("#syncstate")
    wait_synced(page)

    assert count(db, Visit, col(Visit.notes).startswith("恢复后的走访")) == 2  # each exactly once
    assert count(db, Visit, Visit.notes == "备份前的走访0") == 1
    with db.read() as s:
        clients = s.exec(select(SyncClient).where(SyncClient.user_id == grid.worker.id)).all()
    assert {(c.client_id == old_client, c.last_mutation_id) for c in clients} == {(True, 1), (False, 2)}
    assert page.get_attribute("#syncstate", "data-rejected") in (None, "0")


def test_a_rejected_item_shows_its_reason_and_does_not_block_the_queue(
    live_server: LiveServer, phone: BrowserContext, grid: Grid, make: Factory, db: Database
) -> None:
    demand = Demand(
        community_id=grid.elder_home.community_id,
        grid_id=grid.elder_home.grid_id,
        household_id=grid.elder_home.id,
        field="infrastructure",
        description="井盖松动",
        source="phone",
        status="dispatched",
    )
    make._save(demand)
    page = phone.new_page()
    sign_in(page, live_server, grid.worker.username)
    go_offline(phone, live_server)
    page.goto(page.url.split("#")[0] + f"#/d/{demand.id}")
    page.click("[data-action=accept]")
    page.wait_for_selector("[data-sync=pending]")
    record_visit(page, grid.households[1], "接单后顺路走访")

    other = _second_worker(make, grid.elder_home)
    from server.commands.demands import accept_demand

    with db.write() as s:
        accept_demand(s, actor=make.actor(other), data={"demand_id": str(demand.id)})

    go_online(phone, live_server)
    page.wait_for_function(
        "() => document.getElementById('syncstate').dataset.rejected === '1'", timeout=15_000
    )
    assert pending(page) == 0
    assert count(db, Visit, Visit.notes == "接单后顺路走访") == 1
    page.goto(page.url.split("#")[0] + "#/outbox")
    rejected = page.wait_for_selector("#rejected li[data-code=invalid_transition]")
    assert rejected is not None and f"已被{other.display_name}接单" in (rejected.text_content() or "")
    screenshot(page, "field-10-rejected")
    page.click("#rejected [data-action=dismiss]")  # 知道了: kept on the phone, no longer counted
    page.wait_for_function("() => document.querySelectorAll('#rejected li').length === 0")
    assert page.locator("#dismissed li[data-status=dismissed]").count() == 1
    assert page.get_attribute("#syncstate", "data-rejected") == "0"
    with db.read() as s:
        assert s.get(Demand, demand.id).assignee_id == other.id  # type: ignore[union-attr]


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_app_is_installable_and_starts_offline(
    live_server: LiveServer, phone: BrowserContext, grid: Grid
) -> None:
    page = phone.new_page()
    sign_in(page, live_server, grid.worker.username)
    manifest_href = page.get_attribute("link[rel=manifest]", "href")
    manifest = page.evaluate("async (href) => (await fetch(href)).json()", manifest_href)
    assert manifest["name"] == "家门口" and manifest["lang"] == "zh-CN"
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/app/"
    assert manifest["theme_color"].startswith("#")
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        body = page.request.get(live_server.url + icon["src"]).body()
        side = int(icon["sizes"].split("x")[0])
        assert png_size(body) == (side, side)
    go_offline(phone)
    page.goto(live_server.url + manifest["start_url"])
    page.wait_for_selector("body[data-ready]")
    open_households(page)
    page.wait_for_selector("#households li")
    screenshot(page, "field-11-start-url-offline")


def test_an_update_waits_for_the_user_and_keeps_pending_items(
    live_server: LiveServer, phone: BrowserContext, grid: Grid, db: Database
) -> None:
    page = phone.new_page()
    sign_in(page, live_server, grid.worker.username)
    old_version = page.get_attribute("body", "data-version")
    blocked: list[str] = []
    phone.route(
        "**/sync/push", lambda route: (blocked.append(route.request.url), route.abort("connectionrefused"))
    )
    for n in range(3):
        record_visit(page, grid.households[n], f"更新前的走访{n}")
    assert pending(page) == 3

    live_server.env["DOORSTEP_BUILD_ID"] = uuid.uuid4().hex  # a deploy
    live_server.restart()
    page.evaluate("navigator.serviceWorker.getRegistration('/app/').then((r) => r.update())")
    page.wait_for_selector("[data-action=apply-update]", timeout=20_000)
    assert (
        page.get_attribute("body", "data-version") == old_version
    )  # nothing reloaded behind the user's back
    assert pending(page) == 3
    screenshot(page, "field-12-update-offered")
    page.click("[data-action=apply-update]")
    page.wait_for_function(
        f"() => document.body.dataset.version && document.body.dataset.version !== '{old_version}'",
        timeout=20_000,
    )
    page.wait_for_selector("body[data-ready]")
    assert pending(page) == 3  # the outbox survived the update
    phone.unroute("**/sync/push")
    page.click("#syncstate")
    wait_synced(page)
    assert count(db, Visit, col(Visit.notes).startswith("更新前的走访")) == 3
