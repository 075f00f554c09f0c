"""Two workers of one grid accept the same request at the same moment: exactly one wins, every time.

Each worker pushes from its own thread through its own `Database` (as two app
servers would), released together by a barrier; on SQLite and on PostgreSQL,
whichever the suite runs on.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select

from server.access import Actor
from server.db import Database
from server.models import Demand, DemandEvent
from server.people.vault import Vault
from sync.push import PushedMutation, PushRequest, PushResult, push
from tests.conftest import Factory

ROUNDS = 20


def race(
    databases: list[Database],
    actors: list[Actor],
    clients: list[uuid.UUID],
    vault: Vault,
    demand_id: uuid.UUID,
    *,
    mutation_id: int,
) -> list[Any]:
    """Both workers push `demand.accept` at once, each from its thread and its database;
    their results (or what they raised)."""
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def accept(i: int) -> None:
        mutation = PushedMutation(
            id=mutation_id, name="demand.accept", args={"demand_id": str(demand_id)}, at=datetime.now(UTC)
        )
        request = PushRequest(client_id=clients[i], mutations=[mutation])
        barrier.wait()
        try:
            outcome: PushResult = databases[i].run_write(
                lambda s: push(s, actor=actors[i], vault=vault, request=request)
            )
            results[i] = outcome.results[0]
        except Exception as exc:  # reported by the caller, with the round
            results[i] = exc

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_workers_accept_at_once_and_exactly_one_wins(
    make: Factory, db: Database, database_url: str, vault: Vault
) -> None:
    grid = make.grid()
    users = [make.user("grid_worker", grids=[grid]), make.user("grid_worker", grids=[grid])]
    actors = [make.actor(u) for u in users]
    clients = [uuid.uuid4(), uuid.uuid4()]
    second = Database(database_url)
    databases = [db, second]
    demands = []
    for _ in range(ROUNDS):
        demand = Demand(
            community_id=grid.community_id,
            grid_id=grid.id,
            field="property",
            description="楼道灯坏了",
            source="phone",
            status="dispatched",
            handling_type="self",
        )
        make._save(demand)
        demands.append(demand)

    winners: list[int] = []
    try:
        for n, demand in enumerate(demands, start=1):
            results = race(databases, actors, clients, vault, demand.id, mutation_id=n)
            assert all(isinstance(r, dict) for r in results), (n, results)
            statuses = sorted((r["status"], r.get("code")) for r in results)
            assert statuses == [("applied", None), ("rejected", "invalid_transition")], (n, results)
            winner = next(i for i, r in enumerate(results) if r["status"] == "applied")
            winners.append(winner)
            with db.read() as s:
                saved = s.get(Demand, demand.id)
                assert saved is not None
                assert (saved.status, saved.assignee_id) == ("accepted", users[winner].id)
                events = list(
                    s.exec(
                        select(DemandEvent).where(
                            DemandEvent.demand_id == demand.id, col(DemandEvent.kind) == "accepted"
                        )
                    )
                )
                assert [e.actor_id for e in events] == [users[winner].id]
    finally:
        second.dispose()
    assert len(winners) == ROUNDS


def test_the_loser_s_phone_learns_who_has_it(make: Factory, sync_phone: Any) -> None:
    grid = make.grid()
    a_user, b_user = make.user("grid_worker", grids=[grid]), make.user("grid_worker", grids=[grid])
    demand = Demand(
        community_id=grid.community_id,
        grid_id=grid.id,
        field="property",
        description="电梯异响",
        source="hotline",
        status="dispatched",
        handling_type="self",
    )
    make._save(demand)
    a, b = sync_phone(a_user), sync_phone(b_user)
    b.pull()
    a.queue("demand.accept", {"demand_id": str(demand.id)})
    b.queue("demand.accept", {"demand_id": str(demand.id)})
    a.push()
    b.push()
    assert b.results[1]["code"] == "invalid_transition"
    assert f"已被{a_user.display_name}接单" in b.results[1]["message"]
    b.pull()
    record = b.records("demand")[str(demand.id)]
    assert (record["status"], record["assignee_id"]) == ("accepted", str(a_user.id))
