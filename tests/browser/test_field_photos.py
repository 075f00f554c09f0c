"""Photos on the field app (issue 16, point 3): thumbnails of the IndexedDB blob in every
form and on visits, requests and travel cards; tap for full size; delete and retake before
saving; a face frame for the card photo; the "photo taken" box ticks itself."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import select

from server.db import Database
from server.models import Blob, Demand, Household, Resident, TravelCard, User, Visit
from tests.browser.conftest import screenshot, watch_console
from tests.browser.field import camera_photo, go_offline, go_online, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser

# Console noise of a phone that is offline on purpose, and of the placeholder's 404.
OFFLINE_NOISE = ("ERR_INTERNET_DISCONNECTED", "Failed to fetch", "net::ERR", "404")


@dataclass
class Door:
    worker: User
    home: Household
    elder: Resident  # 78 years old: may apply for a travel card


@pytest.fixture
def door(make: Factory) -> Door:
    grid = make.grid(name="照片网格")
    home = make.household(grid, estate="芙蓉花园", phone="13800001234")
    make.resident(home, name="李建国", relation="head", born=date(1980, 3, 1))
    elder = make.resident(home, name="王桂芳", relation="parent", born=date(1948, 5, 2))
    return Door(worker=make.user("grid_worker", grids=[grid]), home=home, elder=elder)


def at(page: Page, hash_path: str) -> None:
    page.goto(page.url.split("#")[0] + "#" + hash_path)


def take(page: Page, field: str, size: int) -> None:
    """Feed the camera input of `field` and wait until the new photo shows in the form."""
    held = page.eval_on_selector_all(f"#{field} input[type=hidden]", "(all) => all.map((i) => i.value)")
    page.set_input_files(f"input[data-photo={field}]", camera_photo(size))  # type: ignore[arg-type]
    page.wait_for_function(
        """([field, held]) => [...document.querySelectorAll(`#${field} input[type=hidden]`)].some((i) => !held.includes(i.value))""",
        arg=[field, held],
    )
    count = page.locator(f"#{field} li.shot").count()
    wait_shown(page, f"#{field} li.shot img", count)


def wait_shown(page: Page, selector: str, n: int) -> list[tuple[str, int]]:
    """Until `n` images of `selector` are on the page and decoded (natural size > 0); their
    (src, natural width), read in the same moment (a sync's repaint may replace them after)."""
    handle = page.wait_for_function(
        """([selector, n]) => { const all = [...document.querySelectorAll(selector)];
        return all.length === n && all.every((img) => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0)
          && all.map((img) => [img.src, img.naturalWidth]); }""",
        arg=[selector, n],
    )
    return [(str(src), int(width)) for src, width in handle.json_value()]


def sources(page: Page, selector: str) -> list[str]:
    return list(page.eval_on_selector_all(selector, "(all) => all.map((img) => img.src)"))


def outbox(page: Page) -> list[dict[str, Any]]:
    return list(
        page.evaluate(
            """() => new Promise((ok) => { const r = window.doorstep.db.transaction('outbox').objectStore('outbox').getAll();
            r.onsuccess = () => ok(r.result); })"""
        )
    )


def blobs_on_phone(page: Page) -> list[str]:
    return list(
        page.evaluate(
            """() => new Promise((ok) => { const r = window.doorstep.db.transaction('blobs').objectStore('blobs').getAllKeys();
            r.onsuccess = () => ok(r.result); })"""
        )
    )


def revoked(page: Page, url: str) -> bool:
    """Whether an object URL no longer loads (a picture, as `img-src` allows `blob:`)."""
    return bool(
        page.evaluate(
            """(url) => new Promise((ok) => { const img = new Image();
            img.onload = () => ok(false); img.onerror = () => ok(true); img.src = url; })""",
            url,
        )
    )


def test_a_visit_form_shows_its_photos_opens_them_full_size_and_deletes_one_before_saving(
    live_server: LiveServer, phone: BrowserContext, door: Door, db: Database
) -> None:
    page = phone.new_page()
    problems = watch_console(page, ignore=OFFLINE_NOISE)
    sign_in(page, live_server, door.worker.username)
    go_offline(phone, live_server)

    at(page, f"/h/{door.home.id}/visit")
    page.fill("textarea[name=notes]", "老人腿脚不便，楼道扶手松动")
    take(page, "visit-photos", 640)
    take(page, "visit-photos", 480)
    thumbs = sources(page, "#visit-photos img")
    assert len(thumbs) == 2 and all(src.startswith("blob:") for src in thumbs)
    assert "照片已保存" not in (page.text_content("#view") or "")
    screenshot(page, "photos-01-visit-form")

    page.click("#visit-photos li.shot:nth-child(1) [data-photo-view]")
    page.wait_for_selector("dialog.viewer[open]")
    assert wait_shown(page, "dialog.viewer img", 1)[0][1] == 640  # the blob itself, full size
    assert page.get_by_role("dialog").is_visible()
    screenshot(page, "photos-02-full-size")
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog.viewer", state="hidden")
    page.click("#visit-photos li.shot:nth-child(2) [data-photo-view]")
    page.wait_for_selector("dialog.viewer[open]")
    page.get_by_role("button", name="关闭").click()
    page.wait_for_selector("dialog.viewer", state="hidden")

    shas = page.eval_on_selector_all("#visit-photos input[type=hidden]", "(all) => all.map((i) => i.value)")
    deleted, kept = shas
    page.click("#visit-photos li.shot:nth-child(1) [data-photo-delete]")
    page.wait_for_function("() => document.querySelectorAll('#visit-photos li.shot').length === 1")
    assert page.input_value("#visit-photos input[type=hidden]") == kept
    assert revoked(page, thumbs[0])
    assert deleted not in blobs_on_phone(page)  # never uploaded: its bytes left the phone too

    page.click("form[data-form=visit] button[type=submit]")
    page.wait_for_selector("#visits")
    [entry] = [e for e in outbox(page) if e["name"] == "visit.record"]
    assert entry["args"]["photos"] == [kept]
    [(shown, _)] = wait_shown(page, "#visits .thumbs img", 1)
    assert shown.startswith("blob:")
    assert revoked(page, thumbs[1])  # the form's thumbnails went with the form
    screenshot(page, "photos-03-household-visits")

    page.click("#visits [data-photo-view]")
    assert wait_shown(page, "dialog.viewer img", 1)[0][1] == 480
    page.keyboard.press("Escape")

    go_online(phone, live_server)
    wait_synced(page)
    with db.read() as s:
        visit = s.exec(select(Visit).where(Visit.household_id == door.home.id)).one()
        assert visit.photos == [kept]
        assert s.get(Blob, kept) is not None and s.get(Blob, deleted) is None
    assert problems == []


def test_a_request_and_a_travel_card_show_their_photos_and_the_card_photo_ticks_its_box(
    live_server: LiveServer, phone: BrowserContext, door: Door, db: Database
) -> None:
    page = phone.new_page()
    problems = watch_console(page, ignore=OFFLINE_NOISE)
    sign_in(page, live_server, door.worker.username)

    at(page, f"/h/{door.home.id}/demand")
    demand_id = page.get_attribute("form[data-form=demand]", "data-demand")
    page.fill("textarea[name=description]", "楼下垃圾桶满了没人清")
    take(page, "demand-photos", 560)
    page.click("form[data-form=demand] button[type=submit]")
    page.wait_for_selector("#visits, [data-household] h1")
    wait_shown(page, f"a[href='#/d/{demand_id}'] .thumbs img", 1)
    at(page, f"/d/{demand_id}")
    wait_shown(page, f"[data-demand='{demand_id}'] .thumbs img", 1)
    screenshot(page, "photos-04-request-detail")
    page.click(f"[data-demand='{demand_id}'] [data-photo-view]")
    assert wait_shown(page, "dialog.viewer img", 1)[0][1] == 560
    page.keyboard.press("Escape")

    at(page, f"/r/{door.elder.id}/card")
    box = page.locator("form[data-form=card] input[name=photo_taken]")
    assert not box.is_checked()
    assert page.locator(".photos.face .hint").is_visible()
    take(page, "card-photo", 600)
    assert box.is_checked()  # ticked by the photo itself
    assert page.locator("#card-photo li.shot").count() == 1
    assert page.text_content("[data-photo-caption]") == "重拍"
    first = page.input_value("#card-photo input[type=hidden]")
    screenshot(page, "photos-05-card-face-frame")

    page.click("#card-photo [data-photo-delete]")
    page.wait_for_selector("#card-photo li.shot", state="detached")
    assert not box.is_checked()
    take(page, "card-photo", 520)
    take(page, "card-photo", 540)  # a retake replaces the photo
    assert box.is_checked()
    assert page.locator("#card-photo li.shot").count() == 1
    photo = page.input_value("#card-photo input[type=hidden]")
    assert photo != first
    page.check("input[name=id_seen]")
    page.check("input[name=consent]")
    page.click("form[data-form=card] button[type=submit]")
    page.wait_for_selector("[data-card]")
    assert wait_shown(page, "[data-card] dd .thumbs img", 1)[0][1] == 540
    wait_shown(page, "#card-photo li.shot img", 1)  # the supplement form holds it, to retake
    assert page.is_checked("form[data-form=supplement] input[name=photo_taken]")
    screenshot(page, "photos-06-card-detail")

    wait_synced(page)
    with db.read() as s:
        card = s.exec(select(TravelCard).where(TravelCard.resident_id == door.elder.id)).one()
        assert card.photo == photo and card.checklist.get("photo_taken") is True
        demand = s.get(Demand, uuid.UUID(str(demand_id)))
        assert demand is not None and len(demand.photos) == 1
    assert problems == []


def test_a_photo_the_phone_does_not_hold_comes_from_the_server_or_shows_a_placeholder(
    live_server: LiveServer, phone: BrowserContext, browser: Any, door: Door, db: Database
) -> None:
    first = phone.new_page()
    sign_in(first, live_server, door.worker.username)
    at(first, f"/h/{door.home.id}/visit")
    take(first, "visit-photos", 500)
    sha = first.input_value("#visit-photos input[type=hidden]")
    first.click("form[data-form=visit] button[type=submit]")
    first.wait_for_selector("#visits")
    wait_synced(first)
    with db.read() as s:
        assert s.get(Blob, sha) is not None
    with db.write() as s:  # a visit whose photo never reached the server
        s.add(
            Visit(
                household_id=door.home.id,
                community_id=door.home.community_id,
                grid_id=door.home.grid_id,
                worker_id=door.worker.id,
                notes="同事的走访，照片还在他手机上",
                photos=["ab" * 32],
            )
        )

    from tests.browser.conftest import PHONE

    other = browser.new_context(**PHONE)
    try:
        page = other.new_page()
        problems = watch_console(page, ignore=OFFLINE_NOISE)
        sign_in(page, live_server, door.worker.username)
        at(page, f"/h/{door.home.id}")
        [(src, width)] = wait_shown(page, f"#visits img[data-sha='{sha}']", 1)
        assert src.endswith(f"/sync/blobs/{sha}") and width == 500
        page.wait_for_selector("#visits .thumb.missing .unavailable")
        assert page.text_content("#visits .thumb.missing") == "照片未在本机"
        assert page.is_disabled("#visits .thumb.missing")
        screenshot(page, "photos-07-not-on-this-phone")
        assert [p for p in problems if "404" not in p] == []
    finally:
        other.close()


def draft_photos(page: Page) -> list[list[str]]:
    """The photo values each kept draft holds."""
    return list(
        page.evaluate(
            """() => new Promise((ok) => { const r = window.doorstep.db.transaction('drafts').objectStore('drafts').getAll();
            r.onsuccess = () => ok(r.result.map((d) => d.fields.filter((f) => f.name === 'photos').map((f) => f.value))); })"""
        )
    )


def until(holds: Callable[[], bool], tries: int = 50) -> None:
    """Poll what the page keeps in IndexedDB (written a moment after the change)."""
    for _ in range(tries):
        if holds():
            return
        time.sleep(0.1)
    raise AssertionError("never came true")


def test_a_photo_kept_in_a_draft_comes_back_as_a_thumbnail_and_deleting_it_leaves_the_draft(
    live_server: LiveServer, phone: BrowserContext, door: Door
) -> None:
    page = phone.new_page()
    problems = watch_console(page)
    sign_in(page, live_server, door.worker.username)
    at(page, f"/h/{door.home.id}/visit")
    take(page, "visit-photos", 400)
    sha = page.input_value("#visit-photos input[type=hidden]")
    until(lambda: [sha] in draft_photos(page))  # kept as soon as it is taken

    page.reload()
    page.wait_for_selector("form[data-form=visit] .draft-note")
    [(_, width)] = wait_shown(page, f"#visit-photos li.shot img[data-sha='{sha}']", 1)
    assert width == 400
    page.click("#visit-photos [data-photo-delete]")
    page.wait_for_selector("#visit-photos li.shot", state="detached")
    until(lambda: all(sha not in photos for photos in draft_photos(page)))
    assert problems == []
