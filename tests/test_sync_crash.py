"""A server killed with SIGKILL in the middle of a large push loses and duplicates nothing.

The real server runs in a subprocess on the test's database; the client is
the wire-only sync client over plain HTTP.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, func, select

from server.db import Database
from server.models import MutationOutcome, SyncClient, Visit
from sync.client import Client, ServerBusy
from tests.conftest import PASSWORD, SECRET, Factory
from tests.live import LiveServer, serving

PER_PUSH = 500


@pytest.fixture
def server(db: Database, database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with serving(database_url, tmp_path, SECRET) as live:
        yield live


def push_until_acknowledged(client: Client, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while client.outbox:
        assert time.monotonic() < end, "outbox never drained"
        try:
            client.push(batch=PER_PUSH)
        except ServerBusy:
            time.sleep(0.2)


def test_sigkill_during_a_large_push_loses_and_duplicates_nothing(
    make: Factory, db: Database, server: LiveServer
) -> None:
    grid = make.grid()
    households = [make.household(grid) for _ in range(20)]
    worker = make.user(grids=[grid])
    http = httpx.Client(base_url=server.url, timeout=30)
    client = Client(http=http)
    client.login(worker.username, PASSWORD)
    queued: list[str] = []
    interrupted = 0
    for delay in (0.0, 0.03, 0.08, 0.15, 0.3):
        for n in range(PER_PUSH):
            visit_id = str(uuid.uuid4())
            queued.append(visit_id)
            client.queue(
                "visit.record",
                {
                    "visit_id": visit_id,
                    "household_id": str(households[n % 20].id),
                    "purpose": "routine",
                    "outcome": "completed",
                    "notes": "停电也不丢" * 150,
                },
            )
        failures: list[BaseException] = []

        def send(failures: list[BaseException] = failures) -> None:
            try:
                client.push(batch=PER_PUSH)
            except ServerBusy as exc:
                failures.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(delay)
        server.crash()
        sender.join()
        interrupted += len(failures)
        server.start()
        push_until_acknowledged(client)

    assert interrupted >= 1, "no push was cut off: the test proved nothing"
    with db.read() as s:
        ids = [uuid.UUID(v) for v in queued]
        stored = s.exec(select(func.count()).select_from(Visit).where(col(Visit.id).in_(ids))).one()
        assert stored == len(queued)  # none lost, none doubled
        state = s.get(SyncClient, uuid.UUID(client.client_id))
        assert state is not None and state.last_mutation_id == len(queued)
        refusals = s.exec(
            select(func.count())
            .select_from(MutationOutcome)
            .where(MutationOutcome.client_id == state.client_id)
        ).one()
        assert refusals == 0
    assert sorted(client.results) == list(range(1, len(queued) + 1))
    assert all(r["status"] == "applied" for r in client.results.values())
    http.close()
