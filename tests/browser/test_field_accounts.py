"""Two workers on one phone: sign-out keeps unsynced work for its owner only (SYNC.md rule 1).
Also screenshots the field screens the other tests do not reach."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext
from sqlmodel import select

from server.db import Database
from server.models import SyncClient, Visit
from tests.browser.conftest import screenshot
from tests.browser.field import go_offline, go_online, open_app, pending, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_sign_out_keeps_unsynced_work_for_its_owner_only(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第四网格")
    home = make.household(grid, estate="城中小区", building="1栋", unit="1单元", room="201室")
    make.resident(home, name="黄建华", relation="head")
    first, second = make.user("grid_worker", grids=[grid]), make.user("grid_worker", grids=[grid])

    page = phone.new_page()
    dialogs: list[str] = []

    def answer(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    sign_in(page, live_server, first.username)
    base = page.url.split("#")[0]
    go_offline(phone, live_server)
    page.goto(base + f"#/h/{home.id}/visit")
    page.fill("textarea[name=notes]", "甲的走访，还没同步")
    page.click("form[data-form=visit] button[type=submit]")
    page.wait_for_selector(f"[data-household='{home.id}'] h1")
    assert pending(page) == 1

    page.goto(base + f"#/h/{home.id}/resident")
    screenshot(page, "field-13-resident-form")
    page.goto(base + f"#/h/{home.id}/demand")
    screenshot(page, "field-14-demand-form")
    page.goto(base + "#/demands")
    screenshot(page, "field-15-demands")
    page.goto(base + "#/me")
    warning = page.wait_for_selector("text=还有 1 条没有同步")
    assert warning is not None
    screenshot(page, "field-16-me-with-unsynced")
    page.click("[data-action=logout]")
    page.wait_for_selector("form[data-form=login]")
    assert dialogs and "1 条没有同步" in dialogs[0]  # asked before signing out

    go_online(phone, live_server)
    open_app(page, live_server)
    sign_in(page, live_server, second.username)
    wait_synced(page)
    assert pending(page) == 0  # the first worker's visit is not in the second worker's outbox
    with db.read() as s:
        assert s.exec(select(Visit).where(Visit.notes == "甲的走访，还没同步")).first() is None
        assert (
            s.exec(select(SyncClient).where(SyncClient.user_id == first.id)).first() is None
        )  # nothing sent yet

    page.goto(base + "#/me")
    page.click("[data-action=logout]")
    page.wait_for_selector("form[data-form=login]")
    sign_in(page, live_server, first.username)
    wait_synced(page)
    with db.read() as s:
        visit = s.exec(select(Visit).where(Visit.notes == "甲的走访，还没同步")).one()
        assert visit.worker_id == first.id  # sent later, under its owner
