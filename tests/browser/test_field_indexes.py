"""The households screens read through IndexedDB indexes (issue 16, point 13), and a phone
whose database predates them (version 1) is upgraded in place, offline, losing nothing.

How fast the indexed reads are is measured in bench/field_bench.py, not here.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page

from tests.browser import field
from tests.browser.conftest import screenshot
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser

INDEXES = ["address", "name", "parent", "tail", "type", "words"]

# The user's database as it is, put back as schema version 1 (no indexed fields), then
# the page reloaded: the app opens it at its own version and must upgrade it.
AS_VERSION_1 = """async () => {
  const name = `doorstep-${window.doorstep.me.id}`;
  const open = (version, upgrade) => new Promise((ok, fail) => {
    const r = indexedDB.open(name, version); r.onupgradeneeded = () => upgrade && upgrade(r.result);
    r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const all = (db, store) => new Promise((ok) => { const out = []; const c = db.transaction(store).objectStore(store).openCursor();
    c.onsuccess = () => { const cur = c.result; if (!cur) return ok(out); out.push([cur.key, cur.value]); cur.continue(); }; });
  const db = window.doorstep.db;
  const saved = {};
  for (const store of ["records", "overlay", "outbox", "blobs", "meta"]) saved[store] = await all(db, store);
  db.close();
  await new Promise((ok) => { const r = indexedDB.deleteDatabase(name); r.onsuccess = ok; });
  const old = await open(1, (d) => {
    for (const s of ["records", "overlay"]) { const o = d.createObjectStore(s, { keyPath: ["type", "id"] });
      o.createIndex("type", "type"); o.createIndex("parent", ["type", "parent"]); }
    d.createObjectStore("outbox", { keyPath: "id" }); d.createObjectStore("blobs", { keyPath: "sha" }); d.createObjectStore("meta");
  });
  const tx = old.transaction(Object.keys(saved), "readwrite");
  for (const [store, rows] of Object.entries(saved)) {
    for (const [key, value] of rows) {
      if (store === "meta") tx.objectStore(store).put(value, key);
      else { const { sort, tail, words, ...plain } = value; tx.objectStore(store).put(plain); }
    }
  }
  await new Promise((ok) => { tx.oncomplete = ok; });
  const version = old.version; old.close();
  return version;
}"""

SCHEMA = """async () => {
  const db = await new Promise((ok) => { const r = indexedDB.open(`doorstep-${window.doorstep.me.id}`); r.onsuccess = () => ok(r.result); });
  const records = db.transaction("records").objectStore("records");
  const out = { version: db.version, indexes: [...records.indexNames].sort(),
    words: await new Promise((ok) => { const r = records.index("words").count(); r.onsuccess = () => ok(r.result); }) };
  db.close();
  return out;
}"""


def search(page: Page, query: str) -> list[str]:
    page.fill("input[name=q]", query)
    page.evaluate(
        "() => new Promise((done) => { document.getElementById('view').addEventListener('rendered', done, { once: true });"
        " document.querySelector('form[data-form=search]').requestSubmit(); })"
    )
    return addresses(page)


def addresses(page: Page) -> list[str]:
    return page.locator("#households li .title").all_inner_texts()


def test_households_are_found_through_indexes_also_after_upgrading_a_version_1_phone(
    live_server: LiveServer, phone: BrowserContext, make: Factory
) -> None:
    grid = make.grid()
    tall = make.household(
        grid, estate="幸福小区", building="10栋", unit="1单元", room="101室", phone="13900001234"
    )
    low = make.household(grid, estate="幸福小区", building="2栋", unit="1单元", room="101室")
    garden = make.household(grid, estate="桂花苑", building="3栋", unit="2单元", room="501室")
    make.resident(low, name="陈秀兰", relation="head", phone="13700005678")
    make.resident(garden, name="王建国", relation="head")
    worker = make.user("grid_worker", grids=[grid])
    page = phone.new_page()
    field.sign_in(page, live_server, worker.username)
    schema = page.evaluate(SCHEMA)
    assert (schema["version"], schema["indexes"]) == (3, INDEXES)

    assert page.evaluate(AS_VERSION_1) == 1
    field.go_offline(phone, live_server)
    page.reload()
    page.wait_for_selector("#households li")
    schema = page.evaluate(SCHEMA)
    assert (schema["version"], schema["indexes"]) == (3, INDEXES)
    assert schema["words"] > 3  # the rows kept from version 1 were given their index fields

    assert addresses(page) == [low.address, tall.address, garden.address]  # 2栋 before 10栋
    assert page.inner_text("#household-count").startswith("共 3 户")
    assert search(page, "幸福") == [low.address, tall.address]
    screenshot(page, "field-search-after-upgrade-360")
    assert search(page, "10栋") == [tall.address]
    assert search(page, "花苑 2单元") == [garden.address]  # a part of each part of the address
    assert search(page, "陈") == [low.address]  # the start of a resident's name
    assert search(page, "5678") == [low.address]  # a resident's phone
    assert search(page, "1234") == [tall.address]  # the household's phone
    assert search(page, "不存在") == []
    assert page.inner_text("#household-count").startswith("共 0 户")

    # Work done offline is found too: a resident added on the phone (in the overlay).
    page.goto(page.url.split("#")[0] + f"#/h/{tall.id}/resident")
    page.fill("input[name=name]", "李四")
    page.click("form[data-form=resident] button[type=submit]")
    page.wait_for_selector("#view[data-screen=household] >> text=李四")
    page.goto(page.url.split("#")[0] + "#/households")
    page.wait_for_selector("#households li")
    assert search(page, "李") == [tall.address]
