"""The phone counts a request's time limit in working days, offline, as the office does (issue 20):
"剩 N 个工作日" and the 预警 colour from the calendar it got with its labels; after 办结 it
shows the resident a QR of their own rating link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext

from server.db import Database
from server.models import Demand
from server.queries.demands import left_text
from server.workflows import demands as demand_flow
from server.workflows.workdays import TimeLimit, calendar_of
from tests.browser.conftest import screenshot
from tests.browser.field import go_offline, sign_in
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_the_phone_shows_what_is_left_in_working_days_offline_and_the_rating_qr(
    phone: BrowserContext, live_server: LiveServer, make: Factory, db: Database
) -> None:
    grid = make.grid()
    worker = make.user("grid_worker", grids=[grid])
    home = make.household(grid)
    now = datetime.now(UTC)
    calendar = calendar_of({})

    def demand(limit: str, started: datetime, status: str = "accepted", **kw: object) -> Demand:
        return make._save(
            Demand(
                community_id=grid.community_id,
                grid_id=grid.id,
                household_id=home.id,
                field="infrastructure",
                description="楼道灯坏了",
                source="visit",
                status=status,
                handling_type="self",
                assignee_id=worker.id,
                time_limit=limit,
                deadline=TimeLimit.parse(limit).deadline(calendar, started),
                **kw,
            )
        )

    fresh = demand("7", now)
    late = demand("4h", now - timedelta(hours=5))
    resolved = demand("3", now - timedelta(days=2), status="resolved", rating_token="tok-" + "a" * 24)
    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    go_offline(phone, live_server)
    base = page.url.split("#")[0]
    page.goto(base + "#/demands")
    page.wait_for_selector(f"[data-demand='{fresh.id}'] [data-warning]")
    for row, level in ((fresh, "ok"), (late, "overdue")):
        badge = page.locator(f"[data-demand='{row.id}'] [data-warning]")
        expected = left_text(demand_flow.time_left(row, calendar, datetime.now(UTC)))
        assert (badge.get_attribute("data-warning"), badge.inner_text()) == (level, expected)
    assert page.locator(f"[data-demand='{late.id}'] [data-warning]").inner_text().startswith("超期 1")
    screenshot(page, "demands-time-left-360")
    page.goto(base + f"#/d/{resolved.id}")
    qr = page.wait_for_selector("[data-rating-qr] img")
    assert qr is not None and qr.get_attribute("src") == f"/demands/{resolved.id}/rating-qr.svg"
