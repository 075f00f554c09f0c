"""Every route with an id in its path answers an unknown or foreign id with 404 (or 403 for a
role that may not use it, 401 without a session) — never 500, never the record."""

from __future__ import annotations

import uuid

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.conftest import Factory, login

ROLES = ("grid_worker", "community_staff", "department", "admin")


def id_routes(app: Starlette) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if (
            isinstance(route, Route)
            and route.param_convertors
            and not route.path.startswith(("/app/", "/sync/blobs"))
        ):
            path = route.path
            for name in route.param_convertors:
                path = path.replace("{" + name + "}", str(uuid.uuid4()))
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append((method, path))
    return found


@pytest.mark.parametrize("role", ROLES)
def test_unknown_ids_are_404_for_every_role(
    client: TestClient, app: Starlette, make: Factory, role: str
) -> None:
    grid = make.grid()
    user = make.user(role, grids=[grid] if role == "grid_worker" else None)
    token = login(client, user)["csrf_token"]
    routes = id_routes(app)
    assert len(routes) >= 10
    for method, path in routes:
        response = client.request(method, path, data={"csrf_token": token}, headers={"X-CSRF-Token": token})
        assert response.status_code in (400, 403, 404, 405, 415), (role, method, path, response.status_code)


def test_a_foreign_household_is_404_on_every_household_route(
    client: TestClient, app: Starlette, make: Factory
) -> None:
    mine, theirs = make.grid(), make.grid()
    foreign = make.household(theirs)
    resident = make.resident(foreign)
    token = login(client, make.user(grids=[mine]))["csrf_token"]
    checked = 0
    for route in app.routes:
        if not isinstance(route, Route) or not route.param_convertors:
            continue
        names = set(route.param_convertors)
        if route.path.startswith("/households/{") or route.path.startswith("/residents/{"):
            record = foreign.id if route.path.startswith("/households/") else resident.id
            path = route.path.replace("{" + next(iter(names)) + "}", str(record))
            for method in sorted((route.methods or set()) - {"HEAD"}):
                response = client.request(method, path, data={"csrf_token": token})
                assert response.status_code == 404, (method, path, response.status_code)
                assert foreign.address not in response.text
                checked += 1
    assert checked >= 8
