"""Rule 9 under load: writers commit concurrently (one of them slowly) while
phones pull incrementally; no pull may skip a change. Runs on the suite's
database — the PostgreSQL run of `.ci/run` is the one that matters most."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from server.db import Database
from server.models import Household
from server.people.vault import Vault
from sync.pull import PullRequest, pull
from sync.push import PushedMutation, PushRequest, push
from tests.conftest import SECRET, Factory

WRITERS = 6
PUSHES = 15
PULLERS = 3


def apply_page(store: dict[tuple[str, str], int], page: Any) -> None:
    import json

    body = json.loads(page.body())
    if body["reset"]:
        store.clear()
    for change in body["changes"]:
        key = (change["type"], change["id"])
        if change["op"] == "put":
            store[key] = change["version"]
        else:
            store.pop(key, None)


def test_rule9_no_pull_misses_a_change_while_writers_commit_concurrently(make: Factory, db: Database) -> None:
    grid = make.grid()
    households = [make.household(grid) for _ in range(4)]
    writers = [make.actor(make.user(grids=[grid])) for _ in range(WRITERS)]
    reader = make.actor(make.user(grids=[grid]))
    vault = Vault(SECRET)
    stop = threading.Event()
    drain = threading.Event()
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        client_id = uuid.uuid4()
        try:
            for n in range(1, PUSHES + 1):
                household = households[n % len(households)]
                mutation = PushedMutation(
                    id=n,
                    name="visit.record",
                    args={
                        "visit_id": str(uuid.uuid4()),
                        "household_id": str(household.id),
                        "purpose": "routine",
                        "outcome": "completed",
                    },
                    at=None,
                )
                db.run_write(
                    lambda s, m=mutation: push(
                        s, actor=writers[index], vault=vault, request=PushRequest(client_id, [m])
                    )
                )
        except BaseException as exc:
            errors.append(exc)

    def slow_writer() -> None:
        try:
            while not stop.is_set():
                with db.write() as session:
                    row = session.get(Household, households[0].id)
                    assert row is not None
                    row.notes = f"慢 {time.monotonic()}"
                    session.flush()  # takes its version now ...
                    time.sleep(0.2)  # ... and commits only later
                time.sleep(0.2)
        except BaseException as exc:
            errors.append(exc)

    stores: list[dict[tuple[str, str], int]] = [{} for _ in range(PULLERS)]

    def puller(index: int) -> None:
        cursor = None
        client_id = uuid.uuid4()
        try:
            while not drain.is_set():
                page = db.run_read(
                    lambda s, c=cursor: pull(s, actor=reader, request=PullRequest(client_id, c)),
                    snapshot=True,
                )
                apply_page(stores[index], page)
                cursor = page.cursor
            while True:  # drain once everything has committed
                page = db.run_read(
                    lambda s, c=cursor: pull(s, actor=reader, request=PullRequest(client_id, c)),
                    snapshot=True,
                )
                apply_page(stores[index], page)
                cursor = page.cursor
                if not page.more:
                    break
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    slow = threading.Thread(target=slow_writer)
    pullers = [threading.Thread(target=puller, args=(i,)) for i in range(PULLERS)]
    for t in [slow, *pullers, *threads]:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    slow.join()
    drain.set()  # every write has committed: one last pull must bring each phone level
    for t in pullers:
        t.join()
    assert errors == []

    truth: dict[tuple[str, str], int] = {}
    apply_page(
        truth,
        db.run_read(lambda s: pull(s, actor=reader, request=PullRequest(uuid.uuid4(), None)), snapshot=True),
    )
    assert sum(1 for kind, _ in truth if kind == "visit") == WRITERS * PUSHES
    for store in stores:
        assert store == truth
