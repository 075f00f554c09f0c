"""Photos by hash (SYNC.md "Attachments")."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlmodel import func, select

from server.db import Database
from server.models import Blob
from tests.conftest import Factory
from tests.test_sync_push import visit_args

JPEG = b"\xff\xd8\xff\xe0" + b"doorstep-photo" * 100


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(client: Any, data: bytes, name: str | None = None) -> Any:
    return client.http.put(
        f"/sync/blobs/{name or sha(data)}", content=data, headers={"Content-Type": "image/jpeg"}
    )


def test_put_stores_new_photos_once(make: Factory, sync_phone: Any, db: Database) -> None:
    a = sync_phone(make.user(grids=[make.grid()]))
    assert put(a, JPEG).status_code == 201
    assert put(a, JPEG).status_code == 200
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(Blob)).one() == 1
        assert s.get(Blob, sha(JPEG)).data == JPEG  # type: ignore[union-attr]


def test_put_refuses_wrong_hash_wrong_type_too_large_and_anonymous(
    make: Factory, sync_phone: Any, db: Database, client: Any
) -> None:
    a = sync_phone(make.user(grids=[make.grid()]))
    assert put(a, JPEG, sha(b"other")).json()["error"] == "hash_mismatch"
    assert put(a, JPEG, "not-a-hash").status_code == 400
    assert put(a, b"GIF89a" + b"x" * 50).status_code == 415
    big = b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024)
    assert put(a, big).status_code == 413
    assert client.put(f"/sync/blobs/{sha(JPEG)}", content=JPEG).status_code == 401
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(Blob)).one() == 0


def test_get_serves_only_to_holders_of_a_referring_record(make: Factory, sync_phone: Any) -> None:
    mine, other = make.grid(), make.grid()
    household = make.household(mine)
    a = sync_phone(make.user(grids=[mine]))
    colleague = sync_phone(make.user(grids=[mine]))
    stranger = sync_phone(make.user(grids=[other]))
    name = sha(JPEG)
    put(a, JPEG)
    assert a.http.get(f"/sync/blobs/{name}").status_code == 404  # no record refers to it yet
    a.queue("visit.record", visit_args(household, photos=[name]))
    a.push()
    got = colleague.http.get(f"/sync/blobs/{name}")
    assert got.status_code == 200 and got.content == JPEG and got.headers["content-type"] == "image/jpeg"
    assert stranger.http.get(f"/sync/blobs/{name}").status_code == 404
    assert a.http.get(f"/sync/blobs/{sha(b'nothing')}").status_code == 404


def test_a_record_can_sync_before_its_photo(make: Factory, sync_phone: Any) -> None:
    grid = make.grid()
    household = make.household(grid)
    a = sync_phone(make.user(grids=[grid]))
    name = sha(JPEG)
    visit_id = str(uuid.uuid4())
    a.queue("visit.record", {**visit_args(household, photos=[name]), "visit_id": visit_id})
    a.push()
    assert a.results[1]["status"] == "applied"
    assert a.http.get(f"/sync/blobs/{name}").status_code == 404
    put(a, JPEG)
    assert a.http.get(f"/sync/blobs/{name}").status_code == 200
