"""The household list as a work list (issue 17): filters by 小区/楼栋/单元, tag, status and
days since a completed visit find exactly the households the server's data says, each row
shows its last visit and key tags, a row of 楼栋 jumps to a building, and the filters
survive navigation and a reload — all of it offline, from IndexedDB."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import select

from server.clock import LOCAL_TZ
from server.db import Database
from server.models import Household, Resident, User, Visit
from server.models.base import utcnow
from server.workflows.visit_tasks import local_date
from tests.browser.conftest import screenshot, watch_console
from tests.browser.field import go_offline, open_households, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser

OFFLINE_NOISE = ("Failed to fetch", "ERR_CONNECTION_REFUSED", "ERR_INTERNET_DISCONNECTED", "net::")


@dataclass
class Grid:
    id: uuid.UUID
    worker: User
    homes: dict[str, Household]  # by a name the test uses


def add_visit(db: Database, home: Household, outcome: str, at: datetime) -> None:
    with db.write() as s:
        s.add(
            Visit(
                household_id=home.id,
                community_id=home.community_id,
                grid_id=home.grid_id,
                outcome=outcome,
                at=at,
            )
        )


@pytest.fixture
def grid(make: Factory, db: Database) -> Grid:
    """Two 小区, buildings whose numeric order is not their text order, tagged residents and
    visits on both sides of the 30- and 90-day lines; a second grid the worker never sees."""
    grid = make.grid(name="幸福网格")
    for sort, (code, name) in enumerate(
        (("alone", "独居老人"), ("elderly80", "高龄老人"), ("disabled", "残疾人"), ("poor", "低保户"))
    ):
        make.tag(code, name=name, sort=sort)
    places = {
        "fresh": ("幸福小区", "2栋", "1单元"),
        "month": ("幸福小区", "2栋", "2单元"),
        "edge": ("幸福小区", "10栋", "1单元"),
        "inside": ("幸福小区", "10栋", "1单元"),
        "old": ("幸福小区", "10栋", "2单元"),
        "never": ("芙蓉花园", "1栋", "1单元"),
        "third": ("芙蓉花园", "3栋", "1单元"),
    }
    homes = {
        name: make.household(grid, estate=estate, building=building, unit=unit, room=f"{101 + n}室")
        for n, (name, (estate, building, unit)) in enumerate(places.items())
    }
    make.household(grid, status="vacant", estate="芙蓉花园", building="3栋", unit="2单元", room="301室")
    make.resident(
        homes["fresh"], name="张大爷", relation="head", tags=["alone", "elderly80", "disabled", "poor"]
    )
    make.resident(homes["fresh"], name="张大妈", relation="spouse", tags=["alone"])
    make.resident(homes["old"], name="李奶奶", relation="head", tags=["alone"])
    make.resident(homes["never"], name="王叔", relation="head", tags=["disabled"])
    make.resident(homes["month"], name="赵阿姨", relation="head")
    now = utcnow()
    visits = [
        ("fresh", now - timedelta(days=5), "completed"),
        ("month", now - timedelta(days=40), "completed"),
        ("edge", now - timedelta(days=30), "completed"),  # 30 local days ago: not visited within 30 days
        ("inside", now - timedelta(days=29), "completed"),
        ("old", now - timedelta(days=100), "completed"),
        ("old", now - timedelta(days=2), "nobody_home"),  # does not count as a visit
    ]
    for name, at, outcome in visits:
        add_visit(db, homes[name], outcome, at)
    elsewhere = make.household(make.grid(name="别的网格"), estate="幸福小区", building="2栋")
    make.resident(elsewhere, name="不该看到", tags=["alone"])
    return Grid(id=grid.id, worker=make.user("grid_worker", grids=[grid]), homes=homes)


# --- what the server's data says ------------------------------------------------------------


def expected(db: Database, grid: Grid, **filters: str) -> set[str]:
    """The ids the work list should show for `filters`, computed from the database."""
    today = datetime.now(LOCAL_TZ).date()
    with db.read() as s:
        households = s.exec(select(Household).where(Household.grid_id == grid.id)).all()
        residents = s.exec(select(Resident)).all()
        visits = s.exec(select(Visit).where(Visit.outcome == "completed")).all()
    tags: dict[uuid.UUID, set[str]] = {}
    for r in residents:
        tags.setdefault(r.household_id, set()).update(r.tags)
    last: dict[uuid.UUID, date] = {}
    for v in visits:
        day = local_date(v.at)
        last[v.household_id] = max(day, last.get(v.household_id, day))

    def keeps(h: Household) -> bool:
        checks: dict[str, Callable[[str], bool]] = {
            "estate": lambda value: h.estate == value,
            "building": lambda value: h.building == value,
            "unit": lambda value: h.unit == value,
            "status": lambda value: h.status == value,
            "tag": lambda value: value in tags.get(h.id, set()),
            "unvisited": lambda value: h.id not in last or (today - last[h.id]).days >= int(value),
        }
        return all(checks[name](value) for name, value in filters.items())

    return {str(h.id) for h in households if keeps(h)}


# --- what the phone shows -------------------------------------------------------------------


def shown(page: Page) -> set[str]:
    return set(
        page.eval_on_selector_all("#households a[data-household]", "(a) => a.map((e) => e.dataset.household)")
    )


def painted(page: Page, act: Callable[[], object]) -> None:
    """Do `act` and wait until the screen of the address it leads to is painted (a repaint
    of the address left, a failed sync's, does not count)."""
    page.evaluate(
        "() => { const left = location.hash; const view = document.getElementById('view'); window.__painted = false;"
        " const on = () => { if (location.hash !== left) { window.__painted = true; view.removeEventListener('rendered', on); } };"
        " view.addEventListener('rendered', on); }"
    )
    act()
    page.wait_for_function("() => window.__painted")


def open_list(page: Page, **filters: str) -> None:
    """The list at an address with these filters (none: `?n=50`, not the remembered ones)."""
    query = urlencode(filters)
    painted(
        page, lambda: page.goto(page.url.split("#")[0] + "#/households" + (f"?{query}" if query else "?n=50"))
    )


def found(page: Page) -> int:
    return int(page.get_attribute("#household-count", "data-found") or -1)


def row(page: Page, home: Household) -> str:
    return page.inner_text(f"#households a[data-household='{home.id}']")


def choose(page: Page, name: str, value: str) -> None:
    """Pick a filter in the folded panel, as a thumb does; it applies at once."""
    if not page.is_visible(f"select[name={name}]"):
        page.click("details.worklist-filters summary")
    painted(page, lambda: page.select_option(f"select[name={name}]", value))
    assert f"{name}=" in page.url


def cut_off(page: Page, phone: BrowserContext, live_server: LiveServer, worker: User) -> None:
    sign_in(page, live_server, worker.username)
    go_offline(phone, live_server)
    page.reload()
    page.wait_for_selector("#view[data-screen=households] #households li")


def test_each_filter_finds_exactly_the_households_of_the_servers_data_offline(
    phone: BrowserContext, live_server: LiveServer, grid: Grid, db: Database
) -> None:
    page = phone.new_page()
    problems = watch_console(page, ignore=OFFLINE_NOISE)
    cut_off(page, phone, live_server, grid.worker)
    everyone = expected(db, grid)
    assert shown(page) == everyone and found(page) == len(everyone) == 8
    cases: list[dict[str, str]] = [
        {"estate": "幸福小区"},
        {"estate": "幸福小区", "building": "10栋"},
        {"estate": "幸福小区", "building": "10栋", "unit": "2单元"},
        {"tag": "alone"},
        {"tag": "disabled"},
        {"status": "vacant"},
        {"unvisited": "30"},
        {"unvisited": "90"},
        {"estate": "幸福小区", "unvisited": "30"},
        {"tag": "alone", "unvisited": "90"},
        {"estate": "芙蓉花园", "status": "active", "tag": "disabled"},
    ]
    for filters in cases:
        open_list(page, **filters)
        want = expected(db, grid, **filters)
        assert shown(page) == want, filters
        assert found(page) == len(want), filters
    # The boundary: 30 local days ago is not "within 30 days"; 29 is.
    open_list(page, unvisited="30")
    assert str(grid.homes["edge"].id) in shown(page) and str(grid.homes["inside"].id) not in shown(page)
    assert {str(grid.homes[n].id) for n in ("never", "old", "month")} <= shown(page)
    # Filters combine with the search box.
    open_list(page, q="10栋", unvisited="30")
    assert shown(page) == expected(db, grid, building="10栋", unvisited="30")
    assert problems == []


def test_the_filters_are_picked_on_screen_and_narrow_each_other(
    phone: BrowserContext, live_server: LiveServer, grid: Grid, db: Database
) -> None:
    page = phone.new_page()
    cut_off(page, phone, live_server, grid.worker)
    options = "(name) => [...document.querySelector(`select[name=${name}]`).options].map((o) => o.value).filter(Boolean)"
    page.click("details.worklist-filters summary")
    assert page.evaluate(options, "estate") == ["幸福小区", "芙蓉花园"]  # the list's own (address) order
    expect(page.locator("select[name=building]")).to_be_disabled()
    choose(page, "estate", "幸福小区")
    assert page.evaluate(options, "building") == ["2栋", "10栋"]  # numeric order
    expect(page.locator("select[name=unit]")).to_be_disabled()
    choose(page, "building", "10栋")
    assert page.evaluate(options, "unit") == ["1单元", "2单元"]
    choose(page, "unit", "1单元")
    assert shown(page) == expected(db, grid, estate="幸福小区", building="10栋", unit="1单元")
    screenshot(page, "worklist-filters-picked-360")
    # Another 小区 drops the 楼栋 and 单元 of the first.
    choose(page, "estate", "芙蓉花园")
    assert shown(page) == expected(db, grid, estate="芙蓉花园")
    assert page.input_value("select[name=building]") == ""
    choose(page, "tag", "disabled")
    choose(page, "unvisited", "90")
    assert shown(page) == expected(db, grid, estate="芙蓉花园", tag="disabled", unvisited="90")
    assert found(page) == 1
    painted(page, lambda: page.click("[data-action=clear-filters]"))
    assert shown(page) == expected(db, grid)
    expect(page.locator("[data-action=clear-filters]")).to_have_count(0)


def test_rows_show_the_last_visit_and_the_key_tags_offline(
    phone: BrowserContext, live_server: LiveServer, grid: Grid
) -> None:
    page = phone.new_page()
    cut_off(page, phone, live_server, grid.worker)
    now = datetime.now(LOCAL_TZ)

    def day(days_ago: int) -> str:
        d = (now - timedelta(days=days_ago)).date()
        return f"{d.month}月{d.day}日" if d.year == now.year else f"{d.year}年{d.month}月{d.day}日"

    homes = grid.homes
    assert f"上次走访 {day(5)}" in row(page, homes["fresh"])
    assert f"上次走访 {day(40)}" in row(page, homes["month"])
    assert f"上次走访 {day(2)} · 未遇" in row(page, homes["old"])  # the last one found nobody home
    assert "从未走访" in row(page, homes["never"])
    tags = page.locator(f"#households a[data-household='{homes['fresh'].id}'] [data-tag]").all_inner_texts()
    assert tags == ["独居老人", "高龄老人", "残疾人", "等"]  # deduplicated, in the tags' order, three at most
    assert page.locator(
        f"#households a[data-household='{homes['old'].id}'] [data-tag]"
    ).all_inner_texts() == ["独居老人"]
    assert page.locator(f"#households a[data-household='{homes['month'].id}'] [data-tag]").count() == 0
    screenshot(page, "worklist-rows-offline-360")

    # A visit recorded offline shows at once, and takes the household off "not visited in 30 days".
    page.click(f"#households a[data-household='{homes['month'].id}']")
    page.click(f"a[href='#/h/{homes['month'].id}/visit']")
    page.fill("textarea[name=notes]", "赵阿姨在家，一切都好。")
    page.click("form[data-form=visit] button[type=submit]")
    page.wait_for_selector("#visits li.just-saved")
    open_list(page, unvisited="30")
    assert str(homes["month"].id) not in shown(page)
    open_list(page)
    assert f"上次走访 {day(0)}" in row(page, homes["month"])


def test_the_building_index_jumps_to_a_building_in_numeric_order(
    phone: BrowserContext, live_server: LiveServer, grid: Grid, db: Database
) -> None:
    page = phone.new_page()
    cut_off(page, phone, live_server, grid.worker)
    chips = page.locator(".building-index .jump")
    assert chips.all_inner_texts() == ["2栋", "10栋", "1栋", "3栋"]
    painted(page, lambda: page.click(".building-index .jump:text-is('10栋')"))
    assert shown(page) == expected(db, grid, estate="幸福小区", building="10栋")
    # Within a 小区 the index shows only its buildings; the chosen chip goes back to the 小区.
    assert page.locator(".building-index .jump").all_inner_texts() == ["2栋", "10栋"]
    screenshot(page, "worklist-building-index-360")
    painted(page, lambda: page.click(".building-index .jump[aria-current]"))
    assert "building=" not in page.url
    assert shown(page) == expected(db, grid, estate="幸福小区")


def test_filters_survive_navigation_and_a_reload_offline(
    phone: BrowserContext, live_server: LiveServer, grid: Grid, db: Database
) -> None:
    page = phone.new_page()
    problems = watch_console(page, ignore=OFFLINE_NOISE)
    cut_off(page, phone, live_server, grid.worker)
    choose(page, "estate", "幸福小区")
    choose(page, "unvisited", "30")
    want = expected(db, grid, estate="幸福小区", unvisited="30")
    assert shown(page) == want

    # Away to a household and the outbox, back by the 住户 tab: the same list.
    page.click(f"#households a[data-household='{grid.homes['old'].id}']")
    page.wait_for_selector(f"section[data-household='{grid.homes['old'].id}'] h1")
    page.click("#tabbar a[href='#/outbox']")
    page.wait_for_selector("#outbox-summary")
    open_households(page)
    assert shown(page) == want
    assert "estate=" in page.url and "unvisited=30" in page.url
    expect(page.locator("select[name=estate]")).to_have_value("幸福小区")

    # A reload, and a reload of the bare address the tab opens: still the same list.
    page.reload()
    page.wait_for_selector("#view[data-screen=households] #households li")
    assert shown(page) == want
    page.goto(page.url.split("#")[0] + "#/me")
    page.wait_for_selector("#view[data-screen=me]")
    page.reload()
    page.wait_for_selector("#view[data-screen=me]")
    open_households(page)
    assert shown(page) == want
    screenshot(page, "worklist-remembered-after-reload-360")

    painted(page, lambda: page.click("[data-action=clear-filters]"))
    assert shown(page) == expected(db, grid)
    page.click("#tabbar a[href='#/outbox']")
    page.wait_for_selector("#outbox-summary")
    open_households(page)
    assert shown(page) == expected(db, grid)
    assert problems == []


def test_the_list_stays_paged_when_filtered(
    phone: BrowserContext, live_server: LiveServer, make: Factory, db: Database
) -> None:
    grid = make.grid(name="大网格")
    make.many_households(grid, 120)
    worker = make.user("grid_worker", grids=[grid])
    page = phone.new_page()
    sign_in(page, live_server, worker.username)
    wait_synced(page)
    open_list(page, estate="幸福小区", unvisited="90")
    assert found(page) == 120
    assert page.locator("#households li").count() == 50
    painted(page, lambda: page.click("text=显示更多"))
    assert page.locator("#households li").count() == 100
    assert "estate=" in page.url and "n=100" in page.url


# (visit at, now, days between) in UTC; the days are Asia/Shanghai's (UTC+8).
DAYS = [
    ("2026-11-30T16:01:00Z", "2026-12-01T15:59:00Z", 0),  # 00:01 and 23:59 of 1 December there
    ("2026-11-30T15:59:00Z", "2026-11-30T16:01:00Z", 1),  # 23:59 and 00:01: two minutes, one day
    ("2026-11-01T15:59:00+00:00", "2026-12-01T16:00:00Z", 31),  # the server's offset form
    ("2026-11-02T12:00:00Z", "2026-12-02T03:00:00Z", 30),
]


def test_days_since_a_visit_are_counted_at_midnight_in_asia_shanghai(
    phone: BrowserContext, live_server: LiveServer
) -> None:
    page = phone.new_page()
    page.goto(live_server.url + "/app/")
    page.wait_for_selector("body[data-ready]")
    script = (
        "async (cases) => { const m = await import('/static/app/worklist.js');"
        " return cases.map(([at, now]) => [m.daysSince(at, new Date(now)),"
        " m.unvisitedFor('30', { completed: at }, new Date(now)), m.unvisitedFor('30', null, new Date(now))]); }"
    )
    got = page.evaluate(script, [[at, now] for at, now, _ in DAYS])
    assert got == [[days, days >= 30, True] for _, _, days in DAYS]


def test_a_visit_pulled_from_the_server_reaches_the_list_kept_in_memory(
    phone: BrowserContext, live_server: LiveServer, grid: Grid, db: Database
) -> None:
    """The list's whole reads are kept until the data changes: a pulled page changes it."""
    page = phone.new_page()
    sign_in(page, live_server, grid.worker.username)
    never = grid.homes["never"]
    open_list(page, unvisited="90")
    assert str(never.id) in shown(page) and "从未走访" in row(page, never)
    add_visit(db, never, "completed", utcnow())  # the office records a visit
    page.click("[data-action=sync-now]")
    page.wait_for_function(
        "(id) => !document.querySelector(`#households a[data-household='${id}']`)", arg=str(never.id)
    )
    wait_synced(page)
    open_list(page)
    today = datetime.now(LOCAL_TZ).date()
    assert f"上次走访 {today.month}月{today.day}日" in row(page, never)


def test_a_household_added_offline_is_in_the_filtered_list_and_its_choices(
    phone: BrowserContext, live_server: LiveServer, grid: Grid, db: Database
) -> None:
    page = phone.new_page()
    cut_off(page, phone, live_server, grid.worker)
    open_list(page, estate="芙蓉花园")  # the list's whole reads are kept from here
    before = shown(page)
    page.click("[data-new-household]")
    page.fill("input[name=estate]", "新建小区")
    page.fill("input[name=building]", "7栋")
    page.fill("input[name=unit]", "1单元")
    page.fill("input[name=room]", "701室")
    page.click("form[data-form=household-new] button[type=submit]")
    page.wait_for_selector("#view[data-screen=household]")
    new_id = page.get_attribute("section[data-household]", "data-household")
    open_list(page, estate="新建小区")
    assert shown(page) == {new_id}
    assert page.locator(".building-index .jump").all_inner_texts() == ["7栋"]
    open_list(page, estate="芙蓉花园")
    assert shown(page) == before
    open_list(page)
    assert found(page) == len(expected(db, grid)) + 1
