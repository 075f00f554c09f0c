"""A write behind a lock another process holds is answered 503 within seconds (SYNC.md rule 6):
SQLite's file lock, PostgreSQL's row lock that serialises writers."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from starlette.testclient import TestClient

from server.db import Database
from tests.conftest import Factory, login
from tests.test_sync_push import body, m, visit_args


@contextmanager
def writers_lock_held(db: Database) -> Iterator[None]:
    """Another process holds what every writer must take first (`Database.write`)."""
    if db.is_sqlite:
        other = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT value FROM version_counter WHERE id = 1 FOR UPDATE"))
        try:
            yield
        finally:
            conn.rollback()


def test_a_push_behind_a_held_writers_lock_answers_503_within_seconds(
    client: TestClient, make: Factory, db: Database
) -> None:
    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    with writers_lock_held(db):
        start = time.monotonic()
        response = client.post(
            "/sync/push", json=body(str(uuid.uuid4()), m(1, "visit.record", visit_args(household)))
        )
        waited = time.monotonic() - start
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert waited < 30  # bounded (it was ~122 s on SQLite, unbounded on PostgreSQL); ~5 / ~13 s
    retried = client.post(
        "/sync/push", json=body(str(uuid.uuid4()), m(1, "visit.record", visit_args(household)))
    )
    assert retried.json()["results"][0]["status"] == "applied"
