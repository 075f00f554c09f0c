"""A resident's request from the door to the rating: 居民点单、社区派单、网格接单 (issue: requests)."""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import Browser, BrowserContext
from sqlmodel import select

from server.db import Database
from server.models import Blob, Demand, DemandEvent
from tests.browser.conftest import PHONE, screenshot
from tests.browser.conftest import sign_in as office_sign_in
from tests.browser.field import camera_photo, go_offline, go_online, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_capture_offline_dispatch_accept_offline_resolve_and_the_resident_rates(
    live_server: LiveServer,
    phone: BrowserContext,
    desktop: BrowserContext,
    browser: Browser,
    make: Factory,
    db: Database,
) -> None:
    grid = make.grid(name="芙蓉第三网格")
    home = make.household(grid, estate="尧坑安置点", building="5栋", unit="2单元", room="101室")
    make.resident(home, name="詹民华", relation="head")
    worker = make.user("grid_worker", grids=[grid])
    staff = make.user("community_staff")

    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    base = page.url.split("#")[0]
    go_offline(phone)
    page.goto(base + f"#/h/{home.id}/demand")
    page.select_option("select[name=field]", "infrastructure")
    page.fill("textarea[name=description]", "路灯坏了一年多，晚上出门摸黑")
    page.set_input_files("input[data-photo=demand-photos]", camera_photo(480))  # type: ignore[arg-type]
    page.wait_for_selector("#demand-photos input[type=hidden]", state="attached")
    page.click("form[data-form=demand] button[type=submit]")
    page.wait_for_selector(f"[data-household='{home.id}'] h1")
    go_online(phone)
    wait_synced(page)

    with db.read() as s:
        demand = s.exec(select(Demand).where(Demand.household_id == home.id)).one()
        assert demand.status == "submitted" and demand.source == "visit" and len(demand.photos) == 1
        blob = s.get(Blob, demand.photos[0])
        assert blob is not None and hashlib.sha256(blob.data).hexdigest() == demand.photos[0]

    office = desktop.new_page()
    office_sign_in(office, live_server, staff.username, next=f"/demands/{demand.id}")
    office.select_option("details.step-dispatch select[name=grid_id]", str(grid.id))
    office.click("details.step-dispatch button[type=submit]")
    office.wait_for_load_state()
    screenshot(office, "demand-flow-01-dispatched")
    with db.read() as s:
        assert s.get(Demand, demand.id).status == "dispatched"  # type: ignore[union-attr]

    page.click("#syncstate")
    wait_synced(page)
    page.goto(base + "#/demands")
    page.wait_for_selector(f"#to-accept [data-demand='{demand.id}']")
    go_offline(phone)
    page.click(f"#to-accept [data-demand='{demand.id}']")
    page.click("[data-action=accept]")
    page.wait_for_selector("form[data-form=resolve]")
    page.fill("form[data-form=resolve] textarea[name=note]", "已联系城管更换灯泡，晚上亮了")
    page.set_input_files("input[data-photo=resolve-photos]", camera_photo(460))  # type: ignore[arg-type]
    page.wait_for_selector("#resolve-photos input[type=hidden]", state="attached")
    page.click("form[data-form=resolve] button[type=submit]")
    page.wait_for_selector("[data-demand] h1:has-text('已办结')")
    screenshot(page, "demand-flow-02-resolved-offline")
    go_online(phone)
    wait_synced(page)

    with db.read() as s:
        resolved = s.get(Demand, demand.id)
        assert resolved is not None and resolved.status == "resolved" and resolved.assignee_id == worker.id
        assert resolved.rating_token
        token = resolved.rating_token
    # After 办结 and the sync, the phone shows the resident the QR of their own link, drawn.
    page.goto(base + f"#/d/{demand.id}")
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-rating-qr] img');"
        " return !!i && i.complete && i.naturalWidth > 0; }"
    )
    screenshot(page, "demand-flow-02b-rating-qr-on-phone")

    resident = browser.new_context(**PHONE)
    rating = resident.new_page()
    rating.goto(f"{live_server.url}/r/{token}")
    rating.check("input[name=rating][value=satisfied]")
    rating.fill("textarea[name=comment]", "修得很快，谢谢网格员")
    rating.click("button[type=submit]")
    rating.wait_for_load_state()
    screenshot(rating, "demand-flow-03-resident-rated")
    resident.close()

    page.click("#syncstate")
    wait_synced(page)
    page.goto(base + f"#/d/{demand.id}")
    page.wait_for_selector("[data-demand] h1:has-text('已归档')")
    with db.read() as s:
        final = s.get(Demand, demand.id)
        assert final is not None and (final.status, final.rating) == ("closed", "satisfied")
        assert (final.rating_channel, final.rated_by) == ("resident", None)  # scanned, no session
        kinds = [
            e.kind
            for e in s.exec(
                select(DemandEvent).where(DemandEvent.demand_id == demand.id).order_by(DemandEvent.version)
            )
        ]
    assert kinds == ["created", "dispatched", "accepted", "resolved", "rated"]
    screenshot(page, "demand-flow-04-closed-on-phone")
