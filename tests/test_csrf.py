"""Every HTML form post in the app refuses a request without a valid CSRF token (and changes nothing)."""

from __future__ import annotations

import uuid

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from server import versions
from server.db import Database
from server.web.csrf import JSON_PREFIXES
from tests.conftest import Factory, login


def form_routes(app: Starlette) -> list[str]:
    paths = []
    for route in app.routes:
        if (
            isinstance(route, Route)
            and "POST" in (route.methods or set())
            and not route.path.startswith(JSON_PREFIXES)
        ):
            path = route.path
            for name in route.param_convertors:
                path = path.replace("{" + name + "}", str(uuid.uuid4()))
            paths.append(path)
    return paths


def test_there_are_form_routes_to_check(app: Starlette) -> None:
    assert len(form_routes(app)) >= 10  # the list below is not vacuous


def test_every_form_post_without_a_token_is_refused(
    client: TestClient, app: Starlette, make: Factory, db: Database
) -> None:
    login(client, make.user("admin", username="root"))
    with db.read() as s:
        before = versions.current(s)
    for path in form_routes(app):
        for kwargs in (
            {"data": {"x": "1"}},
            {"data": {"csrf_token": "forged"}},
            {"files": {"f": ("a.txt", b"x")}},
            {"content": b"x"},
        ):
            response = client.post(path, **kwargs)  # type: ignore[arg-type]
            assert response.status_code == 403, (path, kwargs, response.status_code)
            assert "页面已过期" in response.text or response.json().get("error") == "csrf_failed"
    with db.read() as s:
        assert versions.current(s) == before


def test_a_valid_token_gets_through(client: TestClient, make: Factory) -> None:
    token = login(client, make.user("admin", username="root"))["csrf_token"]
    response = client.post(
        "/language", data={"lang": "en", "next": "/", "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert (
        client.post(
            "/language", data={"lang": "en"}, headers={"X-CSRF-Token": token}, follow_redirects=False
        ).status_code
        == 303
    )


def test_a_cross_site_form_cannot_sign_a_phone_out(client: TestClient, make: Factory) -> None:
    token = login(client, make.user("grid_worker"))["csrf_token"]
    for kwargs in ({"data": {"x": "1"}}, {"content": b""}, {"headers": {"x-csrf-token": "forged"}}):
        assert client.post("/sync/logout", **kwargs).status_code == 415  # type: ignore[arg-type]
        assert client.post("/sync/pull", json={}).status_code != 401  # still signed in
    assert client.post("/sync/logout", headers={"x-csrf-token": token}).status_code == 200
    assert client.post("/sync/pull", json={}).status_code == 401


def test_a_token_of_any_text_is_refused_not_a_crash(client: TestClient) -> None:
    for kwargs in ({"data": {"csrf_token": "长城"}}, {"headers": {"x-csrf-token": b"caf\xe9"}, "data": {}}):
        response = client.post("/login", **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 403
    assert client.post("/sync/logout", headers={"x-csrf-token": b"caf\xe9"}).status_code == 415
