"""Open311 GeoReport v2 method by method, read by clients that are not ours: the PyPI
`georeport` client (XML and JSON) against the real server, our XML parsed with `defusedxml`,
a county hotline's POST read back by id; errors as the spec's list; the publishing setting."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import httpx
import pytest
from defusedxml import ElementTree as DET
from georeport import GeoReport
from sqlmodel import select
from starlette.testclient import TestClient

from server import preferences
from server.db import Database
from server.models import AuditLog, Community, Demand, DemandEvent, DemandStatus
from tests.conftest import SECRET, Factory, login
from tests.live import LiveServer, serving
from tests.test_demands import World, build_world, put_demand
from tests.test_open311 import MOBILE, REQUEST_FIELDS, RESIDENT, W3C, issue_key, personal_request

S = DemandStatus
CODES = ["property", "elderly_care", "infrastructure", "environment", "dispute"]


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


@pytest.fixture
def server(db: Database, database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with serving(database_url, tmp_path, SECRET) as live:
        yield live


def publish(db: Database, mode: str) -> None:
    with db.write() as s:
        preferences.set(s, "open311.publishing", mode, None)


def code_of(db: Database, world: World) -> str:
    with db.read() as s:
        community = s.get(Community, world.grid.community_id)
        assert community is not None
        return community.code


def as_list(value: Any) -> list[Any]:
    """xmltodict gives one repeated element as a dict, several as a list."""
    return value if isinstance(value, list) else [value]


def parsed(response: httpx.Response | Any, root: str) -> Element:
    assert response.headers["content-type"].startswith("text/xml"), response.headers["content-type"]
    tree = DET.fromstring(response.content)
    assert tree.tag == root
    return tree


def spec_error(response: httpx.Response | Any, status: int, fmt: str) -> str:
    """The description of the one error in the spec's list, after checking its shape."""
    assert response.status_code == status, response.text
    if fmt == "json":
        [error] = response.json()
        assert set(error) == {"code", "description"} and error["code"] == status
        return str(error["description"])
    tree = parsed(response, "errors")
    [error] = list(tree)
    assert error.tag == "error" and [c.tag for c in error] == ["code", "description"]
    assert error.findtext("code") == str(status)
    return error.findtext("description") or ""


# -- a real client --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_georeport_client_reads_every_get_method(
    server: LiveServer, db: Database, world: World, make: Factory, fmt: str
) -> None:
    publish(db, "public")
    mine = personal_request(db, world, make)
    closed = put_demand(db, world, S.closed, field="property", description="电梯修好了")
    client = GeoReport(f"{server.url}/open311/v2", jurisdiction=code_of(db, world), output_format=fmt)

    services = client.get_service_list()
    assert [s["service_code"] for s in services] == CODES
    assert services[0]["service_name"] == "物业服务"
    assert {str(s["metadata"]).lower() for s in services} == {"false"}
    definition = client.get_service_definition("dispute")
    assert definition["service_code"] == "dispute"

    def ids(**filters: str) -> set[str]:
        return {r["service_request_id"] for r in as_list(client.get_service_requests(**filters))}

    assert ids() == {str(mine.id), str(closed.id)}
    assert ids(status="open") == {str(mine.id)}
    assert ids(status="closed") == {str(closed.id)}
    assert ids(service_code="property") == {str(closed.id)}
    assert ids(service_request_id=f"{mine.id},{closed.id}", status="closed") == {str(mine.id), str(closed.id)}
    if fmt == "json":  # the client reads an empty <service_requests/> as None and fails
        assert ids(start_date="2020-01-01T00:00:00Z", end_date="2020-03-01T00:00:00Z") == set()
    assert ids(
        start_date="2020-01-01T00:00:00Z", end_date="2020-03-01T00:00:00Z", service_request_id=str(mine.id)
    ) == {str(mine.id)}

    one = client.get_service_request(str(mine.id))
    assert set(one) == set(REQUEST_FIELDS)
    assert (one["status"], one["service_code"], one["address"]) == ("open", "infrastructure", "芙蓉小区 3栋")
    assert W3C.match(one["expected_datetime"]) and W3C.match(one["requested_datetime"])
    assert one["status_notes"] == "已接单" and one["agency_responsible"].endswith("一网格")
    assert RESIDENT not in one["description"] and MOBILE not in one["description"]


def test_our_xml_parses_with_defusedxml_method_by_method(
    server: LiveServer, db: Database, world: World, make: Factory
) -> None:
    publish(db, "public")
    mine = personal_request(db, world, make)
    base = f"{server.url}/open311/v2"
    with httpx.Client(base_url=base) as http:
        discovery = parsed(http.get("/discovery.xml"), "discovery")
        [endpoint] = discovery.findall("endpoints/endpoint")
        assert endpoint.findtext("url") == base and endpoint.findtext("type") == "production"
        assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
        assert http.get("/discovery.json").json()["endpoints"][0]["formats"] == [
            "text/xml",
            "application/json",
        ]

        services = parsed(http.get("/services.xml"), "services")
        assert [s.findtext("service_code") for s in services.findall("service")] == CODES
        assert services.findtext("service/metadata") == "false"
        definition = parsed(http.get("/services/property.xml"), "service_definition")
        assert definition.findtext("service_code") == "property" and definition.find("attributes") is not None
        assert http.get("/services/property.json").json() == {"service_code": "property", "attributes": []}

        for path in ("/requests.xml", f"/requests/{mine.id}.xml"):
            [request] = parsed(http.get(path), "service_requests").findall("request")
            assert [c.tag for c in request] == list(REQUEST_FIELDS)
            assert request.findtext("service_request_id") == str(mine.id)
            assert request.findtext("lat") == "27.432" and request.findtext("media_url") == ""

        for fmt in ("xml", "json"):
            assert "service_request_id" in spec_error(http.get(f"/requests/{uuid.uuid4()}.{fmt}"), 404, fmt)
            assert "service_code" in spec_error(http.get(f"/services/weather.{fmt}"), 404, fmt)
            assert "status" in spec_error(http.get(f"/requests.{fmt}", params={"status": "x"}), 400, fmt)
            assert "jurisdiction_id" in spec_error(
                http.get(f"/requests.{fmt}", params={"jurisdiction_id": "nowhere"}), 404, fmt
            )
            assert "token" in spec_error(http.get(f"/tokens/abc.{fmt}"), 404, fmt)
        assert http.get("/requests.csv").status_code == 404


# -- a county hotline hands a request over ------------------------------------------------------


def test_a_posted_request_enters_as_a_dianban_and_reads_back_by_id(
    server: LiveServer, db: Database, world: World
) -> None:
    key = issue_key(db, world)
    code = code_of(db, world)
    form = {
        "api_key": key,
        "jurisdiction_id": code,
        "service_code": "environment",
        "description": f"{RESIDENT}反映垃圾三天没人清，电话{MOBILE}",
        "address_string": "芙蓉小区3栋2单元301室",
        "lat": "27.432156",
        "long": "115.834567",
        "first_name": "民华",
        "last_name": "詹",
        "phone": MOBILE,
    }
    with httpx.Client(base_url=f"{server.url}/open311/v2") as http:
        made = http.post("/requests.xml", data=form)
        assert made.status_code == 201, made.text
        [answer] = parsed(made, "service_requests").findall("request")
        request_id = answer.findtext("service_request_id") or ""
        assert "点单" in (answer.findtext("service_notice") or "")
        as_json = http.post("/requests.json", data=form | {"description": "路灯坏了"})
        assert as_json.status_code == 201 and set(as_json.json()[0]) == {
            "service_request_id",
            "service_notice",
            "account_id",
        }

        for fmt in ("json", "xml"):
            read = http.get(f"/requests/{request_id}.{fmt}", params={"api_key": key})
            assert read.status_code == 200
            if fmt == "json":
                [row] = read.json()
            else:
                [element] = parsed(read, "service_requests").findall("request")
                row = {c.tag: c.text or "" for c in element}
            assert (row["service_request_id"], row["status"], row["service_code"]) == (
                request_id,
                "open",
                "environment",
            )
            assert row["description"] == f"詹某反映垃圾三天没人清，电话{MOBILE[:3]}****{MOBILE[-4:]}"
            assert row["address"] == "芙蓉小区3栋" and str(row["lat"]) == "27.432"

        refused = [
            (form | {"api_key": ""}, 403, "api_key"),
            (form | {"api_key": "dsk_not-a-key"}, 403, "api_key"),
            ({k: v for k, v in form.items() if k != "jurisdiction_id"}, 400, "jurisdiction_id"),
            (form | {"jurisdiction_id": "nowhere"}, 404, "jurisdiction_id"),
            (form | {"service_code": "weather"}, 400, "领域"),
            (
                {k: v for k, v in form.items() if k not in ("lat", "long", "address_string")},
                400,
                "address_string",
            ),
            (form | {"phone": "not a phone"}, 400, "电话"),
        ]
        for data, status, named in refused:
            for fmt in ("xml", "json"):
                assert named in spec_error(http.post(f"/requests.{fmt}", data=data), status, fmt), data

    with db.read() as s:
        demand = s.get(Demand, uuid.UUID(request_id))
        assert demand is not None
        assert (demand.status, demand.source, demand.community_id, demand.grid_id) == (
            S.submitted,
            "public",
            world.grid.community_id,
            None,
        )
        assert (demand.contact_name, demand.contact_phone, demand.address) == (
            "詹民华",
            MOBILE,
            "芙蓉小区3栋2单元301室",
        )
        assert (demand.lat, demand.lng) == (27.432156, 115.834567)
        [event] = s.exec(select(DemandEvent).where(DemandEvent.demand_id == demand.id))
        assert event.kind == "created" and event.note == "由 市 12345 平台 通过 Open311 转来。"
        created = s.exec(select(AuditLog).where(AuditLog.action == "open311.create")).all()
        assert len(created) == 2 and {a.detail["reader"] for a in created} == {"api_key:市 12345 平台"}
        assert len(s.exec(select(Demand)).all()) == 2  # no refused post left anything


# -- who may read: the publishing setting ----------------------------------------------------------


def test_publishing_off_key_only_or_public(client: TestClient, db: Database, world: World) -> None:
    key = issue_key(db, world)
    put_demand(db, world, S.submitted)
    staff = TestClient(client.app)
    login(staff, world.users["staff"])

    def statuses() -> dict[str, int]:
        return {
            "anonymous": client.get("/open311/v2/requests.xml").status_code,
            "key": client.get("/open311/v2/requests.xml", params={"api_key": key}).status_code,
            "staff": staff.get("/open311/v2/requests.json").status_code,
            "discovery": client.get("/open311/v2/discovery.json").status_code,
            "post without key": client.post(
                "/open311/v2/requests.json", data={"service_code": "property"}
            ).status_code,
        }

    assert statuses() == {
        "anonymous": 403,
        "key": 200,
        "staff": 200,
        "discovery": 200,
        "post without key": 403,
    }
    publish(db, "public")
    assert statuses() == {
        "anonymous": 200,
        "key": 200,
        "staff": 200,
        "discovery": 200,
        "post without key": 403,
    }
    publish(db, "off")
    assert statuses() == {
        "anonymous": 403,
        "key": 403,
        "staff": 403,
        "discovery": 403,
        "post without key": 403,
    }
    assert "未开放" in spec_error(client.get("/open311/v2/services.xml"), 403, "xml")
    staff.close()

    csrf = login(client, world.users["admin"])["csrf_token"]
    page = client.get("/admin/settings").text
    assert 'name="open311.publishing"' in page and '<option value="public"' in page
    saved = client.post(
        "/admin/settings/open311.publishing", data={"csrf_token": csrf, "open311.publishing": "public"}
    )
    assert saved.status_code in (200, 303)
    refused = client.post(
        "/admin/settings/open311.publishing", data={"csrf_token": csrf, "open311.publishing": "all"}
    )
    assert refused.status_code == 400
    with db.read() as s:
        assert preferences.get(s, "open311.publishing") == "public"


def test_staff_read_only_their_own_jurisdiction(
    client: TestClient, db: Database, world: World, make: Factory
) -> None:
    put_demand(db, world, S.submitted)
    elsewhere = make.community(code="other")
    login(client, world.users["staff"])
    mine = client.get("/open311/v2/requests.json", params={"jurisdiction_id": code_of(db, world)})
    assert mine.status_code == 200 and len(mine.json()) == 1
    assert "本社区" in spec_error(
        client.get("/open311/v2/requests.json", params={"jurisdiction_id": elsewhere.code}), 403, "json"
    )
