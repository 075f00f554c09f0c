"""Photos by hash (SYNC.md "Attachments")."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import func, select

from server import blobs
from server.commands.households import move_household
from server.db import Database
from server.jobs import housekeeping
from server.models import Blob, BlobHolder, BlobRef, Household, Visit, utcnow
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


def photo(n: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + f"photo-{n}".encode() * 50


def test_naming_someone_elses_photo_hash_is_refused_and_opens_nothing(
    make: Factory, sync_phone: Any, db: Database
) -> None:
    mine, other = make.grid(), make.grid()
    owner = sync_phone(make.user(grids=[mine]))
    stranger = sync_phone(make.user(grids=[other]))
    name = sha(JPEG)
    put(owner, JPEG)
    owner.queue("visit.record", visit_args(make.household(mine), photos=[name]))
    owner.push()
    visit_id = str(uuid.uuid4())
    stranger.queue("visit.record", {**visit_args(make.household(other), photos=[name]), "visit_id": visit_id})
    stranger.push()
    result = stranger.results[1]
    assert result["status"] == "rejected" and result["code"] == "invalid_args"
    assert "照片" in result["message"]
    assert stranger.http.get(f"/sync/blobs/{name}").status_code == 404
    with db.read() as s:
        assert s.get(Visit, uuid.UUID(visit_id)) is None
        assert s.exec(select(func.count()).select_from(BlobRef)).one() == 1


def test_an_upload_answers_alike_whether_or_not_someone_else_stored_the_bytes(
    make: Factory, sync_phone: Any
) -> None:
    theirs = make.grid()
    first = sync_phone(make.user(grids=[make.grid()]))
    second = sync_phone(make.user(grids=[theirs]))
    fresh = put(first, JPEG)
    again = put(second, JPEG)  # the same bytes, stored by someone else before
    expected = (201, {"sha256": sha(JPEG), "stored": True})
    assert (again.status_code, again.json()) == (fresh.status_code, fresh.json()) == expected
    assert put(second, JPEG).status_code == 200  # only one's own earlier upload shows
    # Sending the bytes proves having them: the second user may now refer to them.
    second.queue("visit.record", visit_args(make.household(theirs), photos=[sha(JPEG)]))
    second.push()
    assert second.results[1]["status"] == "applied"
    assert second.http.get(f"/sync/blobs/{sha(JPEG)}").status_code == 200


def test_a_reference_before_the_bytes_opens_the_blob_only_when_its_author_uploads(
    make: Factory, sync_phone: Any
) -> None:
    mine, other = make.grid(), make.grid()
    early = sync_phone(make.user(grids=[other]))
    colleague = sync_phone(make.user(grids=[other]))
    owner = sync_phone(make.user(grids=[mine]))
    name = sha(JPEG)
    early.queue("visit.record", visit_args(make.household(other), photos=[name]))
    early.push()
    assert early.results[1]["status"] == "applied"  # a record may sync before its photo
    put(owner, JPEG)
    owner.queue("visit.record", visit_args(make.household(mine), photos=[name]))
    owner.push()
    assert owner.http.get(f"/sync/blobs/{name}").status_code == 200
    # Someone else's upload does not make the early reference good.
    assert early.http.get(f"/sync/blobs/{name}").status_code == 404
    assert colleague.http.get(f"/sync/blobs/{name}").status_code == 404
    put(early, JPEG)
    assert colleague.http.get(f"/sync/blobs/{name}").status_code == 200


def test_moving_a_household_closes_its_photos_to_the_old_grid(
    make: Factory, sync_phone: Any, db: Database
) -> None:
    old, new = make.grid(), make.grid()
    household = make.household(old)
    worker = sync_phone(make.user(grids=[old]))
    newcomer = sync_phone(make.user(grids=[new]))
    staff = make.actor(make.user("community_staff"))
    name = sha(JPEG)
    put(worker, JPEG)
    worker.queue("visit.record", visit_args(household, photos=[name]))
    worker.push()
    assert newcomer.http.get(f"/sync/blobs/{name}").status_code == 404
    with db.write() as s:
        row = s.get(Household, household.id)
        assert row is not None
        move_household(s, actor=staff, household=row, grid_id=new.id)
    assert worker.http.get(f"/sync/blobs/{name}").status_code == 404
    assert newcomer.http.get(f"/sync/blobs/{name}").status_code == 200


def test_uploads_over_the_daily_quota_get_429_and_retry_after(
    make: Factory, sync_phone: Any, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blobs, "DAILY_PHOTOS", 2)
    a = sync_phone(make.user(grids=[make.grid()]))
    b = sync_phone(make.user(grids=[make.grid()]))
    assert [put(a, photo(n)).status_code for n in (1, 2)] == [201, 201]
    over = put(a, photo(3))
    assert over.status_code == 429 and over.json()["error"] == "rate_limited"
    assert "上限" in over.json()["message"]
    assert 0 < int(over.headers["Retry-After"]) <= 24 * 3600
    assert put(a, photo(1)).status_code == 200  # a retry of what was stored costs nothing
    assert put(b, photo(3)).status_code == 201  # the quota is each user's own
    monkeypatch.setattr(blobs, "DAILY_PHOTOS", 300)
    monkeypatch.setattr(blobs, "DAILY_BYTES", len(photo(1)) * 3 - 1)
    assert put(a, photo(4)).status_code == 429  # two stored, a third would pass the bytes cap
    with db.read() as s:
        assert sorted(s.exec(select(Blob.sha256))) == sorted(sha(photo(n)) for n in (1, 2, 3))


def test_housekeeping_deletes_photos_no_record_refers_to_after_a_week(
    make: Factory, sync_phone: Any, db: Database
) -> None:
    grid = make.grid()
    a = sync_phone(make.user(grids=[grid]))
    used, orphan, young = photo(1), photo(2), photo(3)
    for data in (used, orphan, young):
        put(a, data)
    a.queue("visit.record", visit_args(make.household(grid), photos=[sha(used)]))
    a.push()
    with db.write() as s:
        for data in (used, orphan):
            row = s.get(Blob, sha(data))
            assert row is not None
            row.created_at = utcnow() - timedelta(days=8)
    with db.write() as s:
        assert housekeeping(s) == 1
    with db.read() as s:
        assert sorted(s.exec(select(Blob.sha256))) == sorted([sha(used), sha(young)])
        assert sha(orphan) not in set(s.exec(select(BlobHolder.sha256)))
    assert a.http.get(f"/sync/blobs/{sha(used)}").status_code == 200
