"""Failed sign-ins slow down where they come from, never the owner elsewhere (server/throttle.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server import throttle
from server.db import Database
from server.models import utcnow
from tests.conftest import PASSWORD, Factory


def _from(app: Starlette, ip: str) -> TestClient:
    return TestClient(app, client=(ip, 40000))


def _sign_in(http: TestClient, username: str, password: str) -> Any:
    return http.post("/sync/login", json={"username": username, "password": password})


def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out(app: Starlette, make: Factory) -> None:
    owner = make.user("grid_worker")
    with _from(app, "10.0.0.1") as stranger, _from(app, "10.0.0.2") as phone:
        answers = [_sign_in(stranger, owner.username, "wrong-password").status_code for _ in range(20)]
        assert answers == [401] * 5 + [429] * 15
        assert _sign_in(phone, owner.username, PASSWORD).status_code == 200
        refused = _sign_in(stranger, owner.username, PASSWORD)  # even the right password, from there
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])  # counts down while the test runs
    assert 1 <= wait <= 3
    assert refused.json()["message"] == f"失败次数太多，请 {wait} 秒后再试。"


def test_the_sign_in_page_says_when_to_try_again(app: Starlette, make: Factory) -> None:
    owner = make.user("grid_worker")
    with _from(app, "10.0.0.3") as http:
        for _ in range(5):
            _sign_in(http, owner.username, "wrong-password")
        page = http.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        response = http.post(
            "/login", data={"username": owner.username, "password": PASSWORD, "csrf_token": token}
        )
    assert response.status_code == 429
    assert "秒后再试" in response.text and "Retry-After" in response.headers


def test_fifty_workers_sign_in_from_one_office(app: Starlette, make: Factory) -> None:
    workers = [make.user("grid_worker") for _ in range(50)]
    with _from(app, "10.0.0.4") as office:
        assert _sign_in(office, workers[0].username, "typo-password").status_code == 401
        answers = [_sign_in(office, w.username, PASSWORD).status_code for w in workers]
    assert answers == [200] * 50


def test_waits_grow_and_end(db: Database) -> None:
    start = utcnow().replace(microsecond=0)
    waits = []
    with db.write() as s:
        for n in range(8):
            at = start + timedelta(minutes=n)
            throttle.failed(s, "Ann", "10.0.0.5", now=at)
            waits.append(throttle.wait(s, "ann", "10.0.0.5", now=at))
        later = start + timedelta(minutes=7, seconds=40)
        assert throttle.wait(s, "ann", "10.0.0.5", now=later) == 0
        assert throttle.wait(s, "ann", "10.0.0.6", now=start) == 0  # another address
    assert waits == [0, 0, 0, 0, 3, 5, 9, 17]


def test_one_address_trying_many_accounts_is_slowed(db: Database) -> None:
    now = utcnow()
    with db.write() as s:
        for n in range(throttle.ADDRESS.free):
            throttle.failed(s, f"user{n}", "10.0.0.7", now=now)
        assert throttle.wait(s, "someone-else", "10.0.0.7", now=now) > 0
        assert throttle.wait(s, "someone-else", "10.0.0.8", now=now) == 0


def test_the_owners_success_forgives_their_typos_there(app: Starlette, make: Factory) -> None:
    owner = make.user("grid_worker")
    with _from(app, "10.0.0.9") as http:
        for _ in range(4):
            _sign_in(http, owner.username, "wrong-password")
        assert _sign_in(http, owner.username, PASSWORD).status_code == 200
        answers = [_sign_in(http, owner.username, "wrong-password").status_code for _ in range(5)]
    assert answers == [401] * 5


@pytest.mark.parametrize(
    "username",
    ['"' + "a" * 10_000 + '"', '"ann\\u0000"', '"\\ud800"', "42", "null", '["ann"]', '{"a": 1}', '"ann\\n"'],
)
def test_odd_usernames_are_a_400(client: TestClient, username: str) -> None:
    body = '{"username": ' + username + ', "password": "xxxxxxxxx"}'
    response = client.post("/sync/login", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"] == "用户名或密码的格式不对。"


def test_odd_passwords_are_a_400(client: TestClient) -> None:
    for password in ("x\\u0000y", "\\udfff", "x" * 2000):
        body = '{"username": "ann", "password": "' + password + '"}'
        response = client.post("/sync/login", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, password[:8]


def test_a_file_for_a_username_is_a_400(client: TestClient) -> None:
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"csrf_token": token, "password": "x"}, files={"username": ("u", b"x")}
    )
    assert response.status_code == 400
