"""The rescue file (sync/rescue.py): a phone's unsynced work imported through the normal push
under its own client and ids — once, replayed after, refused when tampered or foreign."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.cli.main import main
from server.db import Database
from server.models import AuditLog, Blob, Household, SyncClient, User, Visit
from server.web import icons
from sync import rescue
from tests.conftest import SECRET, Factory, login
from tests.test_sync_push import visit_args


def rescue_key(http: Any, client_id: str) -> dict[str, str]:
    response = http.post("/sync/rescue-key", json={"protocol": 1, "client_id": client_id})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def rescue_text(
    key: dict[str, str], mutations: list[dict[str, Any]], photos: list[bytes], **changes: Any
) -> bytes:
    """A rescue file as the field app writes it (static/app/rescue.js)."""
    content = {
        "client_id": key["client_id"],
        "user_id": key["user_id"],
        "mutations": mutations,
        "photos": [
            {
                "sha256": hashlib.sha256(p).hexdigest(),
                "type": "image/png",
                "data": base64.b64encode(p).decode(),
            }
            for p in photos
        ],
        **changes,
    }
    payload = json.dumps(content, ensure_ascii=False)
    signature = rescue.sign(key["key"], payload)
    return json.dumps({"format": "doorstep-rescue", "payload": payload, "signature": signature}).encode()


def import_as(app: Any, user: User, data: bytes) -> Any:
    with TestClient(app) as office:
        csrf = login(office, user)["csrf_token"]
        files = {"file": ("rescue.json", data, "application/json")}
        return office.post("/devices/rescue", data={"csrf_token": csrf}, files=files)


def outcomes(page: str) -> dict[int, str]:
    return {int(i): o for i, o in re.findall(r'data-entry="(\d+)" data-outcome="(\w+)"', page)}


def visits(db: Database, home: Household) -> list[str]:
    with db.read() as s:
        return sorted(v.notes for v in s.exec(select(Visit).where(Visit.household_id == home.id)))


@pytest.fixture
def lost_phone(app: Any, make: Factory) -> dict[str, Any]:
    """A phone whose first two visits arrived — it never saw the answer to the second — and
    whose third, with a photo, never left it. Its file holds #2 and #3."""
    community = make.community()
    grid = make.grid(community)
    home = make.household(grid)
    worker = make.user(grids=[grid])
    photo = icons.png(64)
    sha = hashlib.sha256(photo).hexdigest()
    held = [
        {"id": n, "name": "visit.record", "args": visit_args(home, notes=notes, **extra), "at": None}
        for n, notes, extra in ((1, "一", {}), (2, "二", {}), (3, "三", {"photos": [sha]}))
    ]
    client_id = str(uuid.uuid4())
    with TestClient(app) as http:
        login(http, worker)
        body = {"protocol": 1, "client_id": client_id, "mutations": held[:2]}
        assert http.post("/sync/push", json=body).status_code == 200
        key = rescue_key(http, client_id)
    return {
        "key": key,
        "home": home,
        "worker": worker,
        "community": community,
        "staff": make.user("community_staff", community=community),
        "photo": photo,
        "file": rescue_text(key, held[1:], [photo]),
        "held": held,
    }


def test_a_rescue_file_applies_each_entry_once_and_a_second_import_is_all_replayed(
    app: Any, lost_phone: dict[str, Any], db: Database
) -> None:
    first = import_as(app, lost_phone["staff"], lost_phone["file"])
    assert first.status_code == 200, first.text
    assert outcomes(first.text) == {2: "replayed", 3: "applied"}
    assert visits(db, lost_phone["home"]) == ["一", "三", "二"]
    with db.read() as s:
        assert s.get(Blob, hashlib.sha256(lost_phone["photo"]).hexdigest()) is not None
        client = s.get(SyncClient, uuid.UUID(lost_phone["key"]["client_id"]))
        assert client is not None and client.last_mutation_id == 3
        audit = s.exec(select(AuditLog).where(AuditLog.action == "rescue.import")).one()
        assert audit.actor_id == lost_phone["staff"].id and audit.detail["applied"] == 1

    again = import_as(app, lost_phone["staff"], lost_phone["file"])
    assert again.status_code == 200
    assert outcomes(again.text) == {2: "replayed", 3: "replayed"}
    assert visits(db, lost_phone["home"]) == ["一", "三", "二"]


def test_the_key_is_the_clients_own_and_another_users_client_gets_none(
    app: Any, lost_phone: dict[str, Any], make: Factory
) -> None:
    client_id = lost_phone["key"]["client_id"]
    assert lost_phone["key"]["key"] == rescue.key_for(SECRET, uuid.UUID(client_id), lost_phone["worker"].id)
    with TestClient(app) as other:
        login(other, make.user(grids=[make.grid()]))
        refused = other.post("/sync/rescue-key", json={"protocol": 1, "client_id": client_id})
        assert (refused.status_code, refused.json()["error"]) == (403, "client_not_yours")


def tampered(data: bytes) -> bytes:
    outer = json.loads(data)
    outer["payload"] = outer["payload"].replace("三", "四")
    return json.dumps(outer).encode()


def test_a_tampered_or_foreign_file_is_refused_and_changes_nothing(
    app: Any, lost_phone: dict[str, Any], db: Database, make: Factory
) -> None:
    staff, key, held = lost_phone["staff"], lost_phone["key"], lost_phone["held"]
    before = visits(db, lost_phone["home"])
    bad = import_as(app, staff, tampered(lost_phone["file"]))
    assert bad.status_code == 400 and "签名不符" in bad.text
    # Signed for the client, but claiming another user: the client is not theirs.
    other = make.user(grids=[make.grid(lost_phone["community"])])
    foreign = rescue_text({**key, "user_id": str(other.id)}, held[2:], [])
    refused = import_as(app, staff, foreign)
    assert refused.status_code == 400 and "不属于文件里写的用户" in refused.text
    # A key made up for a client nobody has: no such client.
    made_up = {**key, "client_id": str(uuid.uuid4())}
    assert import_as(app, staff, rescue_text(made_up, held[2:], [])).status_code == 400
    # Staff of another community may not import it.
    stranger = make.user("community_staff", community=make.community())
    assert "只能导入本社区" in import_as(app, stranger, lost_phone["file"]).text
    assert import_as(app, staff, b"not json at all").status_code == 400
    assert visits(db, lost_phone["home"]) == before == ["一", "二"]
    with db.read() as s:
        assert s.get(Blob, hashlib.sha256(lost_phone["photo"]).hexdigest()) is None
    # Workers and departments have no import page.
    with TestClient(app) as worker:
        login(worker, lost_phone["worker"])
        assert worker.get("/devices/rescue").status_code == 403


def test_the_shell_imports_a_rescue_file(
    lost_phone: dict[str, Any],
    db: Database,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", database_url)
    monkeypatch.setenv("DOORSTEP_SECRET_KEY", SECRET)
    path = tmp_path / "rescue.json"
    path.write_bytes(lost_phone["file"])
    assert main(["rescue", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "#2 visit.record: replayed" in out and "#3 visit.record: applied" in out
    assert "已提交 1 条，此前已到达 1 条" in out
    assert main(["rescue", "import", str(path)]) == 0
    assert "已提交 0 条，此前已到达 2 条" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_bytes(tampered(lost_phone["file"]))
    assert main(["rescue", "import", str(bad)]) == 2
    assert "签名不符" in capsys.readouterr().err
    assert visits(db, lost_phone["home"]) == ["一", "三", "二"]
