"""A write behind a lock another process holds is answered 503 within seconds (SYNC.md rule 6)."""

from __future__ import annotations

import sqlite3
import time
import uuid

import pytest
from starlette.testclient import TestClient

from server.db import Database
from tests.conftest import Factory, login
from tests.test_sync_push import body, m, visit_args


def test_a_push_behind_a_held_sqlite_lock_answers_503_within_seconds(
    client: TestClient, make: Factory, db: Database
) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite's file lock")
    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    other = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        start = time.monotonic()
        response = client.post(
            "/sync/push", json=body(str(uuid.uuid4()), m(1, "visit.record", visit_args(household)))
        )
        waited = time.monotonic() - start
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert waited < 20  # bounded (it was ~122 s); the bound is ~5 s, slack for a loaded machine
    retried = client.post(
        "/sync/push", json=body(str(uuid.uuid4()), m(1, "visit.record", visit_args(household)))
    )
    assert retried.json()["results"][0]["status"] == "applied"
