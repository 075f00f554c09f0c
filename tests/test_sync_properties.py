"""Property: however phones interleave pushes, replays, lost responses and pulls,
every phone converges on the server's data, and every mutation took effect exactly once."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, func, select
from starlette.testclient import TestClient

from server.db import Database
from server.models import Demand, DemandEvent, MutationOutcome, SyncClient, Visit
from sync.client import Client
from tests.conftest import Factory, login

PHONES = 3

action = st.one_of(
    st.tuples(st.just("visit"), st.integers(0, PHONES - 1), st.integers(0, 2)),
    st.tuples(st.just("notes"), st.integers(0, PHONES - 1), st.integers(0, 2)),
    st.tuples(st.just("demand"), st.integers(0, PHONES - 1), st.integers(0, 2)),
    st.tuples(st.just("push"), st.integers(0, PHONES - 1), st.integers(1, 4)),
    st.tuples(st.just("lost_push"), st.integers(0, PHONES - 1), st.integers(1, 4)),
    st.tuples(st.just("pull"), st.integers(0, PHONES - 1), st.just(0)),
)


def fresh_pull(http: TestClient) -> dict[tuple[str, str], dict[str, Any]]:
    observer = Client(http=http)
    observer.pull()
    return observer.store


def test_phones_converge_and_nothing_is_lost_or_doubled(app: Any, make: Factory, db: Database) -> None:
    grid = make.grid()
    households = [make.household(grid) for _ in range(3)]
    https = []
    for _ in range(PHONES):
        http = TestClient(app)
        login(http, make.user(grids=[grid]))
        https.append(http)

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(action, min_size=1, max_size=25))
    def run(actions: list[tuple[str, int, int]]) -> None:
        phones = [Client(http=h) for h in https]
        for p in phones:
            p.pull()
        queued_visits: list[str] = []
        queued_demands: list[str] = []
        for kind, i, n in actions:
            p = phones[i]
            household = households[n % len(households)]
            if kind == "visit":
                visit_id = str(uuid.uuid4())
                queued_visits.append(visit_id)
                p.queue(
                    "visit.record",
                    {
                        "visit_id": visit_id,
                        "household_id": str(household.id),
                        "purpose": "routine",
                        "outcome": "completed",
                        "notes": f"走访{len(queued_visits)}",
                    },
                )
            elif kind == "notes":
                local = p.store.get(("household", str(household.id)), {})
                p.queue(
                    "household.update",
                    {
                        "household_id": str(household.id),
                        "base_version": local.get("version", 0),
                        "set": {"notes": f"备注 {uuid.uuid4().hex[:6]}"},
                    },
                )
            elif kind == "demand":
                demand_id = str(uuid.uuid4())
                queued_demands.append(demand_id)
                p.queue(
                    "demand.create",
                    {
                        "demand_id": demand_id,
                        "household_id": str(household.id),
                        "field": "environment",
                        "description": "楼道堆物",
                        "source": "visit",
                    },
                )
            elif kind == "push":
                p.push(batch=n)
            elif kind == "lost_push":
                # The server processes the batch, but the answer never reaches the phone.
                p.http.post(
                    "/sync/push", json={"protocol": 1, "client_id": p.client_id, "mutations": p.outbox[:n]}
                )
            else:
                p.pull()
        for p in phones:
            p.sync(batch=3)
            assert p.pending == 0
        for p in phones:
            p.pull()  # after everyone has pushed

        truth = [fresh_pull(h) for h in https]
        for p, expected in zip(phones, truth, strict=True):
            assert p.store == expected  # converged on a fresh full pull

        with db.read() as s:
            visits = s.exec(
                select(Visit).where(col(Visit.id).in_([uuid.UUID(v) for v in queued_visits]))
            ).all()
            assert len(visits) == len(queued_visits)  # none lost
            demand_ids = [uuid.UUID(d) for d in queued_demands]
            assert s.exec(
                select(func.count()).select_from(Demand).where(col(Demand.id).in_(demand_ids))
            ).one() == len(demand_ids)
            events = s.exec(
                select(func.count())
                .select_from(DemandEvent)
                .where(col(DemandEvent.demand_id).in_(demand_ids))
            ).one()
            assert events == len(demand_ids)  # created once each, never twice
            for p in phones:
                client = s.get(SyncClient, uuid.UUID(p.client_id))
                total = p.next_id - 1
                if total:
                    assert client is not None and client.last_mutation_id == total
                    # every mutation has exactly one outcome; refusals and conflicts are stored
                    assert sorted(p.results) == list(range(1, total + 1))
                    stored = s.exec(
                        select(func.count())
                        .select_from(MutationOutcome)
                        .where(MutationOutcome.client_id == client.client_id)
                    ).one()
                    assert stored == sum(1 for r in p.results.values() if r["status"] != "applied")
        for p in phones:
            assert all(r["status"] in ("applied", "conflict") for r in p.results.values()), p.results

    try:
        run()
    finally:
        for h in https:
            h.close()
