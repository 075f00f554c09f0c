"""Scale stays O(changes) (issue 23): one grid's push, first pull and 1-change pull while the
database around it grows from 10,000 to 1,000,000 visits, then with 100,000 tombstones.

    .venv/bin/python bench/scale_bench.py                          # SQLite
    .venv/bin/python bench/scale_bench.py --postgres URL           # its public schema is dropped!
    .venv/bin/python bench/scale_bench.py --sizes 10000,100000     # a quicker look

The measured grid is bench/sync_bench.py's (500 households, 1,500 residents, 7,500 visits,
500 requests) with its worker bw1; the rest of the visits, and the tombstones, belong to the
neighbouring grid, written before each step as a county's history would be, with planner
statistics refreshed as the `optimize` job does (server/jobs.py). At each step, over HTTP
against `doorstep serve`'s app, the server's own time (Server-Timing):

- push: 20 batches of 100 `visit.record` into the grid, rows/s;
- first pull of the grid (all pages), median of 3, per 10,000 changes (the pushes grow it);
- incremental pull of 1 change (another phone's visit), median of 30.

Prints each figure and its ratio to the first step's; flat is ≈ 1.0×. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import insert, select
from sync_bench import PASSWORD, Server, fresh_database, one_visit, rows_with_versions, seed_grid, server_ms

from server import versions
from server.db import Database
from server.jobs import optimize
from server.models import Household, Tombstone, User, Visit

GRID_VISITS = 7500
TOMBSTONES = 100_000
CHUNK = 20_000
PUSH_BATCHES = 20
BATCH = 100


def add_history(db: Database, household_id: str, visits: int) -> None:
    """`visits` more visits in the neighbouring grid, in transactions of CHUNK."""
    with db.read() as s:
        home = s.get(Household, uuid.UUID(household_id))
        worker: uuid.UUID = s.execute(select(User.id).where(User.username == "bw2")).scalar_one()  # type: ignore[call-overload]
    assert home is not None
    now = datetime.now(UTC)
    for start in range(0, visits, CHUNK):
        rows = [
            {
                "id": uuid.uuid4(),
                "household_id": home.id,
                "community_id": home.community_id,
                "grid_id": home.grid_id,
                "worker_id": worker,
                "purpose": "routine",
                "outcome": "completed",
                "notes": "往年的走访记录。",
                "photos": [],
                "at": now - timedelta(minutes=start + n),
                "created_at": now,
                "updated_at": now,
                "field_versions": {},
            }
            for n in range(min(CHUNK, visits - start))
        ]
        with db.write() as s:
            rows_with_versions(s, Visit, rows)


def add_tombstones(db: Database, household_id: str, count: int) -> None:
    """Records that left the neighbouring grid: tombstones in its scope."""
    with db.read() as s:
        home = s.get(Household, uuid.UUID(household_id))
    assert home is not None
    for start in range(0, count, CHUNK):
        n = min(CHUNK, count - start)
        with db.write() as s:
            rows = [
                {
                    "version": version,
                    "record_type": "visit",
                    "record_id": uuid.uuid4(),
                    "community_id": home.community_id,
                    "grid_id": home.grid_id,
                }
                for version in versions.allocate(s, n)
            ]
            s.execute(insert(Tombstone), rows)


def refresh_statistics(db: Database) -> None:
    with db.write() as s:
        optimize(s, sqlite=db.is_sqlite)


def measure(server: Server, household_ids: list[Any], step: int) -> dict[str, float]:
    with httpx.Client(base_url=server.url, timeout=120, headers={"Accept-Encoding": "br"}) as http:
        http.post("/sync/login", json={"username": "bw1", "password": PASSWORD}).raise_for_status()
        # Push: a new phone's batches of 100 into the grid.
        pusher, spent = str(uuid.uuid4()), 0.0
        for b in range(PUSH_BATCHES):
            mutations = []
            for k in range(BATCH):
                n = b * BATCH + k + 1
                (m,) = one_visit(pusher, n, str(household_ids[(n + step) % len(household_ids)]))["mutations"]
                mutations.append(m)
            body = {"protocol": 1, "client_id": pusher, "mutations": mutations}
            response = http.post(
                "/sync/push", content=json.dumps(body), headers={"Content-Type": "application/json"}
            )
            response.raise_for_status()
            spent += server_ms(response)
        # First pulls of the grid, per 10,000 changes: each step's pushes make the grid bigger.
        firsts, cursor, puller = [], None, ""
        for _ in range(3):
            puller, cursor, ms, changes = str(uuid.uuid4()), None, 0.0, 0
            while True:
                response = http.post(
                    "/sync/pull", json={"protocol": 1, "client_id": puller, "cursor": cursor}
                )
                response.raise_for_status()
                ms += server_ms(response)
                page = response.json()
                changes += len(page["changes"])
                cursor = page["cursor"]
                if not page["more"]:
                    break
            firsts.append(ms / changes * 10_000)
        # One change at a time, from another phone of the grid.
        writer, ones = str(uuid.uuid4()), []
        for n in range(1, 31):
            http.post("/sync/push", json=one_visit(writer, n, str(household_ids[n]))).raise_for_status()
            response = http.post("/sync/pull", json={"protocol": 1, "client_id": puller, "cursor": cursor})
            page = response.json()
            assert [c["type"] for c in page["changes"]] == ["visit"], page["changes"]
            cursor = page["cursor"]
            ones.append(server_ms(response))
    return {
        "push_rows_per_s": PUSH_BATCHES * BATCH / (spent / 1000),
        "first_pull_ms": statistics.median(firsts),
        "one_change_ms": statistics.median(ones),
    }


def run(postgres: str | None, sizes: list[int]) -> None:
    label = "PostgreSQL" if postgres else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = fresh_database(postgres, folder)
        data = seed_grid(db, visits=GRID_VISITS)
        server = Server(postgres or f"sqlite:///{folder / 'bench.sqlite3'}", folder)
        results: list[tuple[str, dict[str, float]]] = []
        total = GRID_VISITS
        try:
            steps: list[tuple[str, int, int]] = [(f"{size:,} visits", size, 0) for size in sizes]
            steps.append((f"{sizes[-1]:,} visits + {TOMBSTONES:,} tombstones", sizes[-1], TOMBSTONES))
            measure(server, data["household_ids"], -1)  # warm-up: caches, statement caches
            for step, (name, size, tombstones) in enumerate(steps):
                started = time.perf_counter()
                if size > total:
                    add_history(db, data["other_household"], size - total)
                    total = size
                if tombstones:
                    add_tombstones(db, data["other_household"], tombstones)
                refresh_statistics(db)
                loaded = time.perf_counter() - started
                figures = measure(server, data["household_ids"], step)
                results.append((name, figures))
                base = results[0][1]
                print(
                    f"{label}, {name} (loaded in {loaded:.0f} s): "
                    f"push {figures['push_rows_per_s']:,.0f} rows/s ({figures['push_rows_per_s'] / base['push_rows_per_s']:.2f}×), "
                    f"first pull {figures['first_pull_ms']:.0f} ms a 10,000 changes ({figures['first_pull_ms'] / base['first_pull_ms']:.2f}×), "
                    f"1-change pull {figures['one_change_ms']:.2f} ms ({figures['one_change_ms'] / base['one_change_ms']:.2f}×)",
                    flush=True,
                )
        finally:
            server.stop()
            db.dispose()
    worst = {
        key: max(f[key] / results[0][1][key] for _, f in results)
        for key in ("first_pull_ms", "one_change_ms")
    }
    slowest_push = min(f["push_rows_per_s"] / results[0][1]["push_rows_per_s"] for _, f in results)
    print(
        f"{label}: from {results[0][0]} to {results[-1][0]}: push at worst {slowest_push:.2f}× its first rate, "
        f"first pull at worst {worst['first_pull_ms']:.2f}×, 1-change pull at worst {worst['one_change_ms']:.2f}× "
        "(flat is ≈ 1.0×; the server's own time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres", help="run on this PostgreSQL URL instead (its public schema is dropped!)"
    )
    parser.add_argument("--sizes", default="10000,100000,1000000", help="visits in the database at each step")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    run(args.postgres, sizes)


if __name__ == "__main__":
    main()
