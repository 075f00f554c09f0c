"""The optional `device` object of push and pull (docs/sync.md "Device reports"): kept per
client, read leniently — a bad report never blocks a sync."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.db import Database
from server.models import SyncClient, Visit
from sync import device
from tests.conftest import Factory, login
from tests.test_sync_push import count, visit_args

GOOD = {
    "app_version": "a1b2c3d4e5f6",
    "outbox_format": 1,
    "pending": 3,
    "oldest_pending_at": "2026-11-25T09:31:02+08:00",
    "max_mutation_id": 17,
    "rejected": 1,
    "photos_waiting": 2,
    "storage_used": 1_234_567,
    "storage_quota": 50_000_000,
    "persisted": False,
    "installed": True,
    "browser": "Chrome",
}


def stored(db: Database, client_id: str) -> SyncClient:
    with db.read() as s:
        row = s.get(SyncClient, uuid.UUID(client_id))
        assert row is not None
        return row


def test_a_push_keeps_the_report_of_its_client(client: TestClient, make: Factory, db: Database) -> None:
    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    client_id = str(uuid.uuid4())
    mutation = {"id": 1, "name": "visit.record", "args": visit_args(household), "at": None}
    body = {"protocol": 1, "client_id": client_id, "mutations": [mutation], "device": GOOD}
    assert client.post("/sync/push", json=body).json()["results"][0]["status"] == "applied"
    row = stored(db, client_id)
    # Made before the push: the one entry it answered no longer waits.
    assert row.device == {**GOOD, "pending": 2, "oldest_pending_at": "2026-11-25T01:31:02+00:00"}
    assert row.device_at is not None


def test_a_pull_keeps_the_latest_report_and_a_later_one_replaces_it(
    client: TestClient, make: Factory, db: Database
) -> None:
    login(client, make.user(grids=[make.grid()]))
    client_id = str(uuid.uuid4())
    pull = {"protocol": 1, "client_id": client_id, "cursor": None, "device": GOOD}
    assert client.post("/sync/pull", json=pull).status_code == 200
    assert stored(db, client_id).device is not None
    later = {"protocol": 1, "client_id": client_id, "cursor": None, "device": {"pending": 0}}
    assert client.post("/sync/pull", json=later).status_code == 200
    assert stored(db, client_id).device == {"pending": 0}


def test_a_sync_without_a_report_keeps_the_one_before(
    client: TestClient, make: Factory, db: Database
) -> None:
    login(client, make.user(grids=[make.grid()]))
    client_id = str(uuid.uuid4())
    client.post("/sync/pull", json={"protocol": 1, "client_id": client_id, "cursor": None, "device": GOOD})
    client.post("/sync/pull", json={"protocol": 1, "client_id": client_id, "cursor": None})
    client.post("/sync/push", json={"protocol": 1, "client_id": client_id, "mutations": []})
    assert stored(db, client_id).device is not None


@pytest.mark.parametrize(
    "bad",
    [
        "not an object",
        [1, 2, 3],
        None,
        {"pending": "three", "persisted": "yes", "max_mutation_id": 1.5, "oldest_pending_at": "yesterday"},
        {"pending": True, "installed": 1, "app_version": {"x": 1}},
        {"unknown": "field"},
    ],
)
def test_a_bad_report_never_blocks_the_push(
    client: TestClient, make: Factory, db: Database, bad: Any
) -> None:
    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    client_id = str(uuid.uuid4())
    mutation = {"id": 1, "name": "visit.record", "args": visit_args(household), "at": None}
    body = {"protocol": 1, "client_id": client_id, "mutations": [mutation], "device": bad}
    response = client.post("/sync/push", json=body)
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "applied"
    assert count(db, Visit) == 1
    assert stored(db, client_id).device is None
    pull = client.post(
        "/sync/pull", json={"protocol": 1, "client_id": client_id, "cursor": None, "device": bad}
    )
    assert pull.status_code == 200


def test_a_report_is_clipped_to_what_can_be_kept(client: TestClient, make: Factory, db: Database) -> None:
    login(client, make.user(grids=[make.grid()]))
    client_id = str(uuid.uuid4())
    wild = {
        "app_version": "v" * 500 + "\x00",
        "browser": "Chr\x00ome\u200b",
        "pending": -5,
        "max_mutation_id": 10**30,
        "storage_used": 10**19,
        "oldest_pending_at": "2026-11-25T09:31:02",
        "persisted": True,
    }
    pull = {"protocol": 1, "client_id": client_id, "cursor": None, "device": wild}
    assert client.post("/sync/pull", json=pull).status_code == 200
    kept = stored(db, client_id).device
    assert kept == {
        "app_version": "v" * device.MAX_TEXT,
        "browser": "Chrome",
        "pending": 0,
        "max_mutation_id": device.BIGINT,
        "storage_used": device.BIGINT,
        "oldest_pending_at": "2026-11-25T09:31:02+00:00",
        "persisted": True,
    }


def test_the_python_client_reports_what_it_holds(sync_phone: Any, make: Factory, db: Database) -> None:
    grid = make.grid()
    household = make.household(grid)
    phone = sync_phone(make.user(grids=[grid]))
    phone.queue("visit.record", visit_args(household))
    phone.queue("visit.record", visit_args(household))
    phone.sync()
    report = stored(db, phone.client_id).device
    assert report is not None
    assert (report["pending"], report["max_mutation_id"]) == (0, 2)
    assert stored(db, phone.client_id).last_mutation_id == 2


def test_a_push_from_another_app_version_is_told_to_update_when_the_latest_is_required(
    client: TestClient, make: Factory, db: Database
) -> None:
    from server import preferences
    from server.routes.field import version

    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    with db.write() as s:
        preferences.set(s, "app.require_latest", "on", None)

    def push(mid: int, device: dict[str, Any] | None) -> Any:
        mutation = {"id": mid, "name": "visit.record", "args": visit_args(household), "at": None}
        body: dict[str, Any] = {"protocol": 1, "client_id": client_id, "mutations": [mutation]}
        if device is not None:
            body["device"] = device
        return client.post("/sync/push", json=body)

    client_id = str(uuid.uuid4())
    old = push(1, {"app_version": "0ld0ld0ld0ld", "pending": 1})
    assert (old.status_code, old.json()["error"]) == (426, "update_required")
    assert "请先更新应用" in old.json()["message"]
    assert count(db, Visit) == 0
    assert push(1, {"app_version": version(), "pending": 1}).status_code == 200
    assert push(2, None).status_code == 200  # a client that says nothing of itself is served as before
    assert count(db, Visit) == 2


def test_a_push_from_a_version_older_than_the_minimum_is_told_to_update_and_newer_ones_are_served(
    client: TestClient, make: Factory, db: Database
) -> None:
    from server import preferences
    from server.commands import releases
    from server.routes.field import version

    grid = make.grid()
    household = make.household(grid)
    login(client, make.user(grids=[grid]))
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with db.write() as s:  # three deploys before this one, in order
        for n, name in enumerate(["aaaaaaaaaaa1", "bbbbbbbbbbb2", "ccccccccccc3"]):
            assert releases.record(s, name, start + timedelta(days=n))
        assert not releases.record(s, "aaaaaaaaaaa1", start + timedelta(days=9))  # first served stays
        releases.record(s, version(), start + timedelta(days=5))
        preferences.set(s, "app.minimum_version", "bbbbbbbbbbb2", None)

    mid = 0

    def push(app_version: str) -> Any:
        nonlocal mid
        mid += 1
        mutation = {"id": mid, "name": "visit.record", "args": visit_args(household), "at": None}
        device = {"app_version": app_version, "pending": 1}
        return client.post(
            "/sync/push",
            json={"protocol": 1, "client_id": client_id, "mutations": [mutation], "device": device},
        )

    client_id = str(uuid.uuid4())
    for older in ["aaaaaaaaaaa1", "0123456789ab"]:  # served before the minimum; never served here
        answer = push(older)
        assert (answer.status_code, answer.json()["error"]) == (426, "update_required")
        mid -= 1  # refused before the engine: the same id is sent again after the update
    assert count(db, Visit) == 0
    for served in ["bbbbbbbbbbb2", "ccccccccccc3", version(), "python-client"]:
        assert push(served).status_code == 200, served
    assert count(db, Visit) == 4


def test_the_minimum_version_must_be_one_the_server_has_served(db: Database) -> None:
    from server import preferences
    from server.commands import releases

    with db.write() as s:
        releases.record(s, "aaaaaaaaaaa1", datetime(2026, 11, 1, tzinfo=UTC))
    for bad, why in [("ddddddddddd4", "服务器没有发布过这个版本"), ("not-a-version", "12 位版本号")]:
        with pytest.raises(preferences.InvalidPreference, match=why), db.write() as s:
            preferences.set(s, "app.minimum_version", bad, None)
    with db.write() as s:
        assert preferences.set(s, "app.minimum_version", " AAAAAAAAAAA1 ", None) == "aaaaaaaaaaa1"
    with db.read() as s:
        assert preferences.get(s, "app.minimum_version") == "aaaaaaaaaaa1"


def test_a_starting_server_records_its_app_version_once(db: Database) -> None:
    from server.app import _record_release
    from server.models import AppRelease
    from server.routes.field import version

    _record_release(db)
    _record_release(db)
    with db.read() as s:
        rows = list(s.exec(select(AppRelease)))
    assert [r.version for r in rows] == [version()]
