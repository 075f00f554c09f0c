"""The sync endpoints against their OpenAPI description (`/sync/openapi.json`), with
schemathesis calling the app in-process as a signed-in worker: no 500, and every
response as described (status, content type, headers, body)."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from tests.conftest import Factory, login

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_the_sync_endpoints_answer_as_their_openapi_description_says(
    app: Any, client: TestClient, make: Factory
) -> None:
    grid = make.grid()
    make.household(grid)
    signed_in = login(client, make.user(grids=[grid]))
    cookies = dict(client.cookies.items())
    headers = {"x-csrf-token": signed_in["csrf_token"]}
    schema = schemathesis.openapi.from_asgi("/sync/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {
        "POST /sync/login",
        "POST /sync/push",
        "POST /sync/pull",
        "POST /sync/rescue-key",
        "PUT /sync/blobs/{sha256}",
        "GET /sync/blobs/{sha256}",
    }
    strategies = [
        op.as_strategy(generation_mode=mode)
        for op in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]

    @settings(
        max_examples=250,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(case=st.one_of(strategies))
    def call(case: Any) -> None:
        response = case.call(headers=headers, cookies=cookies)
        case.validate_response(response, checks=CHECKS)

    call()


def test_the_description_is_served_without_signing_in(client: TestClient) -> None:
    response = client.get("/sync/openapi.json")
    assert response.status_code == 200
    assert set(response.json()["paths"]) == {
        "/sync/login",
        "/sync/push",
        "/sync/pull",
        "/sync/rescue-key",
        "/sync/blobs/{sha256}",
    }
