"""No phone stuck on an old app (issue 22): a version the server no longer takes (setting
`app.require_latest`) updates before its push and keeps its entries (two real app versions, a
deploy between)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import col

from server import preferences
from server.db import Database
from server.models import Visit
from tests.browser.field import pending, sign_in, wait_synced
from tests.browser.test_field_app import count, record_visit
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("rule", ["require_latest", "minimum_version"])
def test_a_version_the_server_no_longer_takes_updates_before_its_push_and_keeps_its_entries(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database, rule: str
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    home = make.household(grid, estate="芙蓉花园")
    worker = make.user(grids=[grid])
    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    old_version = page.get_attribute("body", "data-version")
    phone.route("**/sync/push", lambda route: route.abort("connectionrefused"))
    record_visit(page, home, "旧版本上的走访")
    assert pending(page) == 1

    live_server.env["DOORSTEP_BUILD_ID"] = uuid.uuid4().hex  # a deploy the phone has not seen
    live_server.restart()
    with db.write() as s:
        if rule == "require_latest":
            preferences.set(s, "app.require_latest", "on", None)
        else:  # the new version, which the server recorded as served when it started
            shell = phone.request.get(live_server.url + "/app/").text()
            found = re.search(r'data-version="(\w+)"', shell)
            assert found is not None and found.group(1) != old_version
            preferences.set(s, "app.minimum_version", found.group(1), None)
    phone.unroute("**/sync/push")
    page.click("#syncstate")  # 426: the phone updates itself before pushing
    page.wait_for_function(
        f"() => document.body.dataset.version && document.body.dataset.version !== '{old_version}'",
        timeout=60_000,
    )
    page.wait_for_selector("body[data-ready]")
    wait_synced(page, timeout=30_000)
    assert count(db, Visit, col(Visit.notes) == "旧版本上的走访") == 1


def _version(page: Page) -> str:
    return page.get_attribute("body", "data-version") or ""


def _deploy(page: Page, live_server: LiveServer) -> None:
    """A new version on the server, which the phone finds and keeps waiting behind its banner."""
    live_server.env["DOORSTEP_BUILD_ID"] = uuid.uuid4().hex
    live_server.restart()
    page.evaluate("navigator.serviceWorker.getRegistration('/app/').then((r) => r.update())")
    page.wait_for_selector("#banner [data-action=apply-update]", timeout=30_000)


def _navigate(page: Page, tab: str) -> None:
    page.click(f"#tabbar a[href='{tab}']")
    page.wait_for_selector(f"#tabbar a[href='{tab}'][aria-current=page]")
    page.wait_for_timeout(2_000)  # time enough for an update to start, if it were going to


def test_a_new_version_waits_for_consent_then_after_the_grace_period_applies_itself_at_a_navigation_with_nothing_waiting(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    home = make.household(grid, estate="芙蓉花园")
    worker = make.user(grids=[grid])
    page = phone.new_page()
    start = datetime.now(UTC)
    page.clock.install(time=start)
    sign_in(page, live_server, worker.username)
    old = _version(page)
    _deploy(page, live_server)

    _navigate(page, "#/outbox")  # within the grace period (3 days): only the banner says so
    assert _version(page) == old
    assert page.is_visible("#banner [data-action=apply-update]")

    phone.route("**/sync/push", lambda route: route.abort("connectionrefused"))
    record_visit(page, home, "宽限期后的走访")
    assert pending(page) == 1
    page.clock.set_system_time(start + timedelta(days=3, minutes=1))
    _navigate(page, "#/households")  # past the grace period, but a visit waits: no update
    assert _version(page) == old and pending(page) == 1

    phone.unroute("**/sync/push")
    page.click("#syncstate")
    wait_synced(page, timeout=30_000)
    page.click("#tabbar a[href='#/outbox']")  # nothing waits now: this navigation updates
    page.wait_for_function(
        f"() => document.body.dataset.version && document.body.dataset.version !== '{old}'",
        timeout=60_000,  # a new worker, its cache and the app's boot, on a busy machine
    )
    page.wait_for_selector("body[data-ready]")
    assert page.url.endswith("#/outbox")
    assert count(db, Visit, col(Visit.notes) == "宽限期后的走访") == 1
