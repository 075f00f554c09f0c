"""Nothing typed is lost (issue 16, point 4): every open form is kept in IndexedDB as it is
typed, put back after a reload or on return, leaving a changed form asks first, and the
draft goes when the form is saved."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Dialog, Page, expect
from sqlmodel import select

from server.db import Database
from server.models import Household, User, Visit
from tests.browser.conftest import screenshot, watch_console
from tests.browser.field import camera_photo, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser

NOTES = "独居老人，药快吃完了，下周三再来看看。"


@pytest.fixture
def home(make: Factory) -> tuple[User, Household]:
    grid = make.grid(name="芙蓉第三网格")
    household = make.household(grid, estate="芙蓉花园")
    make.resident(household, name="刘桂英", relation="head", born=date(1941, 3, 2))
    return make.user("grid_worker", grids=[grid]), household


def drafts(page: Page, user: User) -> list[dict[str, Any]]:
    return list(
        page.evaluate(
            """(name) => new Promise((resolve, reject) => {
                const open = indexedDB.open(name);
                open.onsuccess = () => {
                    const rows = open.result.transaction("drafts").objectStore("drafts").getAll();
                    rows.onsuccess = () => { open.result.close(); resolve(rows.result); };
                    rows.onerror = () => reject(rows.error);
                };
            })""",
            f"doorstep-{user.id}",
        )
    )


def wait_for_draft(page: Page, user: User, text: str) -> None:
    for _ in range(50):
        if any(text in str(d["fields"]) for d in drafts(page, user)):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"no draft holds {text!r}")


def test_a_visit_typed_survives_a_reload_and_leaving_and_goes_when_saved(
    phone: BrowserContext, live_server: LiveServer, home: tuple[User, Household], db: Database
) -> None:
    worker, household = home
    page = phone.new_page()
    problems = watch_console(page)
    sign_in(page, live_server, worker.username)
    form_url = live_server.url + f"/app/#/h/{household.id}/visit"
    page.goto(form_url)
    page.wait_for_selector("form[data-form=visit]")
    visit_id = page.get_attribute("form[data-form=visit]", "data-visit")
    page.select_option("select[name=outcome]", "nobody_home")
    page.fill("textarea[name=notes]", NOTES)
    page.set_input_files("input[type=file][data-photo]", [camera_photo()])
    page.wait_for_selector("#visit-photos input[type=hidden]", state="attached")
    photo = page.get_attribute("#visit-photos input[type=hidden]", "value")
    wait_for_draft(page, worker, NOTES)

    # A reload (or the camera killing the tab) puts everything back, the visit's id included.
    page.reload()
    page.wait_for_selector("form[data-form=visit] .draft-note")
    expect(page.locator("textarea[name=notes]")).to_have_value(NOTES)
    expect(page.locator("select[name=outcome]")).to_have_value("nobody_home")
    assert page.get_attribute("form[data-form=visit]", "data-visit") == visit_id
    assert page.get_attribute("#visit-photos input[type=hidden]", "value") == photo
    screenshot(page, "draft-restored")

    # Leaving by a tab asks; "cancel" stays on the form, "OK" leaves and keeps the draft.
    asked: list[str] = []

    def answer(accept: bool) -> None:
        def handle(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", handle)

    answer(False)
    page.click("#tabbar a[href='#/households']")
    page.wait_for_timeout(300)
    assert asked and "还没有保存" in asked[0]
    expect(page.locator("textarea[name=notes]")).to_have_value(NOTES)
    answer(True)
    page.click("#tabbar a[href='#/households']")
    page.wait_for_selector("#households")
    assert len(asked) == 2
    page.goto(form_url)
    page.wait_for_selector("form[data-form=visit] .draft-note")
    expect(page.locator("textarea[name=notes]")).to_have_value(NOTES)

    page.click("form[data-form=visit] button[type=submit]")
    page.wait_for_selector(f"#visits [data-visit='{visit_id}']")
    wait_synced(page)
    assert drafts(page, worker) == []
    with db.read() as s:
        visit = s.exec(select(Visit).where(Visit.id == uuid.UUID(str(visit_id)))).one()
    assert (visit.notes, visit.outcome, visit.photos) == (NOTES, "nobody_home", [photo])

    # The next visit starts empty.
    page.goto(form_url)
    page.wait_for_selector("form[data-form=visit]")
    expect(page.locator("textarea[name=notes]")).to_have_value("")
    assert page.locator(".draft-note").count() == 0
    assert problems == []


def test_a_draft_can_be_thrown_away(
    phone: BrowserContext, live_server: LiveServer, home: tuple[User, Household]
) -> None:
    worker, household = home
    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    page.goto(live_server.url + f"/app/#/h/{household.id}/demand")
    page.fill("textarea[name=description]", "楼道灯坏了")
    wait_for_draft(page, worker, "楼道灯坏了")
    page.reload()
    page.click("[data-action=discard-draft]")
    page.wait_for_function("() => !document.querySelector('.draft-note')")
    expect(page.locator("textarea[name=description]")).to_have_value("")
    assert drafts(page, worker) == []
