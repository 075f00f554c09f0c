"""Signing in on a new phone (issue 16, point 8): the first download has a screen of its own
with a real count, and the emptied login form never sits under "正在同步"."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import BrowserContext, Route, expect

from server.models import User
from tests.browser.conftest import screenshot, watch_console
from tests.browser.field import open_app, open_households, wait_synced
from tests.conftest import PASSWORD, Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser

HOUSEHOLDS = 4100  # three pull pages (rule 12: 2,000 changes)


@pytest.fixture
def big_grid_worker(make: Factory) -> User:
    grid = make.grid(name="芙蓉大网格")
    make.many_households(grid, HOUSEHOLDS)
    return make.user("grid_worker", grids=[grid])


def test_the_first_sync_shows_how_far_the_download_has_come(
    phone: BrowserContext, live_server: LiveServer, big_grid_worker: User
) -> None:
    page = phone.new_page()
    problems = watch_console(page)
    held: list[Route] = []
    asked: list[str] = []

    def hold_the_third_page(route: Route) -> None:
        # The phone asks for two pages ahead of the one it writes: holding the third
        # leaves the first written and on screen.
        asked.append(json.loads(route.request.post_data or "{}").get("cursor") or "")
        if len(asked) == 3:
            held.append(route)  # answered below
        else:
            route.continue_()

    page.route("**/sync/pull", hold_the_third_page)
    open_app(page, live_server)
    page.fill("input[name=username]", big_grid_worker.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-form=login] button[type=submit]")

    halfway = page.wait_for_selector("#first-sync[data-total]:not([data-received='0'])")
    assert halfway is not None
    received, total = (
        int(halfway.get_attribute("data-received") or 0),
        int(halfway.get_attribute("data-total") or 0),
    )
    assert 0 < received < total
    assert total >= HOUSEHOLDS
    expect(page.locator("#first-sync-count")).to_contain_text(f"{received:,} / {total:,}")
    assert page.locator("form[data-form=login]").count() == 0
    expect(page.locator("#syncstate")).not_to_contain_text("已全部同步")
    screenshot(page, "first-sync-progress")

    held[0].continue_()
    page.wait_for_selector("#tabbar a")
    wait_synced(page)
    open_households(page)
    expect(page.locator("#household-count")).to_contain_text(f"共 {HOUSEHOLDS} 户")
    assert page.locator("#first-sync").count() == 0
    assert problems == []
