"""Open311 GeoReport v2 (read-only): fields checked one by one against the spec
(https://wiki.open311.org/GeoReport_v2), filters, who may read, and no resident's personal data."""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.clock import LOCAL_TZ
from server.db import Database
from server.models import ApiKey, AuditLog, Demand, DemandStatus, Household, utcnow
from tests.conftest import Factory, login
from tests.test_demands import World, build_world, put_demand

S = DemandStatus
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
REQUEST_FIELDS = {
    "service_request_id": str,
    "status": str,
    "status_notes": str,
    "service_name": str,
    "service_code": str,
    "description": str,
    "agency_responsible": str,
    "service_notice": str,
    "requested_datetime": str,
    "updated_datetime": str,
    "expected_datetime": (str, type(None)),
    "address": str,
    "address_id": (str, type(None)),
    "zipcode": (str, type(None)),
    "lat": (float, type(None)),
    "long": (float, type(None)),
    "media_url": (str, type(None)),
}
RESIDENT = "詹民华"
MOBILE = "13907941234"
ID_NUMBER = "36012119500101123X"
LANDLINE = "0794-6123456"


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


def issue_key(db: Database, world: World, name: str = "市 12345 平台") -> str:
    from server.auth import actor_for
    from server.commands import api_keys

    with db.write() as s:
        _row, key = api_keys.issue_key(s, actor=actor_for(s, world.users["admin"]), name=name)
    return key


@pytest.fixture
def key(db: Database, world: World) -> str:
    return issue_key(db, world)


def get(client: TestClient, path: str, key: str, **params: str) -> Any:
    return client.get(path, params=params, headers={"Authorization": f"Bearer {key}"})


def personal_request(db: Database, world: World, make: Factory) -> Demand:
    """A request whose text names the resident and carries their numbers, at a household with a
    room number and exact coordinates."""
    home = make.household(
        world.grid,
        estate="芙蓉小区",
        building="3栋",
        unit="2单元",
        room="301室",
        lat=27.432156,
        lng=115.834567,
    )
    make.resident(home, name=RESIDENT)
    return put_demand(
        db,
        world,
        S.accepted,
        household_id=home.id,
        address=home.address,
        description=f"{RESIDENT}反映：楼道灯坏了，电话{MOBILE}，座机{LANDLINE}，身份证{ID_NUMBER}。",
        contact_name="詹先生",
        contact_phone=MOBILE,
        deadline=utcnow() + timedelta(hours=30),
        handling_type="self",
    )


# -- who may read -------------------------------------------------------------------------------


def test_only_staff_admins_and_live_keys_may_read(
    client: TestClient, world: World, db: Database, key: str
) -> None:
    for path in ("/open311/v2/services.json", "/open311/v2/requests.json"):
        refused = client.get(path)
        assert refused.status_code == 403
        [error] = refused.json()
        assert error["code"] == 403 and "API 密钥" in error["description"]
        assert get(client, path, "dsk_not-a-key").status_code == 403
        assert get(client, path, key).status_code == 200
        assert client.get(path, headers={"X-API-Key": key}).status_code == 200
        assert client.get(path, params={"api_key": key}).status_code == 200
    for role, allowed in (("worker", False), ("department", False), ("staff", True), ("admin", True)):
        http = TestClient(client.app)
        login(http, world.users[role])
        assert (http.get("/open311/v2/requests.json").status_code == 200) is allowed, role
        http.close()

    from server.auth import actor_for
    from server.commands import api_keys

    with db.write() as s:
        row = s.exec(select(ApiKey)).one()
        api_keys.revoke_key(s, actor=actor_for(s, world.users["admin"]), key_id=row.id)
    assert get(client, "/open311/v2/requests.json", key).status_code == 403


def test_admins_issue_a_key_shown_once_and_revoke_it(client: TestClient, world: World, db: Database) -> None:
    csrf = login(client, world.users["admin"])["csrf_token"]
    issued = client.post("/admin/api-keys", data={"csrf_token": csrf, "name": "市数据平台"})
    assert issued.status_code == 200
    shown = re.search(r"<strong>(dsk_[A-Za-z0-9_-]+)</strong>", issued.text)
    assert shown is not None
    key = shown.group(1)
    with db.read() as s:
        row = s.exec(select(ApiKey)).one()
    assert row.name == "市数据平台" and key not in row.key_hash and row.prefix == key[:10]
    listing = client.get("/admin/api-keys").text
    assert key not in listing and row.prefix in listing
    outsider = TestClient(client.app)
    assert get(outsider, "/open311/v2/services.json", key).status_code == 200
    assert client.post("/admin/api-keys", data={"csrf_token": csrf, "name": ""}).status_code == 400
    revoked = client.post(
        f"/admin/api-keys/{row.id}/revoke", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert get(outsider, "/open311/v2/services.json", key).status_code == 403
    outsider.close()
    with db.read() as s:
        rows = s.exec(select(AuditLog).where(AuditLog.record_type == "api_key").order_by(AuditLog.id))  # type: ignore[arg-type]
        actions = [(a.action, a.record_id) for a in rows]
    assert actions == [("api_key.issue", str(row.id)), ("api_key.revoke", str(row.id))]


# -- services.json ------------------------------------------------------------------------------


def test_services_one_per_request_field(client: TestClient, key: str) -> None:
    services = get(client, "/open311/v2/services.json", key).json()
    assert isinstance(services, list)
    assert [s["service_code"] for s in services] == [
        "property",
        "elderly_care",
        "infrastructure",
        "environment",
        "dispute",
    ]
    for service in services:
        assert set(service) == {
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        }
        assert service["metadata"] is False
        assert service["type"] in ("realtime", "batch", "blackbox")
        for name in ("service_code", "service_name", "description", "keywords", "group"):
            assert isinstance(service[name], str) and service[name]
        assert "," in service["keywords"]
    assert services[0]["service_name"] == "物业服务"


# -- requests.json ------------------------------------------------------------------------------


def test_every_request_field_has_its_spec_type_and_meaning(
    client: TestClient, world: World, db: Database, make: Factory, key: str
) -> None:
    demand = personal_request(db, world, make)
    response = get(client, "/open311/v2/requests.json", key)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    (row,) = response.json()
    assert set(row) == set(REQUEST_FIELDS)
    for name, kind in REQUEST_FIELDS.items():
        assert isinstance(row[name], kind), name
    assert row["service_request_id"] == str(demand.id)
    assert row["status"] == "open" and row["status_notes"] == "已接单"
    assert (row["service_code"], row["service_name"]) == ("infrastructure", "基础设施维护")
    assert row["agency_responsible"].endswith("一网格")
    assert row["service_notice"] == "受理自办类，办理时限 3 个工作日"
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(row[name]), (name, row[name])
    requested = datetime.fromisoformat(row["requested_datetime"])
    assert abs(requested - demand.created_at) < timedelta(seconds=1)
    assert datetime.fromisoformat(row["expected_datetime"]) == demand.deadline.replace(microsecond=0)  # type: ignore[union-attr]
    assert row["address"] == "芙蓉小区 3栋"
    assert (row["lat"], row["long"]) == (27.432, 115.835)
    assert (row["address_id"], row["zipcode"], row["media_url"]) == (None, None, None)


def test_no_resident_name_phone_or_id_number_leaves_in_the_export(
    client: TestClient, world: World, db: Database, make: Factory, key: str
) -> None:
    personal_request(db, world, make)
    put_demand(
        db,
        world,
        S.submitted,
        household_id=None,
        description=f"请联系{MOBILE}",
        contact_name="王五",
        contact_phone="13800138000",
        address="桃园新村5栋1单元502室",
    )
    rows = get(client, "/open311/v2/requests.json", key).json()
    # Everything but the ids (random hex could hold any three digits).
    body = json.dumps(
        [{k: v for k, v in r.items() if k != "service_request_id"} for r in rows], ensure_ascii=False
    )
    for secret in (
        RESIDENT,
        "詹先生",
        "王五",
        MOBILE,
        "13800138000",
        ID_NUMBER,
        "6123456",
        "301",
        "502",
        "2单元",
        "1单元",
        "contact",
    ):
        assert secret not in body, secret
    texts = {r["description"] for r in rows}
    assert "詹某反映：楼道灯坏了，电话139****1234，座机0794****，身份证3601**********123X。" in texts
    assert f"请联系{MOBILE[:3]}****{MOBILE[-4:]}" in texts
    assert {r["address"] for r in rows} == {"芙蓉小区 3栋", "桃园新村5栋"}


def test_status_mapping_and_filters(client: TestClient, world: World, db: Database, key: str) -> None:
    now = utcnow()
    made = {
        status: put_demand(db, world, status, created_at=now - timedelta(days=n))
        for n, status in enumerate(
            (S.submitted, S.rectifying, S.replied, S.resolved, S.closed, S.transferred)
        )
    }
    old = put_demand(db, world, S.submitted, created_at=now - timedelta(days=120), field="property")

    def ids(**params: str) -> set[str]:
        response = get(client, "/open311/v2/requests.json", key, **params)
        assert response.status_code == 200, response.text
        return {r["service_request_id"] for r in response.json()}

    def of(*statuses: str) -> set[str]:
        return {str(made[s].id) for s in statuses}

    everything = of(*made)
    assert ids() == everything  # the last 90 days by default
    assert ids(status="open") == of(S.submitted, S.rectifying, S.transferred)
    assert ids(status="closed") == of(S.replied, S.resolved, S.closed)
    assert ids(status="open,closed") == everything
    assert ids(service_code="infrastructure") == everything
    assert ids(service_code="property") == set()
    assert ids(service_code="property", start_date=(now - timedelta(days=200)).isoformat()) == {str(old.id)}
    start = (now - timedelta(days=2, hours=1)).isoformat()
    end = (now - timedelta(days=0, hours=12)).isoformat()
    assert ids(start_date=start, end_date=end) == of(S.rectifying, S.replied)
    local_day = (now - timedelta(days=3)).astimezone(LOCAL_TZ).date().isoformat()
    assert ids(start_date=local_day, end_date=local_day) == of(S.resolved)
    assert ids(service_request_id=f"{made[S.closed].id},{uuid.uuid4()}") == of(S.closed)
    assert ids(start_date=(now - timedelta(days=4, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")) == of(
        S.submitted, S.rectifying, S.replied, S.resolved, S.closed
    )


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-13-01"}, "end_date"),
        ({"start_date": "2026-03-05", "end_date": "2026-03-01"}, "start_date"),
        ({"start_date": "2026-01-01", "end_date": "2026-04-01"}, "90"),
        ({"status": "pending"}, "status"),
        ({"service_code": "weather"}, "service_code"),
        ({"service_request_id": "abc"}, "service_request_id"),
    ],
)
def test_a_bad_filter_is_a_400_in_the_spec_error_list_naming_it(
    client: TestClient, world: World, key: str, params: dict[str, str], named: str
) -> None:
    response = get(client, "/open311/v2/requests.json", key, **params)
    assert response.status_code == 400
    [error] = response.json()
    assert error["code"] == 400 and named in error["description"]
    assert re.search(r"[\u4e00-\u9fff]", error["description"])


def test_staff_read_their_community_keys_every_community_and_every_read_is_audited(
    client: TestClient, world: World, db: Database, make: Factory, key: str
) -> None:
    mine = put_demand(db, world, S.submitted)
    elsewhere = make.community()
    other_grid = make.grid(elsewhere)
    theirs = Demand(
        community_id=elsewhere.id,
        grid_id=other_grid.id,
        field="property",
        description="电梯",
        source="phone",
        status=S.submitted,
    )
    make._save(theirs)
    login(client, world.users["staff"])
    assert {r["service_request_id"] for r in client.get("/open311/v2/requests.json").json()} == {str(mine.id)}
    outsider = TestClient(client.app)
    assert {r["service_request_id"] for r in get(outsider, "/open311/v2/requests.json", key).json()} == {
        str(mine.id),
        str(theirs.id),
    }
    outsider.close()
    with db.read() as s:
        exports = list(s.exec(select(AuditLog).where(AuditLog.action == "open311.export")))
    assert sorted(e.detail["reader"] for e in exports) == [
        "api_key:市 12345 平台",
        f"user:{world.users['staff'].username}",
    ]
    assert sorted(e.detail["count"] for e in exports) == [1, 2]


def test_coarse_address_keeps_estate_and_building_only() -> None:
    from server.queries.open311 import coarse_address

    household = Household(
        community_id=uuid.uuid4(),
        grid_id=uuid.uuid4(),
        estate="芙蓉小区",
        building="12栋",
        unit="3单元",
        room="1202",
        address="芙蓉小区 12栋 3单元 1202",
    )
    assert coarse_address(household, "anything") == "芙蓉小区 12栋"
    for text, expected in (
        ("幸福家园3栋2单元301室", "幸福家园3栋"),
        ("幸福家园3栋301", "幸福家园3栋"),
        ("幸福家园东门", "幸福家园东门"),
        ("", ""),
    ):
        assert coarse_address(None, text) == expected, text


def test_datetimes_are_in_shanghai_with_their_offset() -> None:
    from server.queries.open311 import iso

    assert iso(datetime(2026, 3, 1, 16, 30, 5, 123456, tzinfo=UTC)) == "2026-03-02T00:30:05+08:00"
    assert iso(None) is None


def test_a_key_in_the_url_stays_out_of_the_audit_and_access_logs(
    client: TestClient, db: Database, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.get(f"/open311/v2/requests.json?status=open&api_key={key}")
    assert response.status_code == 200
    with db.read() as s:
        [export] = s.exec(select(AuditLog).where(AuditLog.action == "open311.export"))
    assert key not in json.dumps(export.detail) and "api_key=REDACTED" in export.detail["query"]
    # uvicorn's access log line, as uvicorn's httptools and h11 protocols log it
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "10.0.0.1:5000",
            "GET",
            f"/open311/v2/requests.json?api_key={key}",
            "1.1",
            200,
        )
    assert key not in caplog.text and "api_key=REDACTED" in caplog.text
