"""Moving around the field app at 360×740 (issue 16, points 1, 2, 9 and the app bar of 10):
every screen opens at the top, going back restores the list, a save lands on the record
written and its confirmation stays on screen, and the first screen is painted once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import select

from server.db import Database
from server.models import Household, User, Visit
from tests.browser.conftest import screenshot, watch_console
from tests.browser.field import go_offline, open_app, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


@dataclass
class Street:
    worker: User
    households: list[Household]
    big: Household  # ten residents: its visits sit below the fold


@pytest.fixture
def street(make: Factory) -> Street:
    grid = make.grid(name="芙蓉第二网格")
    households = [make.household(grid, estate="芙蓉花园", phone=f"1390000{n:04d}") for n in range(40)]
    for n, household in enumerate(households):
        make.resident(household, name=f"住户{n}", relation="head", born=date(1980, 1, 1 + n % 28))
    big = households[0]
    for n in range(9):
        make.resident(big, name=f"家人{n}", relation="child", born=date(2000 + n, 2, 1))
    return Street(worker=make.user("grid_worker", grids=[grid]), households=households, big=big)


def scroll_y(page: Page) -> float:
    return float(page.evaluate("() => window.scrollY"))


def in_viewport(page: Page, selector: str) -> bool:
    return bool(
        page.evaluate(
            "(s) => { const r = document.querySelector(s).getBoundingClientRect();"
            " return r.top >= 0 && r.bottom <= window.innerHeight; }",
            selector,
        )
    )


def test_a_household_opens_at_the_top_and_back_restores_the_list(
    phone: BrowserContext, live_server: LiveServer, street: Street
) -> None:
    page = phone.new_page()
    problems = watch_console(page)
    sign_in(page, live_server, street.worker.username)
    page.evaluate("() => window.scrollTo(0, 1500)")
    page.wait_for_function("() => window.scrollY >= 1400")
    left_at = scroll_y(page)
    # The row at the middle of the screen, as a thumb would pick it.
    household_id = page.evaluate(
        "() => [...document.querySelectorAll('#households [data-household]')].find((a) => {"
        " const r = a.getBoundingClientRect(); return r.top <= 370 && r.bottom >= 330; }).dataset.household"
    )
    page.click(f"#households [data-household='{household_id}']")
    page.wait_for_selector(f"section[data-household='{household_id}'] h1")
    assert scroll_y(page) == 0
    assert in_viewport(page, f"section[data-household='{household_id}'] h1")
    expect(page.locator("#apptitle")).to_have_text("住户详情")
    expect(page.locator("#back")).to_be_visible()
    screenshot(page, "navigation-household-at-top")

    # A form opened from the scrolled household page starts at the top too.
    page.evaluate("() => window.scrollTo(0, 300)")
    page.click(f"a[href='#/h/{household_id}/visit']")
    page.wait_for_selector("form[data-form=visit]")
    assert scroll_y(page) == 0
    expect(page.locator("#apptitle")).to_have_text("记录走访")

    page.click("#back")
    page.wait_for_selector(f"section[data-household='{household_id}'] h1")
    page.click("#back")
    page.wait_for_selector("#households")
    page.wait_for_function(f"() => Math.abs(window.scrollY - {left_at}) <= 2")
    expect(page.locator("#back")).to_be_hidden()
    expect(page.locator("#apptitle")).to_have_text("住户")
    assert problems == []


def test_a_saved_visit_is_shown_highlighted_and_its_confirmation_outlives_the_sync(
    phone: BrowserContext, live_server: LiveServer, street: Street, db: Database
) -> None:
    page = phone.new_page()
    sign_in(page, live_server, street.worker.username)
    big = street.big
    page.click(f"#households [data-household='{big.id}']")
    page.wait_for_selector(f"section[data-household='{big.id}'] h1")
    page.click(f"a[href='#/h/{big.id}/visit']")
    page.fill("textarea[name=notes]", "老人身体还好，门口台阶需要修。")
    visit_id = page.get_attribute("form[data-form=visit]", "data-visit")
    page.click("form[data-form=visit] button[type=submit]")

    row = f"#visits [data-visit='{visit_id}']"
    page.wait_for_selector(f"{row}.just-saved")
    assert in_viewport(page, row)
    notice = page.locator("#notice")
    expect(notice).to_have_attribute("role", "status")
    expect(notice).to_have_text("走访已保存，联网后同步。")
    # The save's own sync repaints the screen; the confirmation stays for seconds.
    wait_synced(page)
    page.wait_for_timeout(1500)
    expect(notice).to_be_visible()
    expect(notice).to_have_text("走访已保存，联网后同步。")
    screenshot(page, "navigation-visit-saved")
    with db.read() as s:
        assert (
            s.exec(select(Visit).where(Visit.id == uuid.UUID(str(visit_id)))).one().notes.startswith("老人")
        )

    # Back from the household goes to the list, not into the form again; the notice goes.
    page.click("#back")
    page.wait_for_selector("#households")
    expect(notice).to_be_hidden()


def test_the_first_screen_is_painted_once(
    phone: BrowserContext, live_server: LiveServer, street: Street
) -> None:
    page = phone.new_page()
    page.add_init_script(
        "window.__paints = 0; document.addEventListener('rendered', () => { window.__paints += 1; });"
    )
    open_app(page, live_server)
    page.fill("input[name=username]", street.worker.username)
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__paints") == 1
    expect(page.locator("input[name=username]")).to_have_value(street.worker.username)
    assert page.url.endswith("#/login")


def test_a_screen_opened_directly_goes_back_to_its_parent(
    phone: BrowserContext, live_server: LiveServer, street: Street
) -> None:
    page = phone.new_page()
    sign_in(page, live_server, street.worker.username)
    household = street.households[5]
    fresh = phone.new_page()  # as from a notification: nothing before it in this tab
    fresh.goto(live_server.url + f"/app/#/h/{household.id}/visit")
    fresh.wait_for_selector("form[data-form=visit]")
    page.close()
    page = fresh
    page.click("#back")
    page.wait_for_selector(f"section[data-household='{household.id}'] h1")
    page.click("#back")
    page.wait_for_selector("#households")


def test_an_offline_round_list_household_visit_outbox(
    phone: BrowserContext, live_server: LiveServer, street: Street, db: Database
) -> None:
    """The round the issue asks to look at: offline, list → household → visit saved → outbox."""
    page = phone.new_page()
    problems = watch_console(page, ignore=("Failed to fetch", "ERR_CONNECTION_REFUSED", "net::"))
    sign_in(page, live_server, street.worker.username)
    go_offline(phone, live_server)
    screenshot(page, "round-1-list")
    household = street.households[3]
    page.fill("input[name=q]", household.address)
    page.click("form[data-form=search] button[type=submit]")
    page.click(f"#households [data-household='{household.id}']")
    page.wait_for_selector(f"section[data-household='{household.id}'] h1")
    screenshot(page, "round-2-household")
    page.click(f"a[href='#/h/{household.id}/visit']")
    page.fill("textarea[name=notes]", "家里没人，邻居说老人去女儿家了。")
    page.select_option("select[name=outcome]", "nobody_home")
    visit_id = page.get_attribute("form[data-form=visit]", "data-visit")
    page.click("form[data-form=visit] button[type=submit]")
    page.wait_for_selector(f"#visits [data-visit='{visit_id}'].just-saved")
    expect(page.locator("#notice")).to_have_text("走访已保存，联网后同步。")
    expect(page.locator(f"#visits [data-visit='{visit_id}'] [data-sync=pending]")).to_be_visible()
    screenshot(page, "round-3-visit-saved")
    page.click("#tabbar a[href='#/outbox']")
    page.wait_for_selector("#outbox-summary")
    expect(page.locator("#view")).to_contain_text(household.address)
    expect(page.locator("#syncstate")).to_contain_text("离线")
    screenshot(page, "round-4-outbox")
    with db.read() as s:
        assert s.exec(select(Visit).where(Visit.id == uuid.UUID(str(visit_id)))).first() is None
    assert problems == []
