"""Property: whatever JSON a phone pushes, every push answers 200 with one outcome per
mutation (or refuses the whole request with 401/403/413/415), never 500, and never 503
twice for the same input (SYNC.md rules 5 and 6; docs/sync.md "What the database can hold")."""

from __future__ import annotations

import inspect
import json
import uuid
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from starlette.testclient import TestClient

from server.commands import conflicts, demands, households, residents, travel_cards, visits
from sync.catalogue import load
from tests.conftest import Factory, login

NAMES = sorted(load())
# Every argument name of every shape, so that generated args get past "unknown field".
ARG_NAMES = sorted(
    {
        name
        for module in (conflicts, demands, households, residents, travel_cards, visits)
        for shape in vars(module).values()
        if inspect.isclass(shape) and issubclass(shape, BaseModel) and shape is not BaseModel
        for name in shape.model_fields
    }
)
EDGE_TEXT = [
    "",
    "\x00",
    "\ud800",
    "门口\x00有人",
    "0001-01-01T00:00+14:00",
    "9999-12-31T23:59-12:00",
    "9999-12-31",
    "0001-01-01",
    "2026-11-25T09:31:02+08:00",
    "routine",
    "completed",
    "property",
    "visit",
    "collect",
    "approve",
    "server",
    "13800138000",
    "a" * 2001,
]
EDGE_NUMBERS = [0, -1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, 1e308, 90.5, -180.5]
OFFSETS = ["", "Z", "+14:00", "-12:00", "+08:00"]

texts = st.sampled_from(EDGE_TEXT) | st.text(st.characters(exclude_categories=()), max_size=12)
numbers = st.sampled_from(EDGE_NUMBERS) | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
at_values = (
    st.none()
    | st.just("2026-11-25T09:31:02+08:00")
    | st.sampled_from(["0001-01-01T00:00+14:00", "9999-12-31T23:59-12:00", "0001-01-01", "9999-12-31"])
    | st.builds(
        lambda moment, offset: moment.isoformat() + offset,
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
        st.sampled_from(OFFSETS),
    )
)


def json_values(ids: list[str]) -> st.SearchStrategy[Any]:
    leaves = st.none() | st.booleans() | numbers | texts | st.sampled_from(ids)
    keys = st.sampled_from(ARG_NAMES) | texts
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
        max_leaves=8,
    )


def templates(ids: dict[str, str], new: str) -> list[tuple[str, dict[str, Any]]]:
    """Valid mutations, one field of which the strategy replaces: edge values get past the
    shape's other checks and reach the commands and the database."""
    household, resident, grid = ids["household"], ids["resident"], ids["grid"]
    return [
        (
            "visit.record",
            {
                "visit_id": new,
                "household_id": household,
                "purpose": "routine",
                "outcome": "completed",
                "notes": "走访",
                "at": "2026-11-25T09:31:02+08:00",
            },
        ),
        ("household.update", {"household_id": household, "base_version": 0, "set": {"notes": "改"}}),
        ("household.create", {"household_id": new, "grid_id": grid, "estate": "幸福小区", "lat": 30.0}),
        (
            "demand.create",
            {
                "demand_id": new,
                "household_id": household,
                "field": "property",
                "description": "路灯坏了",
                "source": "visit",
                "lat": 30.0,
                "lng": 120.0,
            },
        ),
        ("resident.create", {"resident_id": new, "household_id": household, "name": "张三"}),
        (
            "travel_card.create",
            {
                "application_id": new,
                "resident_id": resident,
                "delivery": "collect",
                "checklist": {"consent": True, "consent_at": "2026-11-25T09:31:02+08:00"},
            },
        ),
    ]


def near_valid(ids: dict[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    values = json_values(list(ids.values()))

    def one(new: uuid.UUID, index: int) -> st.SearchStrategy[dict[str, Any]]:
        name, args = templates(ids, str(new))[index]
        return st.builds(
            lambda key, value: {"name": name, "args": {**args, key: value}},
            st.sampled_from(sorted(args)),
            values,
        )

    return st.tuples(st.uuids(), st.integers(0, len(templates(ids, "")) - 1)).flatmap(lambda t: one(*t))


def mutations(ids: dict[str, str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    args = st.dictionaries(st.sampled_from(ARG_NAMES) | texts, json_values(list(ids.values())), max_size=6)
    name = st.sampled_from(NAMES) | texts
    anything = st.fixed_dictionaries({"name": name, "args": args})
    one = st.builds(lambda item, at: {**item, "at": at}, near_valid(ids) | anything, at_values)
    return st.lists(one, min_size=1, max_size=4).map(
        lambda items: [{"id": n, **item} for n, item in enumerate(items, start=1)]
    )


def raw_push(client: TestClient, client_id: str, items: list[dict[str, Any]]) -> Any:
    # ensure_ascii escapes lone surrogates and NUL, allow_nan writes NaN/Infinity: what a
    # JSON library on a phone may produce and the server's parser accepts.
    text = json.dumps({"protocol": 1, "client_id": client_id, "mutations": items}, allow_nan=True)
    return client.post("/sync/push", content=text.encode(), headers={"content-type": "application/json"})


WHOLE_REQUEST = {401, 403, 413, 415}
OUTCOMES = {"applied", "rejected", "conflict"}


def check(response: Any, items: list[dict[str, Any]]) -> None:
    assert response.status_code != 500
    if response.status_code in WHOLE_REQUEST:
        return
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["id"] for r in results] == [item["id"] for item in items]
    for result in results:
        assert result["status"] in OUTCOMES, result
        if result["status"] == "rejected":
            assert result["code"] and result["message"]


def test_any_json_pushed_gets_an_outcome_per_mutation_never_500_nor_endless_503(
    app: Any, make: Factory
) -> None:
    grid = make.grid()
    household = make.household(grid)
    resident = make.resident(household)
    worker = make.user(grids=[grid])
    staff = make.user("community_staff", community=make._community_of(grid))
    ids = {
        "grid": str(grid.id),
        "household": str(household.id),
        "resident": str(resident.id),
        "worker": str(worker.id),
        "unknown": str(uuid.uuid4()),
    }
    with TestClient(app) as as_worker, TestClient(app) as as_staff:
        login(as_worker, worker)
        login(as_staff, staff)

        @settings(
            max_examples=300,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(items=mutations(ids), staff_pushes=st.booleans())
        def push_anything(items: list[dict[str, Any]], staff_pushes: bool) -> None:
            client = as_staff if staff_pushes else as_worker
            client_id = str(uuid.uuid4())
            response = raw_push(client, client_id, items)
            if response.status_code == 503:
                response = raw_push(client, client_id, items)
                assert response.status_code != 503, "503 twice for the same input"
                # The resend reports what the first try committed as replayed.
                for result in response.json()["results"]:
                    result.pop("replayed", None)
            check(response, items)

        push_anything()


@pytest.mark.parametrize("text", ["\ud800", "\x00"])
def test_a_name_the_database_cannot_hold_is_an_unknown_mutation(
    client: TestClient, make: Factory, text: str
) -> None:
    login(client, make.user(grids=[make.grid()]))
    items = [{"id": 1, "name": f"visit{text}", "args": {}, "at": None}]
    response = raw_push(client, str(uuid.uuid4()), items)
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    assert (result["status"], result["code"]) == ("rejected", "unknown_mutation")
