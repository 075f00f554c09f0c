"""The safe HTTP floor of a push (issue 23): what `/sync/push` of 100 `visit.record` costs
with nothing of Doorstep around it — Starlette, the stdlib `json` and `sqlite3`, on
Doorstep's own schema and the SQL a push cannot do without:

    the client's row read, the households looked up, the ids checked for replays,
    versions taken from the counter, the visits inserted, the client's counter advanced,
    one COMMIT with `synchronous=FULL` (WAL), as Doorstep's.

No sessions, no validation beyond a shape check, no audit. `bench/sync_bench.py` starts it
under uvicorn, as it starts Doorstep, on a copy of the same seeded database:

    FLOOR_DATABASE=path.sqlite3 .venv/bin/python -m uvicorn --app-dir bench floor:app

Not part of the app.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

_lock = threading.Lock()
_conn = sqlite3.connect(
    os.environ.get("FLOOR_DATABASE", ":memory:"), isolation_level=None, check_same_thread=False
)
_conn.execute("PRAGMA journal_mode=WAL")
_conn.execute("PRAGMA synchronous=FULL")
_conn.execute("PRAGMA foreign_keys=ON")

_INSERT = (
    "INSERT INTO visit (id, version, created_at, updated_at, field_versions, household_id, community_id,"
    " grid_id, worker_id, purpose, outcome, notes, photos, at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, ?, '[]', ?)"
)


def _hex(text: str) -> str:
    return uuid.UUID(text).hex  # how SQLAlchemy's Uuid is stored on SQLite


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _apply(body: dict[str, Any], worker: str) -> dict[str, Any]:
    client = _hex(body["client_id"])
    mutations = sorted(body["mutations"], key=lambda m: m["id"])
    now = _stamp(datetime.now(UTC))
    with _lock:
        cur = _conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        row = cur.execute(
            "SELECT last_mutation_id FROM sync_client WHERE client_id = ?", (client,)
        ).fetchone()
        if row is None:
            cur.execute(
                "INSERT INTO sync_client (client_id, user_id, last_mutation_id, created_at, last_seen_at, failures)"
                " VALUES (?, ?, 0, ?, ?, 0)",
                (client, worker, now, now),
            )
            last = 0
        else:
            last = int(row[0])
        fresh = [m for m in mutations if m["id"] > last]
        ids = [_hex(m["args"]["household_id"]) for m in fresh]
        marks = ",".join("?" * len(ids))
        homes = {
            h: (c, g)
            for h, c, g in cur.execute(
                f"SELECT id, community_id, grid_id FROM household WHERE id IN ({marks})",
                ids,
            )
        }
        visit_ids = [_hex(m["args"]["visit_id"]) for m in fresh]
        seen = {
            v
            for (v,) in cur.execute(
                f"SELECT id FROM visit WHERE id IN ({','.join('?' * len(visit_ids))})",
                visit_ids,
            )
        }
        rows, results = [], []
        (top,) = cur.execute(
            "UPDATE version_counter SET value = value + ? WHERE id = 1 RETURNING value", (len(fresh),)
        ).fetchone()
        version = top - len(fresh)
        for mutation, home, visit in zip(fresh, ids, visit_ids, strict=True):
            version += 1
            args = mutation["args"]
            if home not in homes or visit in seen:
                results.append({"id": mutation["id"], "status": "rejected", "code": "not_found"})
                continue
            community, grid = homes[home]
            at = _stamp(datetime.fromisoformat(mutation["at"]))
            rows.append(
                (
                    visit,
                    version,
                    now,
                    now,
                    home,
                    community,
                    grid,
                    worker,
                    args["purpose"],
                    args["outcome"],
                    args["notes"],
                    at,
                )
            )
            results.append({"id": mutation["id"], "status": "applied"})
            last = mutation["id"]
        cur.executemany(_INSERT, rows)
        cur.execute(
            "UPDATE sync_client SET last_mutation_id = ?, last_seen_at = ? WHERE client_id = ?",
            (last, now, client),
        )
        cur.execute("COMMIT")
    return {"protocol": 1, "last_mutation_id": last, "results": results}


async def push(request: Request) -> JSONResponse:
    body = json.loads(await request.body())
    worker = _hex(request.headers["x-worker"])
    return JSONResponse(_apply(body, worker))


app = Starlette(routes=[Route("/sync/push", push, methods=["POST"])])
