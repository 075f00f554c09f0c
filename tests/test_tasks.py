"""The worker's tasks beyond care visits (server/workflows/tasks.py), and the query that feeds them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.db import Database
from server.models import Demand, TravelCard
from server.queries.tasks import tasks_for
from server.workflows.tasks import (
    CardState,
    ConflictState,
    RequestState,
    Task,
    TaskKind,
    Worker,
    card_task,
    conflict_task,
    request_task,
    tasks_of,
)
from server.workflows.visit_tasks import Home, Person, Rule
from server.workflows.workdays import calendar_of
from tests.conftest import Factory

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TODAY = date(2026, 12, 10)
ME = Worker(id="me", grid_ids=frozenset({"g1"}))


@pytest.mark.parametrize(
    ("card", "kind", "overdue"),
    [
        (CardState("c", "h", "needs_supplement"), TaskKind.card_supplement, False),
        (CardState("c", "h", "ready", delivery="door"), TaskKind.card_deliver, False),
        (CardState("c", "h", "ready", delivery="collect"), None, False),
        (CardState("c", "h", "issued", review_due=TODAY + timedelta(days=30)), TaskKind.card_review, False),
        (CardState("c", "h", "issued", review_due=TODAY + timedelta(days=31)), None, False),
        (CardState("c", "h", "issued", review_due=TODAY - timedelta(days=1)), TaskKind.card_review, True),
        (CardState("c", "h", "issued", review_due=TODAY, review_planned=True), None, False),
        (CardState("c", "h", "submitted"), None, False),
    ],
)
def test_card_tasks(card: CardState, kind: TaskKind | None, overdue: bool) -> None:
    task = card_task(card, TODAY)
    assert (task.kind if task else None) == kind
    if task:
        assert (task.due, task.overdue) == (TODAY, overdue)


@pytest.mark.parametrize(
    ("request_", "kind", "due", "overdue"),
    [
        (RequestState("d", "h", "g1", "dispatched"), TaskKind.demand_accept, TODAY, False),
        (RequestState("d", "h", "g2", "dispatched"), None, None, False),
        (RequestState("d", "h", "g1", "dispatched", department_id="x"), None, None, False),
        (RequestState("d", "h", "g1", "rectifying"), TaskKind.demand_rectify, TODAY, False),
        (RequestState("d", "h", "g1", "rectifying", assignee_id="me"), None, None, False),
        (
            RequestState("d", "h", "g1", "accepted", assignee_id="me", deadline=NOW + timedelta(hours=24)),
            TaskKind.demand_due,
            TODAY,
            False,
        ),
        (
            RequestState("d", "h", "g1", "accepted", assignee_id="me", deadline=NOW + timedelta(hours=25)),
            None,
            None,
            False,
        ),
        (
            RequestState("d", "h", "g1", "in_progress", assignee_id="me", deadline=NOW - timedelta(days=2)),
            TaskKind.demand_due,
            TODAY - timedelta(days=2),
            True,
        ),
        (
            RequestState("d", "h", "g1", "accepted", assignee_id="you", deadline=NOW - timedelta(days=2)),
            None,
            None,
            False,
        ),
        (  # 3 working days, 1 day left (Thursday 10 Dec 10:00 → Friday): 2 of 3 used, not yet 75 %
            RequestState(
                "d", "h", "g1", "accepted", assignee_id="me", deadline=NOW + timedelta(days=1), time_limit="3"
            ),
            None,
            None,
            False,
        ),
        (  # half a day left of 3: 即将超期
            RequestState(
                "d",
                "h",
                "g1",
                "accepted",
                assignee_id="me",
                deadline=NOW + timedelta(hours=12),
                time_limit="3",
            ),
            TaskKind.demand_due,
            TODAY,
            False,
        ),
        (  # 7 working days with 30 hours left (Thursday → Friday 16:00): 1.25 of 7 left, past 75 %
            RequestState(
                "d",
                "h",
                "g1",
                "accepted",
                assignee_id="me",
                deadline=NOW + timedelta(hours=30),
                time_limit="7",
            ),
            TaskKind.demand_due,
            TODAY,
            False,
        ),
        (  # the clock stopped: no task, not overdue
            RequestState(
                "d", "h", "g1", "accepted", assignee_id="me", deadline=NOW - timedelta(days=1), suspended=True
            ),
            None,
            None,
            False,
        ),
        (
            RequestState("d", "h", "g1", "resolved", assignee_id="me", deadline=NOW - timedelta(days=2)),
            None,
            None,
            False,
        ),
    ],
)
def test_request_tasks(
    request_: RequestState, kind: TaskKind | None, due: date | None, overdue: bool
) -> None:
    task = request_task(request_, ME, NOW, calendar_of({}))
    assert (task.kind if task else None) == kind
    if task:
        assert (task.due, task.overdue) == (due, overdue)


def test_only_the_workers_own_open_conflicts_wait_for_them() -> None:
    assert conflict_task(ConflictState("k", "me", "open"), ME, TODAY) == Task(
        TaskKind.conflict, "k", None, TODAY, False
    )
    assert conflict_task(ConflictState("k", "you", "open"), ME, TODAY) is None
    assert conflict_task(ConflictState("k", "me", "resolved"), ME, TODAY) is None


def test_care_visits_of_the_week_ahead_are_listed_and_grouped() -> None:
    alone = Rule(id="r", subject="tag", tag_code="alone", interval_days=7)
    person = Person(tags=frozenset({"alone"}))
    seen = {  # last completed visit, local midday, n days ago
        "h-overdue": 9,
        "h-today": 7,
        "h-in-6-days": 1,
        "h-in-7-days": 0,
    }
    homes = [
        Home(id=h, grid_id="g1", status="active", people=(person,), last_completed=NOW - timedelta(days=n))
        for h, n in seen.items()
    ]
    found = tasks_of(ME, NOW, homes=homes, rules=[alone])
    assert [(t.record_id, t.group(TODAY)) for t in found] == [
        ("h-overdue", "overdue"),
        ("h-today", "today"),
        ("h-in-6-days", "week"),
    ]


def test_the_query_makes_the_tasks_of_the_workers_scope(make: Factory, db: Database) -> None:
    grid, elsewhere = make.grid(), make.grid()
    worker = make.user(grids=[grid])
    make.visit_rule(tag_code="alone", interval_days=7)
    home = make.household(grid)
    make.resident(home, tags=["alone"])
    far = make.household(elsewhere)
    make.resident(far, tags=["alone"])
    card = make._save(
        TravelCard(
            resident_id=make.resident(home).id,
            household_id=home.id,
            community_id=home.community_id,
            grid_id=grid.id,
            status="ready",
            delivery="door",
        )
    )
    demand = make._save(
        Demand(
            community_id=home.community_id,
            grid_id=grid.id,
            household_id=home.id,
            field="other",
            description="路灯",
            source="visit",
            status="dispatched",
        )
    )
    with db.read() as session:
        found = tasks_for(session, make.actor(worker), datetime.now(UTC))
    assert sorted((t.kind, t.record_id) for t in found) == sorted(
        [
            (TaskKind.care_visit, str(home.id)),
            (TaskKind.card_deliver, str(card.id)),
            (TaskKind.demand_accept, str(demand.id)),
        ]
    )
