"""`/sync/push`, one test (at least) per rule of SYNC.md 1–8."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from server.db import Database
from server.models import Conflict, Demand, Household, MutationOutcome, SyncClient, Visit
from tests.conftest import Factory, login


def visit_args(household: Household, **kw: Any) -> dict[str, Any]:
    return {
        "visit_id": str(uuid.uuid4()),
        "household_id": str(household.id),
        "purpose": "routine",
        "outcome": "completed",
        "notes": "上门走访，一切正常",
        **kw,
    }


def count(db: Database, model: Any) -> int:
    with db.read() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def body(client_id: str, *mutations: dict[str, Any]) -> dict[str, Any]:
    return {"protocol": 1, "client_id": client_id, "mutations": list(mutations)}


def m(mid: int, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": mid, "name": name, "args": args, "at": "2026-11-25T09:31:02+08:00"}


def test_rule1_push_needs_a_session(client: TestClient) -> None:
    response = client.post("/sync/push", json=body(str(uuid.uuid4())))
    assert response.status_code == 401
    assert response.json()["error"] == "login_required"


@pytest.mark.parametrize("first_contact", ["push", "pull"])
def test_rule1_a_client_id_of_another_user_is_refused(
    app: Any, make: Factory, db: Database, first_contact: str
) -> None:
    """A client is its first user's whether it first pushed or only pulled."""
    grid = make.grid()
    household = make.household(grid)
    alice, bob = make.user(grids=[grid]), make.user(grids=[grid])
    client_id = str(uuid.uuid4())
    first_pull = {"protocol": 1, "client_id": client_id, "cursor": None}
    with TestClient(app) as a, TestClient(app) as b:
        login(a, alice)
        login(b, bob)
        if first_contact == "push":
            mine = a.post("/sync/push", json=body(client_id, m(1, "visit.record", visit_args(household))))
            assert mine.status_code == 200
        else:
            assert a.post("/sync/pull", json=first_pull).status_code == 200
        refused = b.post("/sync/push", json=body(client_id, m(2, "visit.record", visit_args(household))))
        assert refused.status_code == 403
        assert refused.json()["error"] == "client_not_yours"
        refused = b.post("/sync/pull", json=first_pull)
        assert (refused.status_code, refused.json()["error"]) == (403, "client_not_yours")
        assert a.post("/sync/pull", json=first_pull).status_code == 200
    with db.read() as s:
        row = s.get(SyncClient, uuid.UUID(client_id))
        assert row is not None and row.user_id == alice.id
    assert count(db, Visit) == (1 if first_contact == "push" else 0)


def test_rule2_mutations_apply_in_id_order_and_advance_the_counter(
    client: TestClient, make: Factory, db: Database
) -> None:
    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    client_id = str(uuid.uuid4())
    response = client.post(
        "/sync/push",
        json=body(
            client_id,
            m(
                2,
                "household.update",
                {
                    "household_id": str(household.id),
                    "base_version": household.version,
                    "set": {"notes": "第二"},
                },
            ),
            m(
                1,
                "household.update",
                {
                    "household_id": str(household.id),
                    "base_version": household.version,
                    "set": {"notes": "第一"},
                },
            ),
        ),
    )
    assert response.status_code == 200
    assert response.json()["last_mutation_id"] == 2
    assert [r["id"] for r in response.json()["results"]] == [1, 2]
    with db.read() as s:
        assert s.get(Household, household.id).notes == "第二"  # type: ignore[union-attr]
        assert s.get(SyncClient, uuid.UUID(client_id)).last_mutation_id == 2  # type: ignore[union-attr]


def test_rule3_a_replay_changes_nothing_and_repeats_the_first_outcome(
    client: TestClient, make: Factory, db: Database
) -> None:
    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    client_id = str(uuid.uuid4())
    payload = body(
        client_id,
        m(1, "visit.record", visit_args(household)),
        m(2, "demand.accept", {"demand_id": str(uuid.uuid4())}),
    )
    first = client.post("/sync/push", json=payload).json()
    again = client.post("/sync/push", json=payload).json()
    assert [r["status"] for r in first["results"]] == ["applied", "rejected"]
    assert [(r["status"], r.get("replayed")) for r in again["results"]] == [
        ("applied", True),
        ("rejected", True),
    ]
    assert again["results"][1]["code"] == first["results"][1]["code"] == "not_found"
    assert count(db, Visit) == 1
    assert count(db, MutationOutcome) == 1  # the refusal; applied ones need no row


def test_rule4_a_gap_stops_processing_there(client: TestClient, make: Factory, db: Database) -> None:
    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    client_id = str(uuid.uuid4())
    response = client.post(
        "/sync/push",
        json=body(
            client_id,
            m(1, "visit.record", visit_args(household)),
            m(3, "visit.record", visit_args(household)),
            m(4, "visit.record", visit_args(household)),
        ),
    ).json()
    assert response["last_mutation_id"] == 1
    assert [r["status"] for r in response["results"]] == ["applied", "out_of_order", "out_of_order"]
    assert count(db, Visit) == 1


def test_rule5_a_rejection_is_atomic_and_does_not_block_the_queue(
    client: TestClient, make: Factory, db: Database
) -> None:
    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    client_id = str(uuid.uuid4())
    bad = visit_args(household, purpose="party")
    response = client.post(
        "/sync/push",
        json=body(
            client_id,
            m(1, "visit.record", bad),
            m(2, "no.such.thing", {}),
            m(3, "visit.record", visit_args(household)),
        ),
    ).json()
    statuses = [(r["status"], r.get("code")) for r in response["results"]]
    assert statuses == [("rejected", "invalid_args"), ("rejected", "unknown_mutation"), ("applied", None)]
    assert response["results"][0]["message"]  # for people
    assert response["last_mutation_id"] == 3
    assert count(db, Visit) == 1


def test_rule5_a_failed_mutation_leaves_no_partial_effects(
    client: TestClient, make: Factory, db: Database
) -> None:
    """demand.create writes a demand and an event; a rejection must leave neither."""
    grid = make.grid()
    other = make.grid()
    login(client, make.user(grids=[grid]))
    foreign = make.household(other)
    args = {
        "demand_id": str(uuid.uuid4()),
        "household_id": str(foreign.id),
        "field": "property",
        "description": "路灯坏了",
        "source": "visit",
    }
    response = client.post("/sync/push", json=body(str(uuid.uuid4()), m(1, "demand.create", args))).json()
    assert response["results"][0]["code"] == "out_of_scope"
    assert count(db, Demand) == 0


def test_rule6_a_crashing_mutation_keeps_earlier_ones_and_answers_503(
    client: TestClient, make: Factory, db: Database, monkeypatch: Any
) -> None:
    from sync import catalogue

    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))

    def explode(*_args: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setitem(catalogue.CATALOGUE, "test.explode", catalogue.Mutation("test.explode", explode))
    client_id = str(uuid.uuid4())
    response = client.post(
        "/sync/push",
        json=body(
            client_id,
            m(1, "visit.record", visit_args(household)),
            m(2, "test.explode", {}),
            m(3, "visit.record", visit_args(household)),
        ),
    )
    assert response.status_code == 503
    assert response.headers["retry-after"]
    with db.read() as s:
        assert s.get(SyncClient, uuid.UUID(client_id)).last_mutation_id == 1  # type: ignore[union-attr]
    assert count(db, Visit) == 1


def test_rule8_update_conflicts_only_on_fields_another_change_also_set(
    make: Factory, db: Database, sync_phone: Any
) -> None:
    grid = make.grid()
    household = make.household(grid, phone="13800000000", notes="旧备注")
    a, b = sync_phone(make.user(grids=[grid])), sync_phone(make.user(grids=[grid]))
    base = household.version
    a.queue(
        "household.update",
        {"household_id": str(household.id), "base_version": base, "set": {"phone": "13911112222"}},
    )
    a.push()
    b.queue(
        "household.update",
        {
            "household_id": str(household.id),
            "base_version": base,
            "set": {"phone": "13733334444", "notes": "新备注"},
        },
    )
    result = b.push()
    assert result is not None
    outcome = result["results"][0]
    assert outcome["status"] == "conflict"
    assert outcome["conflicts"] == ["phone"]
    with db.read() as s:
        saved = s.get(Household, household.id)
        assert saved is not None and saved.phone == "13911112222" and saved.notes == "新备注"
        conflict = s.get(Conflict, uuid.UUID(outcome["conflict_id"]))
        assert conflict is not None
        assert (conflict.server_value, conflict.client_value, conflict.status) == (
            "13911112222",
            "13733334444",
            "open",
        )


def test_rule8_a_clients_own_earlier_edit_is_not_a_conflict(
    make: Factory, db: Database, sync_phone: Any
) -> None:
    grid = make.grid()
    household = make.household(grid)
    a = sync_phone(make.user(grids=[grid]))
    base = household.version
    a.queue(
        "household.update", {"household_id": str(household.id), "base_version": base, "set": {"notes": "一"}}
    )
    a.queue(
        "household.update", {"household_id": str(household.id), "base_version": base, "set": {"notes": "二"}}
    )
    a.push()
    assert [a.results[1]["status"], a.results[2]["status"]] == ["applied", "applied"]
    with db.read() as s:
        assert s.get(Household, household.id).notes == "二"  # type: ignore[union-attr]


def test_rule8_create_with_an_existing_id_is_a_replay_or_id_reused(
    make: Factory, db: Database, sync_phone: Any
) -> None:
    grid = make.grid()
    household = make.household(grid)
    a = sync_phone(make.user(grids=[grid]))
    args = visit_args(household)
    a.queue("visit.record", args)
    a.queue("visit.record", args)
    a.queue("visit.record", {**args, "notes": "别的内容"})
    a.push()
    assert [a.results[i]["status"] for i in (1, 2, 3)] == ["applied", "applied", "rejected"]
    assert a.results[3]["code"] == "id_reused"
    assert count(db, Visit) == 1


def test_rule8_workflow_steps_check_the_current_state(make: Factory, db: Database, sync_phone: Any) -> None:
    grid = make.grid()
    staff = make.user("community_staff")
    a, b = sync_phone(make.user(grids=[grid])), sync_phone(make.user(grids=[grid]))
    demand = Demand(
        community_id=grid.community_id,
        grid_id=grid.id,
        field="property",
        description="楼道灯坏了",
        source="phone",
        status="dispatched",
        created_by=staff.id,
    )
    make._save(demand)
    a.queue("demand.accept", {"demand_id": str(demand.id)})
    b.queue("demand.accept", {"demand_id": str(demand.id)})
    a.push()
    b.push()
    assert a.results[1]["status"] == "applied"
    assert (b.results[1]["status"], b.results[1]["code"]) == ("rejected", "invalid_transition")
    with db.read() as s:
        saved = s.get(Demand, demand.id)
        assert saved is not None and saved.status == "accepted" and saved.assignee_id == a_user_id(a)


def a_user_id(client: Any) -> uuid.UUID:
    return uuid.UUID(client.user["id"])


def test_rule3_a_second_copy_of_an_id_in_one_push_repeats_its_outcome_or_is_refused(
    client: TestClient, make: Factory, db: Database
) -> None:
    """Never `applied` for a copy that was not: an identical copy repeats the first outcome
    (here a rejection), a different mutation under the same id is refused and not applied."""
    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    bad = m(1, "visit.record", visit_args(household, purpose="party"))
    other = m(2, "visit.record", visit_args(household))
    response = client.post(
        "/sync/push",
        json=body(str(uuid.uuid4()), bad, bad, other, m(2, "visit.record", visit_args(household))),
    ).json()
    statuses = [(r["id"], r["status"], r.get("code"), r.get("replayed", False)) for r in response["results"]]
    assert statuses == [
        (1, "rejected", "invalid_args", False),
        (1, "rejected", "invalid_args", True),
        (2, "applied", None, False),
        (2, "rejected", "id_reused", False),
    ]
    assert response["last_mutation_id"] == 2
    assert count(db, Visit) == 1
