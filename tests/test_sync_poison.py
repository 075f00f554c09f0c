"""Poison pills: a mutation the database cannot store, or one that fails every time, is
rejected (SYNC.md rule 5) and never blocks the outbox behind it with an eternal 503 (rule 6)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import insert, text
from sqlmodel import Session, select
from starlette.testclient import TestClient

from server.commands.travel_cards import Checklist, ReviewVisitPlan
from server.commands.validation import validate
from server.db import Database
from server.errors import InvalidInput
from server.models import Household, MutationOutcome, SyncClient, Visit
from sync import catalogue
from tests.conftest import Factory, login
from tests.test_sync_push import body, count, m, visit_args


def push_raw(client: TestClient, text: str) -> Any:
    """Send JSON text as is: lone surrogates and NaN cannot go through `json=`."""
    return client.post("/sync/push", content=text.encode(), headers={"content-type": "application/json"})


def worker_at_door(client: TestClient, make: Factory) -> Household:
    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    return household


def last_mutation_id(db: Database, client_id: str) -> int:
    with db.read() as s:
        row = s.get(SyncClient, uuid.UUID(client_id))
        return row.last_mutation_id if row else 0


def expect_rejected_then_next_applied(client: TestClient, db: Database, first: dict[str, Any]) -> None:
    household = worker_at_door_household(db)
    client_id = str(uuid.uuid4())
    text = json.dumps(body(client_id, first, m(2, "visit.record", visit_args(household))))
    response = push_raw(client, text.replace("@NUL@", "\\u0000").replace("@SURROGATE@", "\\ud800"))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        ("rejected", "invalid_args"),
        ("applied", None),
    ]
    assert results[0]["message"]
    assert last_mutation_id(db, client_id) == 2
    assert count(db, Visit) == 1


def worker_at_door_household(db: Database) -> Household:
    with db.read() as s:
        return s.exec(select(Household)).one()


EDGE_TIMES = ["0001-01-01T00:00+14:00", "9999-12-31T23:59-12:00", "9999-12-31T00:00:00Z", "0001-01-01"]


@pytest.mark.parametrize("at", EDGE_TIMES)
def test_a_mutation_at_the_edge_of_the_calendar_is_rejected_not_retried_forever(
    client: TestClient, make: Factory, db: Database, at: str
) -> None:
    household = worker_at_door(client, make)
    first = {**m(1, "visit.record", visit_args(household)), "at": at}
    expect_rejected_then_next_applied(client, db, first)


@pytest.mark.parametrize("at", EDGE_TIMES)
def test_a_time_argument_at_the_edge_of_the_calendar_is_rejected(
    client: TestClient, make: Factory, db: Database, at: str
) -> None:
    household = worker_at_door(client, make)
    expect_rejected_then_next_applied(client, db, m(1, "visit.record", visit_args(household, at=at)))


@pytest.mark.parametrize("marker", ["@NUL@", "@SURROGATE@"])
def test_text_the_database_cannot_hold_is_rejected(
    client: TestClient, make: Factory, db: Database, marker: str
) -> None:
    household = worker_at_door(client, make)
    first = m(1, "visit.record", visit_args(household, notes=f"门口{marker}有人"))
    expect_rejected_then_next_applied(client, db, first)


@pytest.mark.parametrize("marker", ["@NUL@", "@SURROGATE@"])
def test_text_inside_an_update_set_is_checked_too(
    client: TestClient, make: Factory, db: Database, marker: str
) -> None:
    household = worker_at_door(client, make)
    update = {"household_id": str(household.id), "base_version": 0, "set": {"notes": f"a{marker}b"}}
    expect_rejected_then_next_applied(client, db, m(1, "household.update", update))


@pytest.mark.parametrize(
    ("field", "number"),
    [("base_version", str(2**64)), ("base_version", str(2**63)), ("lat", "1e999"), ("lat", "NaN")],
)
def test_numbers_the_database_cannot_hold_are_rejected(
    client: TestClient, make: Factory, db: Database, field: str, number: str
) -> None:
    """A base_version beyond BIGINT is no version at all (it would make every edit look
    unconflicted); a non-finite coordinate is no place."""
    household = worker_at_door(client, make)
    update = {"household_id": str(household.id), "base_version": 0, "set": {"notes": "新的备注"}}
    if field == "lat":
        update["set"] = {"lat": "@N@"}
    else:
        update["base_version"] = "@N@"
    client_id = str(uuid.uuid4())
    text = json.dumps(body(client_id, m(1, "household.update", update))).replace('"@N@"', number)
    response = push_raw(client, text)
    assert response.status_code == 200, response.text
    assert [(r["status"], r.get("code")) for r in response.json()["results"]] == [
        ("rejected", "invalid_args")
    ]
    assert last_mutation_id(db, client_id) == 1
    with db.read() as s:
        stored = s.get(Household, household.id)
        assert stored is not None and stored.notes == household.notes and stored.lat is None


def test_a_refusal_of_the_database_inside_a_mutation_is_a_rejection(
    client: TestClient, make: Factory, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A constraint the database enforces (here: a duplicate key) refuses the same way every
    time: rejected at once, its savepoint rolled back, the mutations after it applied."""
    household = worker_at_door(client, make)

    def duplicate_key(session: Session, _ctx: Any, _args: Any) -> None:
        row = {"client_id": uuid.uuid4(), "mutation_id": 1, "name": "x", "status": "x", "result": {}}
        session.execute(insert(MutationOutcome.__table__), [row, row])  # type: ignore[attr-defined]

    monkeypatch.setitem(catalogue.CATALOGUE, "test.dup", catalogue.Mutation("test.dup", duplicate_key))
    client_id = str(uuid.uuid4())
    response = client.post(
        "/sync/push",
        json=body(client_id, m(1, "test.dup", {}), m(2, "visit.record", visit_args(household))),
    )
    assert response.status_code == 200, response.text
    assert [(r["status"], r.get("code")) for r in response.json()["results"]] == [
        ("rejected", "invalid_args"),
        ("applied", None),
    ]
    assert last_mutation_id(db, client_id) == 2
    assert count(db, MutationOutcome) == 1  # the rejection's, none of the mutation's rows


def test_a_mutation_that_fails_every_time_is_rejected_on_its_second_try(
    client: TestClient, make: Factory, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 6's 503 is for temporary failures: the first failure is one (503, nothing of it
    kept), the same mutation failing again is a rejection, and the queue moves on."""
    household = worker_at_door(client, make)
    tries: list[int] = []

    def explode(*_args: Any) -> None:
        tries.append(1)
        raise RuntimeError("bug")

    monkeypatch.setitem(catalogue.CATALOGUE, "test.explode", catalogue.Mutation("test.explode", explode))
    client_id = str(uuid.uuid4())
    payload = body(
        client_id,
        m(1, "visit.record", visit_args(household)),
        m(2, "test.explode", {}),
        m(3, "visit.record", visit_args(household)),
    )
    first = client.post("/sync/push", json=payload)
    assert first.status_code == 503
    assert last_mutation_id(db, client_id) == 1
    second = client.post("/sync/push", json=payload)
    assert second.status_code == 200, second.text
    assert [(r["status"], r.get("code")) for r in second.json()["results"]] == [
        ("applied", None),
        ("rejected", "invalid_args"),
        ("applied", None),
    ]
    assert len(tries) == 2
    assert last_mutation_id(db, client_id) == 3
    assert count(db, Visit) == 2
    replay = client.post("/sync/push", json=payload).json()["results"][1]
    assert (replay["status"], replay["code"], replay["replayed"]) == ("rejected", "invalid_args", True)
    assert len(tries) == 2


def test_a_failure_that_passes_is_forgotten(
    client: TestClient, make: Factory, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One failure, then success: the next mutation that fails once gets its own second try."""
    worker_at_door(client, make)
    failing = {"left": 1}

    def flaky(*_args: Any) -> None:
        if failing["left"]:
            failing["left"] -= 1
            raise RuntimeError("once")

    monkeypatch.setitem(catalogue.CATALOGUE, "test.flaky", catalogue.Mutation("test.flaky", flaky))
    client_id = str(uuid.uuid4())
    assert client.post("/sync/push", json=body(client_id, m(1, "test.flaky", {}))).status_code == 503
    ok = client.post("/sync/push", json=body(client_id, m(1, "test.flaky", {})))
    assert ok.json()["results"] == [{"id": 1, "status": "applied"}]
    failing["left"] = 1
    again = client.post("/sync/push", json=body(client_id, m(2, "test.flaky", {})))
    assert again.status_code == 503
    assert last_mutation_id(db, client_id) == 1


@pytest.mark.parametrize(
    ("shape", "args", "field"),
    [
        (ReviewVisitPlan, {"application_id": str(uuid.uuid4()), "planned_for": "9999-12-31"}, "planned_for"),
        (ReviewVisitPlan, {"application_id": str(uuid.uuid4()), "planned_for": "0001-01-01"}, "planned_for"),
        (Checklist, {"consent": True, "consent_at": "0001-01-01T00:00+14:00"}, "consent_at"),
    ],
)
def test_every_shape_checks_its_days_and_times_nested_ones_too(
    shape: type[BaseModel], args: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate(shape, args)
    assert list(refused.value.errors) == [field]


def test_times_that_pass_are_utc() -> None:
    checklist = validate(Checklist, {"consent": True, "consent_at": "2026-11-25T09:31:02+08:00"})
    assert checklist.consent_at is not None and checklist.consent_at.utcoffset() == timedelta(0)
    assert checklist.consent_at.hour == 1


def test_a_connection_lost_under_a_mutation_retries_the_whole_push(
    client: TestClient, make: Factory, db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 6: the database goes away under a mutation (an outage, a restart): the session is
    gone with it, so the push is tried again whole — never a 500, nothing lost or doubled."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a connection the database itself ends is PostgreSQL's (pg_terminate_backend)")
    household = worker_at_door(client, make)
    killed: list[int] = []

    def lose_connection(session: Session, *_args: Any) -> None:
        if not killed:
            killed.append(1)
            session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    monkeypatch.setitem(catalogue.CATALOGUE, "test.lost", catalogue.Mutation("test.lost", lose_connection))
    client_id = str(uuid.uuid4())
    payload = body(
        client_id,
        m(1, "visit.record", visit_args(household)),
        m(2, "test.lost", {}),
        m(3, "visit.record", visit_args(household)),
    )
    response = client.post("/sync/push", json=payload)
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["applied", "applied", "applied"]
    assert killed == [1]
    assert last_mutation_id(db, client_id) == 3
    assert count(db, Visit) == 2
