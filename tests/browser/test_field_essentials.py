"""What a worker needs at the door (issue 16, points 5 and 10): the travel-card ages from the
settings, numbers to call, a new household, the likely relation, a duplicate ID number warned."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import select

from server import preferences
from server.clock import local_today
from server.db import Database
from server.models import Demand, Household, Resident
from server.people import idnumber
from tests.browser.conftest import screenshot
from tests.browser.field import go_offline, go_online, open_app, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def years_ago(years: int) -> date:
    return date(local_today().year - years, 1, 1)


def goto(page: Page, hash_path: str) -> None:
    page.goto(page.url.split("#")[0] + "#" + hash_path)


def queued(page: Page) -> int:
    """Entries in the phone's outbox, as its store counts them."""
    return int(
        page.evaluate(
            "async () => { await window.doorstep.refreshStatus(); return window.doorstep.status.pending; }"
        )
    )


def test_the_discount_age_set_on_the_server_gives_a_62_year_old_the_card_button_on_the_phone(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    home = make.household(grid, estate="芙蓉花园", building="3栋", unit="1单元", room="201室")
    make.resident(home, name="王建国", relation="head", born=years_ago(40))
    aunt = make.resident(home, name="王阿姨", relation="parent", born=years_ago(62))
    worker = make.user("grid_worker", grids=[grid])

    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    goto(page, f"/h/{home.id}")
    page.wait_for_selector(f"[data-resident='{aunt.id}']")
    assert page.locator("[data-start-card]").count() == 0  # the free age is 65 and there is no discount tier

    with db.write() as session:
        preferences.set(session, "travel_card.discount_age", 60, None)
    page.click("#syncstate")  # the next sync brings the settings with it
    button = page.wait_for_selector(f"[data-start-card='{aunt.id}']", timeout=10_000)
    assert button is not None and button.get_attribute("data-tier") == "discount"
    assert "优惠" in (button.text_content() or "")
    screenshot(page, "essentials-01-discount-card-button")

    # Offline, and after a reload, the phone keeps the rule it was given.
    go_offline(phone, live_server)
    open_app(page, live_server, f"/app/#/h/{home.id}")
    page.wait_for_selector(f"[data-start-card='{aunt.id}'][data-tier=discount]")
    page.click(f"[data-start-card='{aunt.id}']")
    page.wait_for_selector("form[data-form=card]")
    assert page.locator("#view .error").count() == 0  # no "under age" warning at the door
    go_online(phone, live_server)


def test_household_resident_and_request_contacts_are_tel_links(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    home = make.household(grid, estate="芙蓉花园", phone="13812345678")
    head = make.resident(home, name="张秀英", relation="head", phone="13900001111")
    worker = make.user("grid_worker", grids=[grid])

    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    goto(page, f"/h/{home.id}")
    page.wait_for_selector(f"[data-resident='{head.id}']")
    household_call = page.locator("dl.facts a[href^='tel:']")
    assert household_call.get_attribute("href") == "tel:13812345678"
    assert household_call.text_content() == "138****5678"  # masked on screen
    resident_call = page.locator(f"[data-resident='{head.id}'] a[href^='tel:']")
    assert resident_call.get_attribute("href") == "tel:13900001111"
    assert resident_call.text_content() == "139****1111"
    screenshot(page, "essentials-02-household-tel-links")

    go_offline(phone)
    goto(page, f"/h/{home.id}/demand")
    page.fill("textarea[name=description]", "楼道灯坏了")
    page.fill("input[name=contact_name]", "李先生")
    page.fill("input[name=contact_phone]", "13755556666")
    page.click("form[data-form=demand] button[type=submit]")
    page.wait_for_selector(f"[data-household='{home.id}'] h1")
    page.click("a[href^='#/d/']")
    contact = page.wait_for_selector("[data-contact]")
    assert contact is not None and "李先生" in (contact.text_content() or "")
    assert page.get_attribute("[data-contact] a", "href") == "tel:13755556666"
    assert page.text_content("[data-contact] a") == "137****6666"
    screenshot(page, "essentials-02-request-contact-tel")
    go_online(phone)
    wait_synced(page)
    with db.read() as session:
        demand = session.exec(select(Demand).where(Demand.household_id == home.id)).one()
    assert demand.contact_name == "李先生" and demand.contact_phone == "13755556666"


def test_a_household_added_offline_reaches_the_server_with_its_first_resident(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    make.household(grid, estate="桂花苑")
    worker = make.user("grid_worker", grids=[grid])

    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    go_offline(phone, live_server)
    page.click("[data-new-household]")
    page.fill("input[name=estate]", "桂花苑")
    page.fill("input[name=building]", "5栋")
    page.fill("input[name=unit]", "2单元")
    page.fill("input[name=room]", "1002室")
    page.select_option("select[name=kind]", "rental")
    page.fill("input[name=phone]", "13812340000")
    screenshot(page, "essentials-03-new-household-form")
    page.click("form[data-form=household-new] button[type=submit]")
    heading = page.wait_for_selector("[data-household] h1")
    assert heading is not None and "桂花苑 5栋 2单元 1002室" in (heading.text_content() or "")
    assert "待同步" in (heading.text_content() or "")
    household_id = page.get_attribute("section[data-household]", "data-household") or ""
    screenshot(page, "essentials-03-new-household-saved-offline")

    # Its first resident is the head; the list finds it offline.
    page.click(f"a[href='#/h/{household_id}/resident']")
    page.wait_for_selector("form[data-form=resident]")
    assert page.input_value("select[name=relation]") == "head"
    page.fill("input[name=name]", "周立新")
    page.click("form[data-form=resident] button[type=submit]")
    page.wait_for_selector(f"[data-household='{household_id}'] ~ section li.resident")
    goto(page, "/households?q=1002")
    page.wait_for_selector(f"#households a[data-household='{household_id}']")
    assert queued(page) == 2

    go_online(phone, live_server)
    wait_synced(page)
    with db.read() as session:
        created = session.get(Household, uuid.UUID(household_id))
        assert created is not None
        assert created.address == "桂花苑 5栋 2单元 1002室" and created.grid_id == grid.id
        assert created.kind == "rental" and created.phone == "13812340000"
        residents = session.exec(select(Resident).where(Resident.household_id == created.id)).all()
    assert [(r.name, r.relation) for r in residents] == [("周立新", "head")]


def test_a_new_resident_defaults_to_spouse_then_child_when_the_household_has_a_head(
    live_server: LiveServer, phone: BrowserContext, make: Factory
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    couple = make.household(grid, estate="芙蓉花园")
    make.resident(couple, name="刘强", relation="head")
    family = make.household(grid, estate="芙蓉花园")
    make.resident(family, name="陈明", relation="head")
    make.resident(family, name="林芳", relation="spouse")
    empty = make.household(grid, estate="芙蓉花园")
    worker = make.user("grid_worker", grids=[grid])

    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    for household, relation in ((couple, "spouse"), (family, "child"), (empty, "head")):
        goto(page, f"/h/{household.id}/resident")
        page.wait_for_selector(f"form[data-form=resident][data-household='{household.id}']")
        assert page.input_value("select[name=relation]") == relation, household.address


def test_a_duplicate_id_number_is_warned_at_entry_naming_its_household_and_nothing_is_queued(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    there = make.household(grid, estate="桂花苑", building="5栋", unit="2单元", room="1002室")
    number = idnumber.make("360121", date(1956, 3, 8), 127)
    make.resident(there, name="罗桂英", relation="head", id_number=number)
    here = make.household(grid, estate="芙蓉花园")
    make.resident(here, name="罗建华", relation="head")
    worker = make.user("grid_worker", grids=[grid])

    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    go_offline(phone)
    goto(page, f"/h/{here.id}/resident")
    page.fill("input[name=name]", "罗桂英")
    page.fill("input[name=id_number]", number)
    warning = page.wait_for_selector("[data-id-holder]:not([hidden])")
    assert warning is not None
    text = warning.text_content() or ""
    assert idnumber.mask(number) in text and "桂花苑 5栋 2单元 1002室" in text and "罗桂英" in text
    assert number not in text
    assert warning.get_attribute("data-household") == str(there.id)
    screenshot(page, "essentials-04-duplicate-id-warned")

    page.click("form[data-form=resident] button[type=submit]")
    page.wait_for_selector("form[data-form=resident] button[type=submit]:not([disabled])")
    assert page.locator("form[data-form=resident]").count() == 1  # still on the form
    assert queued(page) == 0

    # A different number clears the warning; checked and confirmed, the worker may save.
    other = idnumber.make("360121", date(1956, 3, 8), 129)
    page.fill("input[name=id_number]", other)
    page.wait_for_selector("[data-id-holder]", state="hidden")
    page.fill("input[name=id_number]", number)
    page.wait_for_selector("[data-id-holder]:not([hidden])")
    page.check("input[name=id_checked]")
    page.click("form[data-form=resident] button[type=submit]")
    page.wait_for_selector(f"[data-household='{here.id}'] h1")
    assert queued(page) == 1
    go_online(phone)
    wait_synced(page)
    with db.read() as session:
        added = session.exec(
            select(Resident).where(Resident.household_id == here.id, Resident.name == "罗桂英")
        ).one()
    assert added.id_masked == idnumber.mask(number)
