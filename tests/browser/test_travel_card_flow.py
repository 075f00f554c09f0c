"""A travel card from the door to the hand, across the phone (offline) and the office (issue: travel card)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import BrowserContext
from sqlmodel import select

from server.db import Database
from server.models import Grid, TravelCard, TravelCardEvent
from tests.browser.conftest import screenshot
from tests.browser.conftest import sign_in as office_sign_in
from tests.browser.field import camera_photo, go_offline, go_online, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_apply_offline_supplement_offline_approve_and_deliver(
    live_server: LiveServer, phone: BrowserContext, desktop: BrowserContext, make: Factory, db: Database
) -> None:
    grid: Grid = make.grid(name="芙蓉第二网格")
    home = make.household(grid, estate="鳌溪新村", building="2栋", unit="1单元", room="302室")
    elder = make.resident(home, name="罗桂英", relation="head", born=date(1948, 9, 12))
    worker = make.user("grid_worker", grids=[grid])
    staff = make.user("community_staff")

    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    go_offline(phone)
    base = page.url.split("#")[0]
    page.goto(base + f"#/h/{home.id}")
    page.click(f"[data-start-card='{elder.id}']")
    page.check("input[name=id_seen]")
    page.check("input[name=consent]")
    page.select_option("select[name=delivery]", "door")
    page.click("form[data-form=card] button[type=submit]")  # saved without a photo: not submittable yet
    page.wait_for_selector("[data-card][data-status=draft]")
    assert "申请人照片" in (page.text_content("[data-missing]") or "")
    page.check("form[data-form=supplement] input[name=photo_taken]")
    page.set_input_files("input[data-photo=card-photo]", camera_photo(500))  # type: ignore[arg-type]
    page.wait_for_selector("#card-photo input[type=hidden]", state="attached")
    page.click("form[data-form=supplement] button[type=submit]")
    page.wait_for_selector("[data-action=submit-card]")
    page.click("[data-action=submit-card]")
    page.wait_for_selector("[data-card][data-status=submitted]")
    # The history shows the steps taken at the door at once, each waiting to sync.
    steps = page.locator(".timeline li").all_text_contents()
    assert len(steps) == 2 and "草稿" in steps[0] and "待审核" in steps[1], steps
    assert all("待同步" in step for step in steps), steps
    screenshot(page, "card-01-submitted-offline")
    go_online(phone)
    wait_synced(page)

    with db.read() as s:
        card = s.exec(select(TravelCard).where(TravelCard.resident_id == elder.id)).one()
        assert card.status == "submitted" and card.photo and card.delivery == "door"
        recorded = s.exec(select(TravelCardEvent).where(TravelCardEvent.application_id == card.id)).all()
    # Once synced, the server's events stand in for the phone's own: none doubled.
    page.wait_for_function(
        "(n) => document.querySelectorAll('.timeline li').length === n"
        " && ![...document.querySelectorAll('.timeline li')].some((li) => li.textContent.includes('待同步'))",
        arg=len(recorded),
        timeout=10_000,
    )

    office = desktop.new_page()
    office_sign_in(office, live_server, staff.username, next=f"/travel-cards/{card.id}")
    office.check("input[name=decision][value=needs_supplement]")
    office.fill("textarea[name=reason]", "请补拍正面免冠照片，背景要白色")
    office.click("form.tc-decide button[type=submit]")
    office.wait_for_load_state()
    screenshot(office, "card-02-office-needs-supplement")

    page.click("#syncstate")
    wait_synced(page)
    page.goto(base + f"#/card/{card.id}")
    reason = page.wait_for_selector("[data-reason]")
    assert reason is not None and "请补拍正面免冠照片" in (reason.text_content() or "")
    screenshot(page, "card-03-reason-on-phone")

    go_offline(phone)
    page.set_input_files("input[data-photo=card-photo]", camera_photo(520))  # type: ignore[arg-type]
    # The form shows the photo the card has; the retake replaces it.
    page.wait_for_selector(f"#card-photo input[type=hidden]:not([value='{card.photo}'])", state="attached")
    page.click("form[data-form=supplement] button[type=submit]")
    page.wait_for_selector("[data-action=submit-card]")
    page.click("[data-action=submit-card]")
    page.wait_for_selector("[data-card][data-status=submitted]")
    go_online(phone)
    wait_synced(page)

    with db.read() as s:
        again = s.get(TravelCard, card.id)
        assert again is not None and again.status == "submitted" and again.photo != card.photo

    office.goto(f"{live_server.url}/travel-cards/{card.id}")
    office.check("input[name=decision][value=approve]")
    office.click("form.tc-decide button[type=submit]")
    office.wait_for_load_state()
    for step in ("in_production", "ready"):
        office.click(f"form[action$='/advance']:has(input[value={step}]) button[type=submit]")
        office.wait_for_load_state()

    page.click("#syncstate")
    wait_synced(page)
    page.goto(base + f"#/card/{card.id}")
    page.wait_for_selector("[data-card][data-status=ready]")
    go_offline(phone)
    page.click("[data-action=deliver]")
    page.wait_for_selector("[data-card][data-status=issued]")
    go_online(phone)
    wait_synced(page)
    screenshot(page, "card-04-issued")

    with db.read() as s:
        done = s.get(TravelCard, card.id)
        assert done is not None and done.status == "issued" and done.review_due is not None
        events = s.exec(
            select(TravelCardEvent)
            .where(TravelCardEvent.application_id == card.id)
            .order_by(TravelCardEvent.version)
        ).all()
    path = [e.to_status for e in events]
    path = [
        status for n, status in enumerate(path) if n == 0 or status != path[n - 1]
    ]  # edits keep the status
    assert path == [
        "draft",
        "submitted",
        "needs_supplement",
        "submitted",
        "approved",
        "in_production",
        "ready",
        "issued",
    ]
