"""The rule of due care visits (server/workflows/visit_tasks.py), and the query that feeds it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.clock import LOCAL_TZ
from server.commands.households import move_household
from server.commands.residents import sync_tag_links
from server.db import Database
from server.models import Household, Resident, Visit
from server.queries import visit_tasks as task_queries
from server.workflows.visit_tasks import (
    CareVisit,
    Home,
    Person,
    Rule,
    age_on,
    care_visit,
    due_care_visits,
    local_date,
)
from tests.conftest import Factory

TODAY = date(2026, 12, 10)
ALONE = Rule(id="alone", subject="tag", tag_code="elderly_alone", interval_days=7, priority="high")
OLD = Rule(id="old", subject="age", min_age=80, interval_days=14)
VACANT = Rule(
    id="vacant", subject="household_status", household_status="vacant", interval_days=30, priority="low"
)
LONELY = Person(tags=frozenset({"elderly_alone"}), birth_date=date(1950, 3, 1))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def home(*people: Person, status: str = "active", **kw: Any) -> Home:
    return Home(id="h1", grid_id="g1", status=status, people=people, **kw)


# (case, home, rules, the due date or None when no rule names the household, overdue)
EDGES: list[tuple[str, Home, list[Rule], date | None, bool]] = [
    ("never visited: due today", home(LONELY), [ALONE], TODAY, False),
    (
        "visited 23:59:59 local on 2 Dec: +7 is 9 Dec, overdue",
        home(LONELY, last_completed=utc("2026-12-02T15:59:59")),
        [ALONE],
        date(2026, 12, 9),
        True,
    ),
    (
        "visited 00:00 local on 3 Dec (16:00 UTC the day before): due today exactly",
        home(LONELY, last_completed=utc("2026-12-02T16:00:00")),
        [ALONE],
        TODAY,
        False,
    ),
    (
        "visited 00:00 local on 4 Dec: due tomorrow",
        home(LONELY, last_completed=utc("2026-12-03T16:00:00")),
        [ALONE],
        date(2026, 12, 11),
        False,
    ),
    (
        "nobody home today while overdue: next try tomorrow",
        home(LONELY, last_completed=utc("2026-11-01T02:00:00"), last_nobody_home=utc("2026-12-10T01:00:00")),
        [ALONE],
        date(2026, 12, 11),
        False,
    ),
    (
        "nobody home late last night local time (after 16:00 UTC): counts as today, next try tomorrow",
        home(LONELY, last_completed=utc("2026-11-01T02:00:00"), last_nobody_home=utc("2026-12-09T16:30:00")),
        [ALONE],
        date(2026, 12, 11),
        False,
    ),
    (
        "nobody home yesterday: due today, not overdue",
        home(LONELY, last_completed=utc("2026-11-01T02:00:00"), last_nobody_home=utc("2026-12-09T02:00:00")),
        [ALONE],
        TODAY,
        False,
    ),
    (
        "nobody home only, never completed: tomorrow",
        home(LONELY, last_nobody_home=utc("2026-12-10T02:00:00")),
        [ALONE],
        date(2026, 12, 11),
        False,
    ),
    (
        "nobody home before the last completed visit does not matter",
        home(LONELY, last_completed=utc("2026-12-05T02:00:00"), last_nobody_home=utc("2026-12-04T02:00:00")),
        [ALONE],
        date(2026, 12, 12),
        False,
    ),
    (
        "nobody home before it was due moves nothing",
        home(LONELY, last_completed=utc("2026-12-05T02:00:00"), last_nobody_home=utc("2026-12-08T02:00:00")),
        [ALONE],
        date(2026, 12, 12),
        False,
    ),
    (
        "an inactive rule makes nothing",
        home(LONELY),
        [Rule(**{**ALONE.__dict__, "active": False})],
        None,
        False,
    ),
    ("the tag was removed", home(Person(tags=frozenset({"party_member"}))), [ALONE], None, False),
    ("nobody lives there", home(), [ALONE, OLD], None, False),
    ("80 today", home(Person(birth_date=date(1946, 12, 10))), [OLD], TODAY, False),
    ("80 tomorrow", home(Person(birth_date=date(1946, 12, 11))), [OLD], None, False),
    ("no birth date", home(Person()), [OLD], None, False),
    ("a vacant household", home(status="vacant"), [VACANT], TODAY, False),
    ("an active household under a vacant rule", home(LONELY), [VACANT], None, False),
]


@pytest.mark.parametrize(("case", "house", "rules", "due", "overdue"), EDGES, ids=[e[0] for e in EDGES])
def test_the_edge_cases(case: str, house: Home, rules: list[Rule], due: date | None, overdue: bool) -> None:
    found = care_visit(house, rules, TODAY)
    assert (found.due if found else None) == due, case
    if found:
        assert found.is_overdue(TODAY) is overdue
        assert (found in due_care_visits([house], rules, TODAY)) is found.is_due(TODAY)


def test_the_shortest_interval_and_the_highest_priority_of_the_matching_rules_count() -> None:
    old_and_alone = Person(tags=frozenset({"elderly_alone"}), birth_date=date(1940, 1, 1))
    house = home(old_and_alone, last_completed=utc("2026-12-01T02:00:00"))
    found = care_visit(house, [OLD, ALONE, VACANT], TODAY)
    assert found == CareVisit(
        household_id="h1",
        grid_id="g1",
        due=date(2026, 12, 8),
        interval_days=7,
        priority="high",
        rule_ids=("alone", "old"),
    )
    slow = Rule(id="slow", subject="tag", tag_code="elderly_alone", interval_days=30, priority="high")
    assert care_visit(house, [slow, OLD], TODAY) == CareVisit(
        household_id="h1",
        grid_id="g1",
        due=date(2026, 12, 15),
        interval_days=14,
        priority="high",
        rule_ids=("old", "slow"),
    )


def test_due_visits_come_earliest_first() -> None:
    homes = [
        Home(
            id="b", grid_id="g", status="active", people=(LONELY,), last_completed=utc("2026-12-01T02:00:00")
        ),
        Home(id="a", grid_id="g", status="active", people=(LONELY,)),
        Home(
            id="c", grid_id="g", status="active", people=(LONELY,), last_completed=utc("2026-12-09T02:00:00")
        ),
    ]
    assert [(v.household_id, v.due) for v in due_care_visits(homes, [ALONE], TODAY)] == [
        ("b", date(2026, 12, 8)),
        ("a", TODAY),
    ]


def test_ages_and_local_dates() -> None:
    assert age_on(date(1944, 2, 29), date(2024, 2, 28)) == 79
    assert age_on(date(1944, 2, 29), date(2024, 2, 29)) == 80
    assert age_on(date(1944, 2, 29), date(2025, 3, 1)) == 81
    assert local_date(utc("2026-12-09T15:59:59")) == date(2026, 12, 9)
    assert local_date(utc("2026-12-09T16:00:00")) == date(2026, 12, 10)
    assert local_date(datetime(2026, 12, 9, 16, 0)) == date(2026, 12, 10)  # SQLite's naive UTC


# -- the query and the rule over the database ------------------------------------------------


def visit(db: Database, household: Household, outcome: str, at: str) -> None:
    with db.write() as s:
        s.add(
            Visit(
                household_id=household.id,
                community_id=household.community_id,
                grid_id=household.grid_id,
                outcome=outcome,
                purpose="care",
                at=utc(at),
            )
        )


def due_ids(make: Factory, db: Database, user: Any) -> list[tuple[str, date]]:
    with db.read() as s:
        return [(v.household_id, v.due) for v in task_queries.due_for(s, make.actor(user), TODAY)]


def test_the_query_feeds_the_rule_the_households_of_the_scope(make: Factory, db: Database) -> None:
    community, other = make.community(), make.community()
    grid, second, elsewhere = make.grid(community), make.grid(community), make.grid(other)
    make.tag("elderly_alone")
    make.visit_rule(community, tag_code="elderly_alone", interval_days=7)
    make.visit_rule(community, tag_code="elderly_alone", interval_days=1, active=False)
    make.visit_rule(other, tag_code="elderly_alone", interval_days=1)
    overdue, visited, tried, empty = (make.household(grid) for _ in range(4))
    for h in (overdue, visited, tried):
        make.resident(h, tags=["elderly_alone"])
    make.resident(empty, tags=["party_member"])
    visit(db, overdue, "completed", "2026-11-20T02:00:00")
    visit(db, overdue, "refused", "2026-12-09T02:00:00")
    visit(db, visited, "completed", "2026-12-08T02:00:00")
    visit(db, tried, "completed", "2026-11-20T02:00:00")
    visit(db, tried, "nobody_home", "2026-12-10T01:00:00")
    far = make.household(elsewhere)
    make.resident(far, tags=["elderly_alone"])
    worker = make.user(grids=[grid])

    assert due_ids(make, db, worker) == [(str(overdue.id), date(2026, 11, 27))]
    assert due_ids(make, db, make.user(grids=[second])) == []
    admin = make.user("admin")
    assert due_ids(make, db, admin) == [(str(overdue.id), date(2026, 11, 27)), (str(far.id), TODAY)]


def test_a_resident_moving_household_takes_the_task_along(make: Factory, db: Database) -> None:
    grid = make.grid()
    make.tag("elderly_alone")
    make.visit_rule(tag_code="elderly_alone", interval_days=7)
    old_home, new_home = make.household(grid), make.household(grid)
    resident = make.resident(old_home, tags=["elderly_alone"])
    visit(db, new_home, "completed", "2026-12-08T02:00:00")
    worker = make.user(grids=[grid])
    assert due_ids(make, db, worker) == [(str(old_home.id), TODAY)]
    with db.write() as s:
        row = s.get(Resident, resident.id)
        assert row is not None
        row.household_id = new_home.id
    # The new household was visited two days ago: due in five days, so nothing today.
    assert due_ids(make, db, worker) == []
    with db.read() as s:
        plan = task_queries.homes(s, make.actor(worker))
    assert {h.id: len(h.people) for homes in plan.values() for h in homes} == {
        str(old_home.id): 0,
        str(new_home.id): 1,
    }


def test_a_removed_tag_or_a_deleted_resident_ends_the_task(make: Factory, db: Database) -> None:
    grid = make.grid()
    make.tag("elderly_alone")
    make.visit_rule(tag_code="elderly_alone")
    first, second = make.household(grid), make.household(grid)
    tagged = make.resident(first, tags=["elderly_alone"])
    leaving = make.resident(second, tags=["elderly_alone"])
    worker = make.user(grids=[grid])
    assert {h for h, _ in due_ids(make, db, worker)} == {str(first.id), str(second.id)}
    with db.write() as s:
        row = s.get(Resident, tagged.id)
        assert row is not None
        row.tags = []
        sync_tag_links(s, row)
        gone = s.get(Resident, leaving.id)
        assert gone is not None
        gone.deleted_at = utc("2026-12-09T02:00:00")
    assert due_ids(make, db, worker) == []


def test_a_household_moving_grid_brings_its_visits_to_the_new_grids_worker(
    make: Factory, db: Database
) -> None:
    community = make.community()
    old, new = make.grid(community), make.grid(community)
    make.tag("elderly_alone")
    make.visit_rule(community, tag_code="elderly_alone", interval_days=7)
    household = make.household(old)
    make.resident(household, tags=["elderly_alone"])
    visit(db, household, "completed", "2026-11-30T02:00:00")
    before, after = make.user(grids=[old]), make.user(grids=[new])
    staff = make.actor(make.user("community_staff", community=community))
    assert due_ids(make, db, before) == [(str(household.id), date(2026, 12, 7))]
    with db.write() as s:
        row = s.get(Household, household.id)
        assert row is not None
        move_household(s, actor=staff, household=row, grid_id=new.id)
    assert due_ids(make, db, before) == []
    assert due_ids(make, db, after) == [(str(household.id), date(2026, 12, 7))]


# -- properties ------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
intervals = st.integers(min_value=1, max_value=365)


@settings(max_examples=200, deadline=None)
@given(
    completed=st.none() | moments,
    nobody=st.none() | moments,
    interval=intervals,
    today=st.dates(date(2025, 1, 1), date(2027, 6, 30)),
)
def test_a_due_date_is_never_before_the_interval_nor_today_after_a_completed_visit_today(
    completed: datetime | None, nobody: datetime | None, interval: int, today: date
) -> None:
    rule = Rule(id="r", subject="tag", tag_code="elderly_alone", interval_days=interval)
    house = home(LONELY, last_completed=completed, last_nobody_home=nobody)
    found = care_visit(house, [rule], today)
    assert found is not None
    if completed is not None:
        assert found.due >= local_date(completed) + timedelta(days=interval)
    if nobody is not None and (completed is None or local_date(nobody) >= local_date(completed)):
        assert found.due > local_date(nobody)  # the next try is never the day nobody was home
    visited = care_visit(
        home(LONELY, last_completed=datetime.combine(today, datetime.min.time(), LOCAL_TZ)), [rule], today
    )
    assert visited is not None and not visited.is_due(today)
