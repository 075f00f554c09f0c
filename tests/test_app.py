from __future__ import annotations

from starlette.testclient import TestClient

from tests.conftest import Factory, login


def test_healthz_answers_ok_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "push": {"reachable": True, "unreachable_hours": None}}


def test_security_headers_forbid_inline_script_and_framing(client: TestClient) -> None:
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_pages_need_a_session_and_redirect_to_login(client: TestClient) -> None:
    response = client.get("/?q=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/?q=x"


def test_sync_login_sets_an_httponly_lax_cookie(client: TestClient, make: Factory) -> None:
    worker = make.user("grid_worker", grids=[make.grid()])
    body = login(client, worker)
    assert body["user"]["username"] == worker.username
    assert body["user"]["role"] == "grid_worker"
    assert len(body["user"]["grid_ids"]) == 1
    cookie = client.cookies.jar
    assert any(c.name == "doorstep_session" for c in cookie)
