"""No phone stuck on an old app (issue 22): a version the server no longer takes (setting
`app.require_latest`) updates before its push and keeps its entries (two real app versions, a
deploy between)."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import BrowserContext
from sqlmodel import col

from server import preferences
from server.db import Database
from server.models import Visit
from tests.browser.field import pending, sign_in, wait_synced
from tests.browser.test_field_app import count, record_visit
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_a_version_the_server_no_longer_takes_updates_before_its_push_and_keeps_its_entries(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
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

    with db.write() as s:
        preferences.set(s, "app.require_latest", "on", None)
    live_server.env["DOORSTEP_BUILD_ID"] = uuid.uuid4().hex  # a deploy the phone has not seen
    live_server.restart()
    phone.unroute("**/sync/push")
    page.click("#syncstate")  # 426: the phone updates itself before pushing
    page.wait_for_function(
        f"() => document.body.dataset.version && document.body.dataset.version !== '{old_version}'",
        timeout=60_000,
    )
    page.wait_for_selector("body[data-ready]")
    wait_synced(page, timeout=30_000)
    assert count(db, Visit, col(Visit.notes) == "旧版本上的走访") == 1
