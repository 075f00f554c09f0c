"""One rule, two languages (issue 17): the server's tasks (server/workflows/tasks.py over the
database) and the phone's (static/app/tasks.js in Chromium over what a pull carries) are
the same list, dates included, for randomly generated grids.

Hypothesis draws a grid — households, residents with tags and birth dates, visits of
every outcome, rules of every subject, cards, requests and conflicts at every step —
and a moment between 2020 and 2030. It is written to the database (SQLite or
PostgreSQL), the worker pulls it as a phone would, and both rules run on it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import Page
from sqlalchemy import delete

from server.db import Database
from server.models import (
    AssistedApplication,
    Conflict,
    Demand,
    Household,
    Resident,
    ServiceItem,
    TravelCard,
    Visit,
    VisitRule,
)
from server.people import idnumber
from server.queries.tasks import tasks_for
from server.workflows.workdays import calendar_of
from tests.conftest import Factory

pytestmark = pytest.mark.browser

# What tasks.js's loadTasks reads (TASK_TYPES there), visits included for the last visits.
TASK_TYPES = (
    "household",
    "resident",
    "visit",
    "visit_rule",
    "travel_card",
    "demand",
    "conflict",
    "assisted_application",
)
CALENDAR = calendar_of({}).as_json(range(2019, 2032))  # what the phone gets with its labels, all years drawn

TAGS = ["alone", "poor", "disabled"]
OUTCOMES = ["completed", "nobody_home", "refused", "planned"]
CARD_STATUSES = ["draft", "submitted", "needs_supplement", "approved", "ready", "issued", "rejected"]
DEMAND_STATUSES = [
    "submitted",
    "dispatched",
    "accepted",
    "in_progress",
    "transferred",
    "escalated",
    "replied",
    "rectifying",
    "resolved",
]
ASSISTED_STATUSES = ["received", "submitted", "returned", "completed", "delivered", "withdrawn"]

moments = st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)
seconds = st.integers(-40 * 86400, 2 * 86400)  # around `now`: mostly before, a little after

rules = st.lists(
    st.one_of(
        st.fixed_dictionaries({"subject": st.just("tag"), "tag_code": st.sampled_from(TAGS)}),
        st.fixed_dictionaries({"subject": st.just("age"), "min_age": st.integers(60, 95)}),
        st.fixed_dictionaries(
            {
                "subject": st.just("household_status"),
                "household_status": st.sampled_from(["vacant", "active"]),
            }
        ),
    ).flatmap(
        lambda who: st.fixed_dictionaries(
            {
                **{k: st.just(v) for k, v in who.items()},
                "interval_days": st.integers(1, 30),
                "priority": st.sampled_from(["high", "normal", "low"]),
                "active": st.booleans(),
            }
        )
    ),
    max_size=4,
)
homes = st.lists(
    st.fixed_dictionaries(
        {
            "status": st.sampled_from(["active", "active", "vacant", "moved_out"]),
            "mine": st.booleans() | st.just(True),
            "people": st.lists(
                st.fixed_dictionaries(
                    {
                        "born": st.dates(date(1925, 1, 1), date(1990, 12, 31)),
                        "tags": st.lists(st.sampled_from(TAGS), unique=True, max_size=2),
                    }
                ),
                max_size=3,
            ),
            "visits": st.lists(st.tuples(st.sampled_from(OUTCOMES), seconds), max_size=3),
            "card": st.none()
            | st.fixed_dictionaries(
                {
                    "status": st.sampled_from(CARD_STATUSES),
                    "delivery": st.sampled_from(["collect", "door"]),
                    "review_in": st.none() | st.integers(-40, 60),
                    "planned": st.booleans(),
                }
            ),
            "demand": st.none()
            | st.fixed_dictionaries(
                {
                    "status": st.sampled_from(DEMAND_STATUSES),
                    "to_department": st.sampled_from([False, False, True]),
                    "assignee": st.sampled_from(["me", "other", None, None]),
                    "deadline_in": st.none() | seconds,
                    "time_limit": st.sampled_from(["", "0.5", "1", "3", "4h"]),
                    "suspended": st.booleans(),
                }
            ),
            "conflict": st.none()
            | st.fixed_dictionaries(
                {
                    "mine": st.booleans(),
                    "status": st.sampled_from(["open", "resolved"]),
                    "about": st.sampled_from(["household", "resident"]),
                }
            ),
            "assisted": st.none() | st.sampled_from(ASSISTED_STATUSES),
        }
    ),
    min_size=1,
    max_size=10,
)


def _write_grid(db: Database, make: Factory, world: dict[str, Any], drawn: dict[str, Any]) -> None:
    """The drawn grid as rows, replacing the previous example's."""
    community, mine, other = world["community"], world["grid"], world["other_grid"]
    with db.write() as session:
        for model in (
            AssistedApplication,
            Conflict,
            Demand,
            TravelCard,
            Visit,
            Resident,
            VisitRule,
            Household,
        ):
            session.execute(delete(model).where(model.community_id == community.id))  # type: ignore[attr-defined]
        now = drawn["now"]
        for n, rule in enumerate(drawn["rules"]):
            session.add(VisitRule(community_id=community.id, name=f"规则{n}", **rule))
        for n, spec in enumerate(drawn["homes"]):
            grid = mine if spec["mine"] else other
            household = Household(
                community_id=community.id,
                grid_id=grid.id,
                estate="幸福小区",
                building=f"{n % 3 + 1}栋",
                address=f"幸福小区 {n % 3 + 1}栋 {n + 101}室",
                status=spec["status"],
            )
            session.add(household)
            session.flush()
            residents = []
            for k, person in enumerate(spec["people"]):
                number = idnumber.make("360121", person["born"], (n * 7 + k) % 1000)
                parsed = idnumber.parse(number)
                resident = Resident(
                    household_id=household.id,
                    community_id=community.id,
                    grid_id=grid.id,
                    name=f"居民{n}-{k}",
                    id_cipher=make.vault.encrypt(parsed.number),
                    id_hash=make.vault.keyed_hash(parsed.number),
                    id_masked=parsed.masked,
                    birth_date=parsed.birth_date,
                    sex=parsed.sex,
                    tags=person["tags"],
                )
                session.add(resident)
                residents.append(resident)
            for outcome, offset in spec["visits"]:
                session.add(
                    Visit(
                        household_id=household.id,
                        community_id=community.id,
                        grid_id=grid.id,
                        outcome=outcome,
                        at=now - timedelta(seconds=abs(offset)),
                    )
                )
            session.flush()
            if (card := spec["card"]) and residents:
                review = card["review_in"]
                session.add(
                    TravelCard(
                        resident_id=residents[0].id,
                        household_id=household.id,
                        community_id=community.id,
                        grid_id=grid.id,
                        status=card["status"],
                        delivery=card["delivery"],
                        review_due=None if review is None else now.date() + timedelta(days=review),
                        review_visit_id=uuid.uuid4() if card["planned"] else None,
                    )
                )
            if demand := spec["demand"]:
                deadline = demand["deadline_in"]
                session.add(
                    Demand(
                        community_id=community.id,
                        grid_id=grid.id,
                        department_id=world["department"].id if demand["to_department"] else None,
                        household_id=household.id,
                        field="other",
                        description="楼道灯坏了",
                        source="visit",
                        status=demand["status"],
                        assignee_id={"me": world["me"].id, "other": world["other"].id, None: None}[
                            demand["assignee"]
                        ],
                        deadline=None if deadline is None else now + timedelta(seconds=deadline),
                        time_limit=demand["time_limit"],
                        suspended_at=now - timedelta(hours=1) if demand["suspended"] else None,
                    )
                )
            if (status := spec["assisted"]) and residents:
                session.add(
                    AssistedApplication(
                        item_id=world["item"].id,
                        item_revision=1,
                        item_name=world["item"].name,
                        resident_id=residents[0].id,
                        household_id=household.id,
                        community_id=community.id,
                        grid_id=grid.id,
                        status=status,
                    )
                )
            if conflict := spec["conflict"]:
                about = conflict["about"] if residents else "household"
                session.add(
                    Conflict(
                        community_id=community.id,
                        grid_id=grid.id,
                        record_type=about,
                        record_id=household.id if about == "household" else residents[-1].id,
                        field="phone",
                        server_value="1",
                        client_value="2",
                        user_id=(world["me"] if conflict["mine"] else world["other"]).id,
                        status=conflict["status"],
                    )
                )


def _server_tasks(db: Database, make: Factory, world: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    with db.read() as session:
        found = tasks_for(session, world["actor"], now)
    return [
        {
            "kind": str(task.kind),
            "record_id": task.record_id,
            "household_id": task.household_id,
            "due": task.due.isoformat(),
            "overdue": task.overdue,
        }
        for task in found
    ]


PHONE_TASKS = """async ([records, me, now, calendar]) => {
  const { tasksOf } = await import("/static/app/tasks.js");
  const { latestVisits } = await import("/static/app/store.js");
  const { makeCalendar } = await import("/static/app/workdays.js");
  return tasksOf(records, latestVisits(records.visit), me, Date.parse(now), makeCalendar(calendar));
}"""


def test_the_phone_and_the_server_make_the_same_tasks(
    db: Database, make: Factory, sync_phone: Any, module_page: Page
) -> None:
    community = make.community()
    grid, other_grid = make.grid(community), make.grid(community)
    me = make.user(grids=[grid])
    other = make.user(grids=[grid, other_grid])
    world = {
        "community": community,
        "grid": grid,
        "other_grid": other_grid,
        "department": make.department(),
        "me": me,
        "other": other,
        "actor": make.actor(me),
        "item": make._save(ServiceItem(name="高龄津贴申领")),
    }
    phone = sync_phone(me)
    seen = {"tasks": 0, "kinds": set()}

    @settings(
        max_examples=100,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(now=moments, rules=rules, homes=homes)
    def same(now: datetime, rules: list[dict[str, Any]], homes: list[dict[str, Any]]) -> None:
        drawn = {"now": now, "rules": rules, "homes": homes}
        _write_grid(db, make, world, drawn)
        server = _server_tasks(db, make, world, now)
        phone.cursor = None  # a first sync: everything the worker holds
        phone.pull()
        records = {
            kind: [{"id": rid, "data": data} for rid, data in phone.records(kind).items()]
            for kind in TASK_TYPES
        }
        me_json = {"id": str(me.id), "grid_ids": [str(grid.id)]}
        on_phone = module_page.evaluate(
            PHONE_TASKS, [json.loads(json.dumps(records, default=str)), me_json, now.isoformat(), CALENDAR]
        )
        assert on_phone == server, drawn
        seen["tasks"] += len(server)
        seen["kinds"] |= {task["kind"] for task in server}

    same()
    # The draws reached the rules: tasks of most kinds were made and compared.
    assert seen["tasks"] >= 100, seen
    assert len(seen["kinds"]) >= 8, seen["kinds"]  # of the 10


# -- the edge-case table on the phone ------------------------------------------------------------

PHONE_CARE_VISIT = """async (cases) => {
  const { careVisit } = await import("/static/app/tasks.js");
  return cases.map(([home, people, last, rules, today]) => careVisit(home, people, last, rules, today));
}"""


def _moment_json(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def test_the_phone_gives_the_edge_case_table_the_servers_answers(module_page: Page) -> None:
    """tests/test_visit_tasks.py's table (midnight in Asia/Shanghai, nobody home, an inactive
    rule, a removed tag, coming of age, a status rule) through the phone's `careVisit`."""
    from server.workflows.visit_tasks import care_visit
    from tests.test_visit_tasks import EDGES, TODAY

    cases = [
        [
            {"status": house.status},
            [
                {"tags": sorted(p.tags), "birth_date": p.birth_date.isoformat() if p.birth_date else None}
                for p in house.people
            ],
            {
                "completed": _moment_json(house.last_completed),
                "nobody_home": _moment_json(house.last_nobody_home),
            },
            [{**rule.__dict__} for rule in rules],
            TODAY.isoformat(),
        ]
        for _, house, rules, _, _ in EDGES
    ]
    on_phone = module_page.evaluate(PHONE_CARE_VISIT, cases)
    for (case, house, rules, due, _), phone in zip(EDGES, on_phone, strict=True):
        server = care_visit(house, rules, TODAY)
        assert (phone["due"] if phone else None) == (due.isoformat() if due else None), case
        if server is not None:
            assert (phone["interval"], phone["priority"]) == (server.interval_days, server.priority), case


# -- changes that reach the phone by a pull ------------------------------------------------------


def test_a_moved_resident_a_removed_tag_and_a_moved_household_change_the_phones_tasks_as_the_servers(
    db: Database, make: Factory, sync_phone: Any, module_page: Page
) -> None:
    """The table's changes made in the office after the phone's first sync: the next pull
    (from its cursor, not a reset) leaves the phone with the server's tasks."""
    from server.clock import local_today
    from server.commands.households import move_household
    from server.commands.residents import sync_tag_links

    community = make.community()
    grid, elsewhere = make.grid(community), make.grid(community)
    make.tag("alone")
    make.visit_rule(community, tag_code="alone", interval_days=7)
    me = make.user(grids=[grid])
    staff = make.actor(make.user("community_staff", community=community))
    now = datetime.now(UTC)
    old_home, new_home, untagged, leaving = (make.household(grid) for _ in range(4))
    mover = make.resident(old_home, tags=["alone"])
    make._save(
        Visit(
            household_id=new_home.id,
            community_id=community.id,
            grid_id=grid.id,
            outcome="completed",
            at=now - timedelta(days=2),
        )
    )
    tagged = make.resident(untagged, tags=["alone"])
    make.resident(leaving, tags=["alone"])
    phone = sync_phone(me)
    me_json = {"id": str(me.id), "grid_ids": [str(grid.id)]}
    today = local_today()

    def compare() -> list[tuple[str, str]]:
        phone.pull()
        records = {
            kind: [{"id": rid, "data": data} for rid, data in phone.records(kind).items()]
            for kind in ("household", "resident", "visit", "visit_rule", "travel_card", "demand", "conflict")
        }
        on_phone = module_page.evaluate(
            PHONE_TASKS, [json.loads(json.dumps(records, default=str)), me_json, now.isoformat(), CALENDAR]
        )
        assert on_phone == _server_tasks(db, make, {"actor": make.actor(me)}, now)
        return [(task["record_id"], task["due"]) for task in on_phone]

    assert sorted(compare()) == sorted(
        [
            (str(old_home.id), today.isoformat()),
            (str(untagged.id), today.isoformat()),
            (str(leaving.id), today.isoformat()),
        ]
    )
    with db.write() as session:
        row = session.get(Resident, mover.id)
        assert row is not None
        row.household_id = new_home.id  # moves in with a household visited two days ago
        cleared = session.get(Resident, tagged.id)
        assert cleared is not None
        cleared.tags = []
        sync_tag_links(session, cleared)
        gone = session.get(Household, leaving.id)
        assert gone is not None
        move_household(session, actor=staff, household=gone, grid_id=elsewhere.id)
    assert compare() == [(str(new_home.id), (today + timedelta(days=5)).isoformat())]
