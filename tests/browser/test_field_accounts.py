"""Two workers on one phone: sign-out keeps unsynced work for its owner only (SYNC.md rule 1)
and nothing else of the residents' data; a disabled account is wiped (docs/offline.md "Sign-out").
Also screenshots the field screens the other tests do not reach."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page
from sqlmodel import select

from server.commands import users
from server.db import Database
from server.models import Blob, Household, SyncClient, User, Visit
from tests.browser.conftest import screenshot
from tests.browser.field import camera_photo, go_offline, go_online, open_app, pending, sign_in, wait_synced
from tests.conftest import PASSWORD, Factory
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
    confirm_sign_out(page, 1)

    go_online(phone, live_server)
    open_app(page, live_server)
    sign_in(page, live_server, second.username)
    wait_synced(page)
    assert pending(page) == 0  # the first worker's visit is not in the second worker's outbox
    with db.read() as s:
        assert s.exec(select(Visit).where(Visit.notes == "甲的走访，还没同步")).first() is None
        sent = s.exec(select(SyncClient.last_mutation_id).where(SyncClient.user_id == first.id)).all()
        assert sent in ([], [0])  # nothing sent yet (its first pull may have registered the client)

    page.goto(base + "#/me")
    page.click("[data-action=logout]")
    page.wait_for_selector("form[data-form=login]")
    sign_in(page, live_server, first.username)
    wait_synced(page)
    with db.read() as s:
        visit = s.exec(select(Visit).where(Visit.notes == "甲的走访，还没同步")).one()
        assert visit.worker_id == first.id  # sent later, under its owner


# What is on the phone, read in the page: IndexedDB databases, a user database's keys
# (outbox entries whole), the shared database's signed-in user, Cache Storage photos.
ON_PHONE = """async (name) => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  const opened = (db) => new Promise((ok, no) => { const r = indexedDB.open(db); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  const all = (db, store, what) => new Promise((ok, no) => {
    const r = db.transaction(store).objectStore(store)[what](); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  let stores = null;
  if (name && names.includes(name)) {
    const db = await opened(name);
    stores = {};
    for (const store of ["records", "overlay", "blobs", "meta"]) stores[store] = await all(db, store, "getAllKeys");
    stores.outbox = await all(db, "outbox", "getAll");
    db.close();
  }
  const shared = await opened("doorstep");
  const signedIn = await all(shared, "kv", "getAllKeys");
  shared.close();
  const photos = [];
  for (const cacheName of await caches.keys()) {
    for (const request of await (await caches.open(cacheName)).keys()) {
      const path = new URL(request.url).pathname;
      if (path.startsWith("/sync/blobs/")) photos.push(path.slice("/sync/blobs/".length));
    }
  }
  return { names, stores, signedIn, photos };
}"""


def on_phone(page: Page, user: User | None = None) -> dict[str, Any]:
    return page.evaluate(ON_PHONE, f"doorstep-{user.id}" if user else None)  # type: ignore[no-any-return]


def confirm_sign_out(page: Page, waiting: int, *, shot: str | None = None) -> None:
    """Sign out from the account screen, answering the page's own confirmation."""
    page.goto(page.url.split("#")[0] + "#/me")
    page.click("[data-action=logout]")
    confirm = page.wait_for_selector("#sign-out-confirm")
    assert confirm is not None
    text = confirm.inner_text()
    assert f"还有 {waiting} 条没有同步" in text and "其余住户资料会从手机上删除" in text
    if shot:
        page.evaluate(
            "window.scrollTo(0, 0)"
        )  # a full-page shot of a scrolled page repeats the sticky header
        screenshot(page, shot)
    page.click("[data-action=logout-confirmed]")
    page.wait_for_selector("form[data-form=login]")


def record_visit(page: Page, home: Household, notes: str, *, photo_size: int) -> str:
    """A visit with one photo, recorded on the phone; returns the photo's name (SHA-256)."""
    page.goto(page.url.split("#")[0] + f"#/h/{home.id}/visit")
    page.fill("textarea[name=notes]", notes)
    page.set_input_files("input[data-photo=visit-photos]", camera_photo(photo_size))  # type: ignore[arg-type]
    hidden = page.wait_for_selector("#visit-photos input[type=hidden]", state="attached")
    assert hidden is not None
    sha = str(hidden.get_attribute("value"))
    page.click("form[data-form=visit] button[type=submit]")
    page.wait_for_selector(f"[data-household='{home.id}'] h1")
    return sha


def view_photo(page: Page, sha: str) -> None:
    """Fetch a photo as a screen would: the service worker keeps it for offline viewing."""
    assert page.evaluate("(sha) => fetch('/sync/blobs/' + sha).then((r) => r.status)", sha) == 200


def with_a_viewed_photo(
    phone: BrowserContext, server: LiveServer, make: Factory
) -> tuple[Page, User, Household, str]:
    """A worker signed in, with a synced visit whose photo the phone has also cached."""
    worker, home = grid_with_home(make)
    page = phone.new_page()
    sign_in(page, server, worker.username)
    sha = record_visit(page, home, "上周的走访", photo_size=640)
    wait_synced(page)
    view_photo(page, sha)
    return page, worker, home, sha


def grid_with_home(make: Factory) -> tuple[User, Household]:
    grid = make.grid(name="芙蓉第五网格")
    home = make.household(grid, estate="城中小区", building="2栋", unit="1单元", room="302室")
    make.resident(home, name="李秀英", relation="head")
    return make.user("grid_worker", grids=[grid]), home


def test_sign_out_with_nothing_pending_leaves_nothing_of_the_grid(
    live_server: LiveServer, phone: BrowserContext, make: Factory
) -> None:
    page, worker, _, sha = with_a_viewed_photo(phone, live_server, make)
    before = on_phone(page, worker)
    assert before["stores"]["records"] and before["stores"]["blobs"] == [sha] and before["photos"] == [sha]
    assert before["signedIn"] == ["user"]

    page.goto(page.url.split("#")[0] + "#/me")
    assert page.wait_for_selector("text=退出后，住户资料会从这台手机上删除") is not None
    page.click("[data-action=logout]")  # nothing waits: no question asked
    page.wait_for_selector("form[data-form=login]")

    after = on_phone(page, worker)
    assert f"doorstep-{worker.id}" not in after["names"] and after["stores"] is None
    assert after["photos"] == [] and after["signedIn"] == []


def test_sign_out_with_a_pending_visit_keeps_only_it_and_its_photo_until_its_owner_returns(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    page, worker, home, _ = with_a_viewed_photo(phone, live_server, make)
    go_offline(phone, live_server)
    kept = record_visit(page, home, "楼道里记的走访，还没同步", photo_size=480)
    assert pending(page) == 2  # the visit and its photo

    confirm_sign_out(page, 2, shot="field-17-sign-out-confirm-pending")
    left = on_phone(page, worker)
    stores = left["stores"]
    assert stores is not None and stores["records"] == [] and stores["overlay"] == []
    assert [e["args"]["notes"] for e in stores["outbox"]] == ["楼道里记的走访，还没同步"]
    assert stores["blobs"] == [kept]  # the photo it needs; the uploaded one is gone
    assert "cursor" not in stores["meta"] and "client_id" in stores["meta"]
    assert left["photos"] == [] and left["signedIn"] == []

    go_online(phone, live_server)
    sign_in(page, live_server, worker.username)
    wait_synced(page)
    with db.read() as s:
        visit = s.exec(select(Visit).where(Visit.notes == "楼道里记的走访，还没同步")).one()
        assert visit.worker_id == worker.id and visit.photos == [kept]
        assert s.get(Blob, kept) is not None
    assert on_phone(page, worker)["stores"]["records"]  # the grid is back after the sign-in


def test_an_account_disabled_by_an_admin_is_wiped_at_its_next_sign_in(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    page, worker, home, sha = with_a_viewed_photo(phone, live_server, make)
    go_offline(phone, live_server)
    record_visit(page, home, "停用前记的走访", photo_size=480)
    with db.write() as s:
        users.set_active(s, actor=None, user_id=worker.id, active=False)
    go_online(phone, live_server)

    page.goto(page.url.split("#")[0] + "#/me")
    page.click("[data-action=sync-now]")
    page.wait_for_selector("#banner a[href='#/login']")  # a 401 alone keeps everything
    kept = on_phone(page, worker)
    assert kept["stores"]["outbox"] and kept["photos"] == [sha]
    page.click("#banner a[href='#/login']")
    page.fill("input[name=username]", worker.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[data-form=login] button[type=submit]")
    page.wait_for_selector("#login-error:has-text('账号已停用，手机上的资料已删除')")
    screenshot(page, "field-18-account-disabled")

    left = on_phone(page, worker)
    assert f"doorstep-{worker.id}" not in left["names"] and left["signedIn"] == []
    assert left["photos"] == []
    with db.read() as s:
        assert s.exec(select(Visit).where(Visit.notes == "停用前记的走访")).first() is None
