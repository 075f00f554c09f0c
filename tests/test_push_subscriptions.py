"""Push subscriptions: the VAPID key, keeping a browser's subscription, and refusing endpoints the
server must never post to (http, unknown hosts, tricks with the URL) and keys that cannot work."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlmodel import select
from starlette.testclient import TestClient

from server.app import create_app
from server.db import Database
from server.models import PushSubscription, SyncClient, User
from server.push import keys
from server.push.subscriptions import MAX_PER_USER, endpoint_allowed
from server.settings import DEFAULT_PUSH_HOSTS, Settings
from tests.conftest import Factory, login
from tests.live import ROOT
from tests.push_receiver import b64url, unb64url

FCM = "https://fcm.googleapis.com/fcm/send/"


def browser_keys() -> dict[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return {"p256dh": b64url(point), "auth": b64url(os.urandom(16))}


def subscription(endpoint: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "endpoint": FCM + uuid.uuid4().hex if endpoint is None else endpoint,
        "expirationTime": None,
        "keys": browser_keys(),
        **extra,
    }


def stored(db: Database) -> list[PushSubscription]:
    with db.read() as s:
        return list(s.exec(select(PushSubscription)))


@pytest.fixture
def worker(make: Factory, client: TestClient) -> User:
    user = make.user("grid_worker", grids=[make.grid()])
    login(client, user)
    return user


# -- the key ---------------------------------------------------------------------------------------


def test_the_public_key_is_a_p256_point_made_once_and_kept(
    client: TestClient, settings: Settings, db: Database
) -> None:
    response = client.get("/push/vapid-public-key")
    assert response.status_code == 200
    key = response.json()["key"]
    point = unb64url(key)
    assert len(point) == 65 and point[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)  # on the curve
    assert client.get("/push/vapid-public-key").json() == {"key": key}
    path = settings.data_dir / keys.KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    # A restart (a new app on the same data dir) keeps the key browsers subscribed with.
    keys._load.cache_clear()
    with TestClient(create_app(settings, db=db, jobs=False)) as again:
        assert again.get("/push/vapid-public-key").json() == {"key": key}


def test_processes_starting_at_once_agree_on_one_key(tmp_path: Path) -> None:
    script = "import sys, pathlib; from server.push import keys; print(keys.load(pathlib.Path(sys.argv[1])).public_key)"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    found = {p.communicate(timeout=60)[0].strip() for p in processes}
    assert len(found) == 1 and all(found)
    assert [p.name for p in tmp_path.iterdir()] == [keys.KEY_FILE]  # no drafts left behind


# -- keeping subscriptions ------------------------------------------------------------------------


def test_signing_in_is_required(client: TestClient, db: Database) -> None:
    assert client.post("/push/subscriptions", json=subscription()).status_code == 401
    assert client.get("/push/subscriptions").status_code == 401
    assert stored(db) == []


def test_a_subscription_is_kept_for_the_user_and_client_then_updated_listed_and_removed(
    client: TestClient, worker: User, db: Database
) -> None:
    client_id = str(uuid.uuid4())
    body = subscription(client_id=client_id)
    response = client.post("/push/subscriptions", json=body, headers={"User-Agent": "Chrome on Android"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["endpoint"] == body["endpoint"] and created["client_id"] == client_id
    [row] = stored(db)
    assert (row.user_id, str(row.client_id), row.p256dh, row.auth) == (
        worker.id,
        client_id,
        body["keys"]["p256dh"],
        body["keys"]["auth"],
    )
    assert row.user_agent == "Chrome on Android"

    # The app sends it again on every start; new keys replace the old ones.
    again = dict(body, keys=browser_keys())
    response = client.post("/push/subscriptions", json=again)
    assert response.status_code == 200 and response.json()["id"] == created["id"]
    [row] = stored(db)
    assert row.p256dh == again["keys"]["p256dh"]

    listed = client.get("/push/subscriptions").json()["subscriptions"]
    assert [s["id"] for s in listed] == [created["id"]]
    assert "p256dh" not in listed[0] and "auth" not in listed[0]

    assert client.delete(f"/push/subscriptions/{created['id']}").status_code == 204
    assert stored(db) == []
    assert client.delete(f"/push/subscriptions/{created['id']}").status_code == 404


def test_each_user_sees_and_removes_only_their_own(make: Factory, app: Any, db: Database) -> None:
    alice, bob = make.user("grid_worker"), make.user("community_staff")
    with TestClient(app) as phone_a, TestClient(app) as phone_b:
        login(phone_a, alice)
        login(phone_b, bob)
        mine = phone_a.post("/push/subscriptions", json=subscription()).json()
        phone_b.post("/push/subscriptions", json=subscription())
        assert [s["id"] for s in phone_a.get("/push/subscriptions").json()["subscriptions"]] == [mine["id"]]
        assert phone_b.delete(f"/push/subscriptions/{mine['id']}").status_code == 404
    assert len(stored(db)) == 2


def test_a_client_keeps_one_subscription_when_the_browser_rotates_it(
    client: TestClient, worker: User, db: Database
) -> None:
    client_id = str(uuid.uuid4())
    client.post("/push/subscriptions", json=subscription(client_id=client_id))
    newer = subscription(client_id=client_id)
    assert client.post("/push/subscriptions", json=newer).status_code == 201
    assert [row.endpoint for row in stored(db)] == [newer["endpoint"]]
    # Another installed app of the same user keeps its own.
    client.post("/push/subscriptions", json=subscription(client_id=str(uuid.uuid4())))
    assert len(stored(db)) == 2


def test_a_user_keeps_at_most_a_few_subscriptions(client: TestClient, worker: User, db: Database) -> None:
    bodies = [subscription() for _ in range(MAX_PER_USER + 2)]
    for body in bodies:
        assert client.post("/push/subscriptions", json=body).status_code == 201
    assert {row.endpoint for row in stored(db)} == {b["endpoint"] for b in bodies[-MAX_PER_USER:]}


def test_a_browser_signed_in_as_someone_else_moves_to_them(make: Factory, app: Any, db: Database) -> None:
    first, second = make.user("grid_worker"), make.user("grid_worker")
    body = subscription()
    with TestClient(app) as phone:
        login(phone, first)
        phone.post("/push/subscriptions", json=body)
        phone.post("/sync/logout", json={})
        login(phone, second)
        assert phone.post("/push/subscriptions", json=body).status_code == 201
    [row] = stored(db)
    assert row.user_id == second.id


def test_a_client_of_another_user_is_refused(
    make: Factory, client: TestClient, worker: User, db: Database
) -> None:
    other = make.user("grid_worker")
    client_id = uuid.uuid4()
    with db.write() as s:
        s.add(SyncClient(client_id=client_id, user_id=other.id))
    response = client.post("/push/subscriptions", json=subscription(client_id=str(client_id)))
    assert response.status_code == 403 and response.json()["error"] == "client_not_yours"
    assert stored(db) == []


# -- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/abc",  # not https
        "https://push.example.com/send/abc",  # not a known push service
        "https://fcm.googleapis.com.evil.example/send/abc",
        "https://evil.example/?u=https://fcm.googleapis.com/",
        "https://fcm.googleapis.com@evil.example/send/abc",  # credentials trick
        "https://user:pw@fcm.googleapis.com/send/abc",
        "https://fcm.googleapis.com:8443/fcm/send/abc",  # another port is another origin
        "http://127.0.0.1:9000/push/abc",  # local hosts only when listed
        "https://169.254.169.254/latest/meta-data",
        "ftp://fcm.googleapis.com/abc",
        "/relative/path",
        "",
        "https://" + "a" * 3000 + ".fcm.googleapis.com/",
    ],
)
def test_endpoints_outside_the_known_push_services_are_refused(
    client: TestClient, worker: User, db: Database, endpoint: str
) -> None:
    response = client.post("/push/subscriptions", json=subscription(endpoint))
    assert response.status_code == 400
    assert response.json()["error"] in ("endpoint_not_allowed", "invalid_subscription")
    if endpoint:
        assert response.json()["error"] == "endpoint_not_allowed"
    assert stored(db) == []


def test_the_public_push_services_are_allowed_by_default() -> None:
    for origin in DEFAULT_PUSH_HOSTS:
        assert endpoint_allowed(f"{origin}/some/path?token=1", DEFAULT_PUSH_HOSTS)
    assert endpoint_allowed("https://FCM.googleapis.com:443/fcm/send/x", DEFAULT_PUSH_HOSTS)
    wildcard = ("https://*.notify.windows.com",)
    assert endpoint_allowed("https://wns2-par02p.notify.windows.com/w/?token=1", wildcard)
    assert not endpoint_allowed("https://notify.windows.com/w/", wildcard)
    assert not endpoint_allowed("http://wns2-par02p.notify.windows.com/w/", wildcard)
    assert not endpoint_allowed("https://evilnotify.windows.com/w/", wildcard)


def test_a_local_origin_is_allowed_only_when_listed(settings: Settings, db: Database, make: Factory) -> None:
    local = dataclasses.replace(settings, push_hosts=("http://127.0.0.1:9000",))
    user = make.user("grid_worker")
    with TestClient(create_app(local, db=db, jobs=False)) as client:
        login(client, user)
        assert (
            client.post("/push/subscriptions", json=subscription("http://127.0.0.1:9000/wp/1")).status_code
            == 201
        )
        refused = client.post("/push/subscriptions", json=subscription("http://127.0.0.1:9001/wp/1"))
        assert refused.status_code == 400
        # Listing the origin does not open the public services' names over http.
        assert client.post("/push/subscriptions", json=subscription(FCM + "x")).status_code == 400


def _with_keys(**keys_: Any) -> dict[str, Any]:
    body = subscription()
    body["keys"] = {**body["keys"], **keys_}
    return body


OFF_CURVE = b64url(b"\x04" + b"\x01" * 64)


@pytest.mark.parametrize(
    "body",
    [
        _with_keys(p256dh=OFF_CURVE),  # 65 bytes, but not a point of P-256
        _with_keys(p256dh=b64url(b"\x04" + os.urandom(31))),  # too short
        _with_keys(p256dh=b64url(b"\x02" + os.urandom(32))),  # compressed
        _with_keys(p256dh="not base64!"),
        _with_keys(auth=b64url(os.urandom(15))),
        _with_keys(auth=b64url(os.urandom(32))),
        _with_keys(auth=12345),
        {"endpoint": FCM + "x", "keys": None},
        {"endpoint": FCM + "x"},
    ],
)
def test_keys_that_cannot_encrypt_are_refused(
    client: TestClient, worker: User, db: Database, body: Any
) -> None:
    response = client.post("/push/subscriptions", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_keys"
    assert stored(db) == []


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (
            {
                "content": b"endpoint=https://fcm.googleapis.com/x",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            },
            415,
        ),
        ({"content": b"{}", "headers": {"Content-Type": "text/plain"}}, 415),
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ({"content": b"[]", "headers": {"Content-Type": "application/json"}}, 400),
        ({"content": b'{"endpoint": 5}', "headers": {"Content-Type": "application/json"}}, 400),
        (
            {
                "content": b'{"endpoint": "' + b"x" * 9000 + b'"}',
                "headers": {"Content-Type": "application/json"},
            },
            413,
        ),
    ],
)
def test_bodies_that_are_not_a_subscription_change_nothing(
    client: TestClient, worker: User, db: Database, content: dict[str, Any], status: int
) -> None:
    assert client.post("/push/subscriptions", **content).status_code == status
    assert stored(db) == []


def test_other_fields_are_checked_too(client: TestClient, worker: User, db: Database) -> None:
    bad_client = client.post("/push/subscriptions", json=subscription(client_id="phone-1"))
    assert bad_client.status_code == 400 and bad_client.json()["error"] == "invalid_subscription"
    bad_expiry = client.post("/push/subscriptions", json=subscription(expirationTime="tomorrow"))
    assert bad_expiry.status_code == 400
    expiring = client.post("/push/subscriptions", json=subscription(expirationTime=1_900_000_000_000))
    assert expiring.status_code == 201
    [row] = stored(db)
    assert row.expiration_time is not None and row.expiration_time.year == 2030


@pytest.mark.parametrize("expiry", ["1e300", "-1e300", "NaN", "Infinity", "-5", "99999999999999999999999"])
def test_expiry_times_no_clock_reaches_are_a_400(
    client: TestClient, worker: User, db: Database, expiry: str
) -> None:
    body = json.dumps(subscription()).replace('"expirationTime": null', f'"expirationTime": {expiry}')
    response = client.post("/push/subscriptions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"] == "expirationTime 不是合理的时间。"
    assert stored(db) == []
