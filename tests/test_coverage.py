"""Care-visit coverage per grid (server/queries/coverage.py) and its office pages."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from server.access import NotFound
from server.clock import LOCAL_TZ, local_today
from server.commands.households import move_household
from server.db import Database
from server.models import Household
from server.queries import coverage as queries
from server.queries.tasks import tasks_for
from server.workflows.visit_tasks import Home, Person, Rule, age_on, born_by, care_visit, due_tomorrow
from tests.conftest import Factory, login
from tests.test_visit_tasks import visit

TODAY = date(2026, 12, 10)


def figures(grid: queries.GridCoverage) -> tuple[int, int, int, int, list[tuple[uuid.UUID, int]]]:
    return (
        grid.households,
        grid.under_care,
        grid.within,
        grid.due_tomorrow,
        [(v.household_id, v.days_overdue) for v in grid.overdue],
    )


@pytest.fixture
def county(make: Factory, db: Database) -> dict[str, object]:
    """Two grids of one community and a grid of another, with households whose figures are known."""
    community, other = make.community(), make.community()
    grid_a, grid_b, far = make.grid(community), make.grid(community), make.grid(other)
    make.tag("elderly_alone", name="独居老人")
    make.tag("disabled", name="残疾人")
    make.visit_rule(community, tag_code="elderly_alone", interval_days=7, priority="high")
    make.visit_rule(community, subject="age", tag_code="", min_age=80, interval_days=14)
    make.visit_rule(community, tag_code="disabled", interval_days=1, active=False)
    make.visit_rule(other, tag_code="elderly_alone", interval_days=30)

    within = make.household(grid_a)  # visited 5 Dec: due 12 Dec
    make.resident(within, name="王芳", tags=["elderly_alone"])
    visit(db, within, "completed", "2026-12-05T02:00:00")
    late = make.household(grid_a)  # visited 20 Nov: due 27 Nov, 13 days overdue
    make.resident(late, name="李强", tags=["elderly_alone"])
    make.resident(late, name="张奶奶", born=date(1941, 6, 1))
    make.resident(late, name="李小明", born=date(2010, 6, 1))
    visit(db, late, "completed", "2026-11-20T02:00:00")
    visit(db, late, "refused", "2026-12-09T02:00:00")
    tried = make.household(grid_a)  # overdue, but nobody was home today: next try tomorrow
    make.resident(tried, tags=["elderly_alone"])
    visit(db, tried, "completed", "2026-11-20T02:00:00")
    visit(db, tried, "nobody_home", "2026-12-10T01:00:00")
    inactive = make.household(grid_a)  # only an inactive rule names it
    make.resident(inactive, tags=["disabled"])
    birthday = make.household(grid_a)  # turns 80 tomorrow: not under care today, due tomorrow
    make.resident(birthday, born=date(1946, 12, 11))
    never = make.household(grid_a)  # never visited: due today, not overdue
    make.resident(never, tags=["elderly_alone"])
    plain = make.household(grid_a)
    make.resident(plain, born=date(1990, 1, 1))
    deleted = make.household(grid_a, deleted_at=datetime(2026, 12, 1, 2, tzinfo=LOCAL_TZ))
    make.resident(deleted, tags=["elderly_alone"])

    moved = make.household(grid_a)  # moved to grid B; visited 30 Nov: due 7 Dec, 3 days overdue
    make.resident(moved, tags=["elderly_alone"])
    visit(db, moved, "completed", "2026-11-30T02:00:00")
    staff = make.user("community_staff", community=community)
    with db.write() as s:
        row = s.get(Household, moved.id)
        assert row is not None
        move_household(s, actor=make.actor(staff), household=row, grid_id=grid_b.id)

    distant = make.household(far)
    make.resident(distant, tags=["elderly_alone"])
    return {
        "community": community,
        "other": other,
        "grids": (grid_a, grid_b, far),
        "homes": {"late": late, "moved": moved, "distant": distant, "within": within},
        "staff": staff,
    }


def test_the_figures_and_the_overdue_list_of_each_grid(make: Factory, db: Database, county: dict) -> None:
    grid_a, grid_b, _ = county["grids"]
    homes = county["homes"]
    with db.read() as s:
        found = queries.coverage(s, make.actor(county["staff"]), TODAY)
    by_grid = {g.grid_id: g for g in found.grids}
    assert set(by_grid) == {grid_a.id, grid_b.id}
    assert figures(by_grid[grid_a.id]) == (7, 4, 3, 4, [(homes["late"].id, 13)])
    assert figures(by_grid[grid_b.id]) == (1, 1, 0, 1, [(homes["moved"].id, 3)])
    with db.read() as s:  # one grid alone reads its residents another way: the same figures
        for grid in (grid_a, grid_b):
            alone = queries.grid_coverage(s, make.actor(county["staff"]), grid.id, TODAY)
            assert figures(alone) == figures(by_grid[grid.id])
    assert by_grid[grid_a.id].overdue[0].who == ()  # names only on the grid's own page
    with db.read() as s:
        late = queries.grid_coverage(s, make.actor(county["staff"]), grid_a.id, TODAY).overdue[0]
    assert late.address == homes["late"].address
    assert late.who == ("李强（独居老人）", "张奶奶（85 岁）")
    assert (late.due, late.interval_days, late.priority) == (date(2026, 11, 27), 7, "high")
    assert by_grid[grid_a.id].percent == 75
    total = found.total
    assert (total.households, total.under_care, total.within, total.due_tomorrow, len(total.overdue)) == (
        8,
        5,
        3,
        5,
        2,
    )


def test_tomorrows_figure_is_what_the_workers_phone_will_list_tomorrow(
    make: Factory, db: Database, county: dict
) -> None:
    """明天待访 is the count of care visits the grid's phone, running its rule tomorrow, lists as
    overdue or due that day (`server.queries.tasks`, the phone's rule in Python)."""
    grid_a, grid_b, _ = county["grids"]
    tomorrow = TODAY + timedelta(days=1)
    with db.read() as s:
        by_grid = {g.grid_id: g for g in queries.coverage(s, make.actor(county["staff"]), TODAY).grids}
    for grid in (grid_a, grid_b):
        worker = make.user(grids=[grid])
        with db.read() as s:
            listed = tasks_for(s, make.actor(worker), datetime.combine(tomorrow, time(9), LOCAL_TZ))
        shown = {t.household_id for t in listed if t.kind == "care_visit" and t.due <= tomorrow}
        assert len(shown) == by_grid[grid.id].due_tomorrow
    assert by_grid[grid_a.id].due_tomorrow == 4  # late, tried (nobody home today), the new 80, never


def test_households_read_in_several_statements_give_the_same_figures(
    make: Factory, db: Database, county: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A county with more households under care than one statement's bound parameters."""
    with db.read() as s:
        whole = [figures(g) for g in queries.coverage(s, make.actor(county["staff"]), TODAY).grids]
    monkeypatch.setattr(queries, "ID_CHUNK", 2)
    with db.read() as s:
        assert [figures(g) for g in queries.coverage(s, make.actor(county["staff"]), TODAY).grids] == whole
    assert sum(f[1] for f in whole) == 5  # five households under care: three statements of two


def test_each_actor_sees_the_grids_of_their_scope(make: Factory, db: Database, county: dict) -> None:
    grid_a, grid_b, far = county["grids"]

    def grids_seen(user: object) -> dict[uuid.UUID, int]:
        with db.read() as s:
            return {g.grid_id: g.under_care for g in queries.coverage(s, make.actor(user), TODAY).grids}

    assert grids_seen(make.user("community_staff", community=county["other"])) == {far.id: 1}
    assert grids_seen(make.user(grids=[grid_a])) == {grid_a.id: 4}
    assert grids_seen(make.user("department")) == {}
    assert grids_seen(make.user("admin")) == {grid_a.id: 4, grid_b.id: 1, far.id: 1}
    with db.read() as s, pytest.raises(NotFound):
        queries.grid_coverage(s, make.actor(make.user(grids=[grid_b])), grid_a.id, TODAY)
    with db.read() as s:
        admin = make.actor(make.user("admin"))
        assert [
            g.grid_id for g in queries.coverage(s, admin, TODAY, community_id=county["other"].id).grids
        ] == [far.id]


def test_a_status_rule_names_the_household_itself(make: Factory, db: Database) -> None:
    grid = make.grid()
    make.visit_rule(subject="household_status", tag_code="", household_status="vacant", interval_days=30)
    empty = make.household(grid, status="vacant")
    make.household(grid)
    with db.read() as s:
        (found,) = queries.coverage(s, make.actor(make.user("admin")), TODAY).grids
    assert figures(found) == (2, 1, 1, 1, [])
    visit(db, empty, "completed", "2026-10-01T02:00:00")
    with db.read() as s:
        found = queries.grid_coverage(s, make.actor(make.user("admin")), grid.id, TODAY)
    assert figures(found) == (2, 1, 0, 1, [(empty.id, 40)])
    assert found.overdue[0].who == ("空置",)


def test_no_rules_no_care(make: Factory, db: Database) -> None:
    grid = make.grid()
    make.resident(make.household(grid), tags=["elderly_alone"])
    with db.read() as s:
        (found,) = queries.coverage(s, make.actor(make.user("admin")), TODAY).grids
    assert figures(found) == (1, 0, 0, 0, [])
    assert found.percent is None


@given(day=st.dates(date(1990, 1, 1), date(2100, 12, 31)), age=st.integers(min_value=1, max_value=120))
def test_born_by_is_the_last_birthday_old_enough(day: date, age: int) -> None:
    latest = born_by(day, age)
    assert age_on(latest, day) >= age
    assert age_on(latest + timedelta(days=1), day) < age


@settings(max_examples=300, deadline=None)
@given(
    today=st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    born=st.lists(st.integers(min_value=-3, max_value=3), max_size=3),
    tagged=st.booleans(),
    completed=st.none() | st.integers(min_value=0, max_value=40),
    nobody=st.none() | st.integers(min_value=0, max_value=40),
)
def test_tomorrows_answer_is_the_rule_run_for_tomorrow(
    today: date, born: list[int], tagged: bool, completed: int | None, nobody: int | None
) -> None:
    """`due_tomorrow` reuses today's care visit unless somebody comes of age overnight: it must
    say what running the rule for tomorrow says."""
    rules = [
        Rule(id="alone", subject="tag", tag_code="elderly_alone", interval_days=7),
        Rule(id="old", subject="age", min_age=80, interval_days=14),
    ]
    people = tuple(
        Person(
            tags=frozenset({"elderly_alone"} if tagged and i == 0 else ()),
            birth_date=born_by(today, 80) + timedelta(days=d),
        )
        for i, d in enumerate(born)
    )

    def ago(days: int | None) -> datetime | None:
        return None if days is None else datetime.combine(today - timedelta(days=days), time(2), UTC)

    home = Home(
        id="h",
        grid_id="g",
        status="active",
        people=people,
        last_completed=ago(completed),
        last_nobody_home=ago(nobody),
    )
    tomorrow = today + timedelta(days=1)
    later = care_visit(home, rules, tomorrow)
    assert due_tomorrow(home, rules, today, care_visit(home, rules, today)) == (
        later is not None and later.is_due(tomorrow)
    )


# -- the pages ---------------------------------------------------------------------------------


def test_the_pages_show_the_grids_figures_and_the_overdue_households(
    make: Factory, db: Database, client: TestClient
) -> None:
    today = local_today()
    community = make.community()
    grid = make.grid(community, name="东门网格")
    make.tag("elderly_alone", name="独居老人")
    make.visit_rule(community, tag_code="elderly_alone", interval_days=7)
    late = make.household(grid)
    make.resident(late, name="王芳", tags=["elderly_alone"])
    visit(db, late, "completed", f"{today - timedelta(days=20)}T02:00:00")
    fresh = make.household(grid)
    make.resident(fresh, name="赵六", tags=["elderly_alone"])
    visit(db, fresh, "completed", f"{today - timedelta(days=1)}T02:00:00")
    worker = make.user(grids=[grid])
    staff = make.user("community_staff", community=community)
    login(client, staff)

    page = client.get("/coverage")
    assert page.status_code == 200
    assert "HX-Request" in page.headers["vary"]
    row = re.search(rf'<tr id="grid-{grid.id}">(.*?)</tr>', page.text, re.S)
    assert row is not None
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row.group(1), re.S)
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in cells] == ["东门网格", "2", "2", "1", "50%", "1", "1"]
    assert f'href="/coverage/{grid.id}"' in page.text
    assert "<svg" in page.text and "50%（逾期 1）" in page.text
    # Coverage is per grid and per household: no worker is named or ranked.
    heads = re.findall(r'<th scope="col">(.*?)</th>', page.text)
    assert heads == ["网格", "住户", "照护对象户", "按时走访", "覆盖率", "逾期", "明天待访"]
    assert worker.display_name not in page.text.split("<main", 1)[1]

    detail = client.get(f"/coverage/{grid.id}")
    assert detail.status_code == 200
    items = re.findall(r'<li class="card" id="household-([^"]+)">(.*?)</li>', detail.text, re.S)
    assert [i for i, _ in items] == [str(late.id)]
    assert f'href="/households/{late.id}"' in items[0][1]
    assert "王芳（独居老人）" in items[0][1] and "逾期 13 天" in items[0][1] and "每 7 天一次" in items[0][1]
    assert "赵六" not in detail.text
    assert worker.display_name not in detail.text.split("<main", 1)[1]

    board = client.get("/demands/dashboard")
    assert board.status_code == 200
    section = board.text.split('id="coverage"', 1)[1].split("</section>", 1)[0]
    assert "按网格的走访覆盖率" in section and "50%（逾期 1）" in section and ">50%<" in section


def test_who_may_open_the_pages(make: Factory, db: Database, client: TestClient) -> None:
    community = make.community()
    grid, other_grid = make.grid(community), make.grid(make.community())
    login(client, make.user("department"))
    assert client.get("/coverage").status_code == 403
    client.cookies.clear()
    login(client, make.user(grids=[grid]))
    assert client.get("/coverage").status_code == 200
    assert client.get(f"/coverage/{grid.id}").status_code == 200
    assert client.get(f"/coverage/{other_grid.id}").status_code == 404
    client.cookies.clear()
    login(client, make.user("admin"))
    assert client.get(f"/coverage/{other_grid.id}").status_code == 200
    assert client.get(f"/coverage?community={community.id}").status_code == 200
