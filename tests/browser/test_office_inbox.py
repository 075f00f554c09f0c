"""消息 on office pages: the nav's count (htmx), the inbox, a notice opened and marked read (issue 19)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from sqlmodel import select

from server.commands import demands as dm
from server.db import Database
from server.models import Community, Notice
from tests.browser.conftest import PHONE, screenshot, watch_console
from tests.browser.conftest import sign_in as office_sign_in
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_staff_see_the_count_open_the_notice_and_it_is_read(
    live_server: LiveServer, browser: Browser, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第三网格")
    staff = make.user("community_staff")
    with db.read() as s:
        community = s.get(Community, grid.community_id)
    assert community is not None
    with db.write() as s:
        demand = dm.submit_public(
            s, community=community, data={"field": "environment", "description": "小区门口垃圾三天没人清运"}
        )

    context = browser.new_context(**PHONE)  # the office pages on a phone, at 360 × 740
    page = context.new_page()
    problems = watch_console(page)
    office_sign_in(page, live_server, staff.username, next="/demands")
    page.wait_for_selector("#inbox-count .count")
    assert page.text_content("#inbox-count .count") == "1"
    page.click("a.inbox-link")
    page.wait_for_selector("#inbox[data-unread='1']")
    assert "居民提交了新诉求" in (page.text_content("#inbox") or "")
    screenshot(page, "office-inbox-01-unread")
    with db.read() as s:
        notice = s.exec(select(Notice).where(Notice.user_id == staff.id)).one()
    assert notice.delivered_at is not None and notice.read_at is None

    page.click(f"#notice-{notice.id} button.title")
    page.wait_for_url(f"**/demands/{demand.id}*")
    with db.read() as s:
        assert s.exec(select(Notice).where(Notice.user_id == staff.id)).one().read_at is not None
    page.wait_for_selector("#inbox-count", state="attached")
    assert page.locator("#inbox-count .count").count() == 0
    page.goto(f"{live_server.url}/notices")
    page.wait_for_selector("#inbox[data-unread='0']")
    screenshot(page, "office-inbox-02-read")
    assert problems == []
    context.close()
