"""No phone stuck on an old app (issue 22): a new version waits for consent, and after the grace
period (setting `app.update_grace_days`) it is applied at the next navigation once the outbox is
empty — never while entries wait, and never losing one (two real app versions, a deploy between)."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import BrowserContext
from sqlmodel import col

from server import preferences
from server.db import Database
from server.models import Visit
from tests.browser.field import open_households, pending, sign_in, wait_synced
from tests.browser.test_field_app import count, record_visit
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_after_the_grace_period_the_update_applies_itself_once_the_outbox_is_empty(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    home = make.household(grid, estate="芙蓉花园")
    worker = make.user(grids=[grid])
    with db.write() as s:
        preferences.set(s, "app.update_grace_days", 0, None)  # the grace period is over at once
    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    old_version = page.get_attribute("body", "data-version")
    phone.route("**/sync/push", lambda route: route.abort("connectionrefused"))
    record_visit(page, home, "更新前的走访")
    assert pending(page) == 1

    live_server.env["DOORSTEP_BUILD_ID"] = uuid.uuid4().hex  # a deploy: a second version of the app
    live_server.restart()
    page.evaluate("navigator.serviceWorker.getRegistration('/app/').then((r) => r.update())")
    page.wait_for_selector("[data-action=apply-update]", timeout=20_000)

    # An entry waits: navigating keeps the old version, and the entry.
    open_households(page)
    page.click("#tabbar a[href='#/outbox']")
    page.wait_for_selector("#outbox-summary")
    assert page.get_attribute("body", "data-version") == old_version
    assert pending(page) == 1

    phone.unroute("**/sync/push")
    page.click("#syncstate")
    wait_synced(page)
    page.click("#tabbar a[href='#/households']")  # the next navigation, nothing waiting: it updates
    page.wait_for_function(
        f"() => document.body.dataset.version && document.body.dataset.version !== '{old_version}'",
        timeout=20_000,
    )
    page.wait_for_selector("body[data-ready]")
    assert pending(page) == 0
    assert count(db, Visit, col(Visit.notes) == "更新前的走访") == 1
