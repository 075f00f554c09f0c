"""Bad input to `/sync/push` gets the right status and code and changes nothing (rules 5, 7)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from server import versions
from server.db import Database
from server.models import MutationOutcome, SyncClient
from tests.conftest import Factory, login
from tests.test_sync_push import visit_args

CLIENT = str(uuid.uuid4())


def snapshot(db: Database) -> tuple[int, int, int]:
    with db.read() as s:
        return (
            versions.current(s),
            int(s.exec(select(func.count()).select_from(SyncClient)).one()),
            int(s.exec(select(func.count()).select_from(MutationOutcome)).one()),
        )


def envelope(*mutations: Any, **overrides: Any) -> dict[str, Any]:
    return {"protocol": 1, "client_id": CLIENT, "mutations": list(mutations), **overrides}


def one(name: str = "visit.record", args: Any = None, mid: Any = 1, **extra: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "name": name,
        "args": {} if args is None else args,
        "at": "2026-11-25T09:00:00+08:00",
        **extra,
    }


WHOLE_REQUEST_REFUSALS = [
    (
        "not json",
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        400,
        "invalid_json",
    ),
    (
        "form body",
        {"content": b"a=1", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        415,
        "unsupported_media_type",
    ),
    (
        "text body",
        {"content": b"{}", "headers": {"Content-Type": "text/plain"}},
        415,
        "unsupported_media_type",
    ),
    ("array body", {"json": []}, 400, "invalid_envelope"),
    ("protocol string", {"json": envelope(protocol="1")}, 400, "invalid_envelope"),
    ("protocol 2", {"json": envelope(protocol=2)}, 400, "unsupported_protocol"),
    ("client_id number", {"json": envelope(client_id=5)}, 400, "invalid_envelope"),
    ("client_id not uuid", {"json": envelope(client_id="phone-1")}, 400, "invalid_envelope"),
    ("mutations object", {"json": envelope(mutations={})}, 400, "invalid_envelope"),
    ("mutation not object", {"json": envelope("visit.record")}, 400, "invalid_envelope"),
    ("id string", {"json": envelope(one(mid="1"))}, 400, "invalid_envelope"),
    ("id zero", {"json": envelope(one(mid=0))}, 400, "invalid_envelope"),
    ("id bool", {"json": envelope(one(mid=True))}, 400, "invalid_envelope"),
    ("name missing", {"json": envelope({"id": 1, "args": {}})}, 400, "invalid_envelope"),
    ("args list", {"json": envelope(one(args=[]))}, 400, "invalid_envelope"),
    ("at number", {"json": envelope(one(at=5))}, 400, "invalid_envelope"),
    ("at not a time", {"json": envelope(one(at="yesterday"))}, 400, "invalid_envelope"),
    ("501 mutations", {"json": envelope(*[one(mid=i) for i in range(1, 502)])}, 413, "too_many_mutations"),
    (
        "6 MB body",
        {
            "content": json.dumps(envelope(one(args={"notes": "x" * 6_000_000}))).encode(),
            "headers": {"Content-Type": "application/json"},
        },
        413,
        "too_large",
    ),
]


@pytest.mark.parametrize(
    ("case", "request_kw", "status", "code"),
    WHOLE_REQUEST_REFUSALS,
    ids=[c[0] for c in WHOLE_REQUEST_REFUSALS],
)
def test_rule7_malformed_bodies_are_refused_and_change_nothing(
    client: TestClient,
    make: Factory,
    db: Database,
    case: str,
    request_kw: dict[str, Any],
    status: int,
    code: str,
) -> None:
    login(client, make.user(grids=[make.grid()]))
    before = snapshot(db)
    response = client.post("/sync/push", **request_kw)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert response.json()["message"]
    assert snapshot(db) == before


def test_rule7_a_lying_content_length_still_cannot_exceed_5_mb(
    client: TestClient, make: Factory, db: Database
) -> None:
    login(client, make.user(grids=[make.grid()]))
    big = json.dumps(envelope(one(args={"notes": "x" * 5_300_000}))).encode()

    def chunks() -> Any:
        yield big[:1000]
        yield big[1000:]

    response = client.post("/sync/push", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def mutation_refusals(make: Factory) -> tuple[list[tuple[str, dict[str, Any], str]], Any]:
    grid, other = make.grid(), make.grid()
    household = make.household(grid)
    foreign = make.household(other)
    used = visit_args(household)
    cases = [
        (
            "unknown mutation",
            one("visit.delete_everything", {"visit_id": str(uuid.uuid4())}),
            "unknown_mutation",
        ),
        ("args of wrong type", one(args={**visit_args(household), "notes": 42}), "invalid_args"),
        ("uuid not a uuid", one(args={**visit_args(household), "household_id": "12"}), "invalid_args"),
        ("enum out of range", one(args={**visit_args(household), "outcome": "maybe"}), "invalid_args"),
        ("notes too long", one(args={**visit_args(household), "notes": "字" * 2001}), "invalid_args"),
        ("extra arg", one(args={**visit_args(household), "drop_table": True}), "invalid_args"),
        ("bad photo hash", one(args={**visit_args(household), "photos": ["abc"]}), "invalid_args"),
        ("out of scope household", one(args=visit_args(foreign)), "out_of_scope"),
        (
            "missing household",
            one(args={**visit_args(household), "household_id": str(uuid.uuid4())}),
            "not_found",
        ),
        ("reused id", one(args={**used, "notes": "不同内容"}), "id_reused"),
        (
            "update of other grid",
            one(
                "household.update",
                {"household_id": str(foreign.id), "base_version": 0, "set": {"notes": "x"}},
            ),
            "out_of_scope",
        ),
        (
            "update unknown field",
            one(
                "household.update",
                {"household_id": str(household.id), "base_version": 0, "set": {"version": 1}},
            ),
            "invalid_args",
        ),
        (
            "phone invalid",
            one(
                "household.update",
                {"household_id": str(household.id), "base_version": 0, "set": {"phone": "12345"}},
            ),
            "invalid_args",
        ),
        ("demand of other grid", one("demand.accept", {"demand_id": str(uuid.uuid4())}), "not_found"),
    ]
    return cases, (grid, household, used)


def test_rule5_rejected_mutations_carry_a_code_and_a_message_and_change_nothing(
    client: TestClient, make: Factory, db: Database
) -> None:
    cases, (grid, _household, used) = mutation_refusals(make)
    login(client, make.user(grids=[grid]))
    first = client.post("/sync/push", json=envelope(one(args=used)))
    assert first.json()["results"][0]["status"] == "applied"
    before_version = snapshot(db)[0]
    mutations = [{**m, "id": i + 2} for i, (_, m, _) in enumerate(cases)]
    response = client.post("/sync/push", json=envelope(*mutations))
    assert response.status_code == 200
    results = response.json()["results"]
    got = {case: (r["status"], r.get("code")) for (case, _, _), r in zip(cases, results, strict=True)}
    assert got == {case: ("rejected", code) for case, _, code in cases}
    assert all(r["message"] for r in results)
    assert response.json()["last_mutation_id"] == len(cases) + 1
    assert snapshot(db)[0] == before_version  # no record changed


def test_messages_follow_the_users_language(client: TestClient, make: Factory) -> None:
    grid = make.grid()
    login(client, make.user(grids=[grid]))
    client.cookies.set("doorstep_lang", "en")
    response = client.post("/sync/push", json=envelope(one("no.such", {})))
    assert response.json()["results"][0]["code"] == "unknown_mutation"
