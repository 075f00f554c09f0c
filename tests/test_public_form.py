"""The residents' public page (no account) and their single-use rating link."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from server.app import create_app
from server.commands import demands as dm
from server.db import Database
from server.models import AuditLog, Community, Demand, DemandEvent, DemandStatus
from server.settings import Settings, load_settings
from tests.conftest import Factory, login
from tests.test_demands import World, build_world, put_demand, reload

S = DemandStatus


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


@pytest.fixture
def community(world: World, db: Database) -> Community:
    with db.read() as s:
        found = s.get(Community, world.grid.community_id)
        assert found is not None
        return found


def anonymous_csrf(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def demands(db: Database) -> list[Demand]:
    with db.read() as s:
        return list(s.exec(select(Demand)))


def count(db: Database, model: Any) -> int:
    with db.read() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_a_resident_s_request_lands_as_submitted_from_the_public_source(
    client: TestClient, community: Community, db: Database, world: World
) -> None:
    url = f"/p/{community.public_token}"
    csrf = anonymous_csrf(client, url)
    page = client.get(url).text
    assert community.name in page and 'name="website"' in page and "物业服务" in page
    response = client.post(
        url,
        data={
            "csrf_token": csrf,
            "field": "infrastructure",
            "description": "小区东门的路灯坏了一个月",
            "address": "芙蓉小区东门",
            "contact_name": "詹先生",
            "contact_phone": "13912345678",
            "website": "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    (demand,) = demands(db)
    assert (demand.status, demand.source, demand.field, demand.grid_id, demand.created_by) == (
        S.submitted,
        "public",
        "infrastructure",
        None,
        None,
    )
    assert (demand.contact_name, demand.contact_phone, demand.community_id) == (
        "詹先生",
        "13912345678",
        community.id,
    )
    with db.read() as s:
        (event,) = s.exec(select(DemandEvent).where(DemandEvent.demand_id == demand.id))
    assert (event.kind, event.actor_id, event.to_status) == ("created", None, S.submitted)
    ref = demand.id.hex[:8].upper()
    assert response.headers["location"] == f"{url}/thanks?ref={ref}&callback=1"
    thanks = client.get(response.headers["location"]).text
    assert ref in thanks and "工作人员会打电话和您联系" in thanks

    # The office's triage queue shows it, with the call-back asked for.
    staff = TestClient(client.app)
    login(staff, world.users["staff"])
    detail = staff.get(f"/demands/{demand.id}").text
    assert "居民扫码提交" in detail and "居民请求回电" in detail and "139****5678" in detail
    staff.close()


def _staff(db: Database, community: Community) -> Any:
    from server.models import User

    with db.read() as s:
        return s.exec(
            select(User).where(User.role == "community_staff", User.community_id == community.id)
        ).first()


def test_without_a_phone_the_thank_you_page_says_how_to_follow_up(
    client: TestClient, community: Community, db: Database
) -> None:
    url = f"/p/{community.public_token}"
    csrf = anonymous_csrf(client, url)
    response = client.post(
        url, data={"csrf_token": csrf, "field": "environment", "description": "垃圾桶满了"}
    )
    assert response.status_code == 200 and "您没有留电话" in response.text
    assert demands(db)[0].contact_phone == ""


def test_the_honeypot_refuses_and_stores_nothing(
    client: TestClient, community: Community, db: Database
) -> None:
    url = f"/p/{community.public_token}"
    csrf = anonymous_csrf(client, url)
    response = client.post(
        url,
        data={
            "csrf_token": csrf,
            "field": "property",
            "description": "买便宜药",
            "website": "http://spam.example",
        },
    )
    assert response.status_code == 400 and "无法提交" in response.text
    assert count(db, Demand) == 0 and count(db, DemandEvent) == 0


def test_the_sixth_submission_in_an_hour_from_one_address_is_refused(
    client: TestClient, community: Community, db: Database
) -> None:
    url = f"/p/{community.public_token}"
    csrf = anonymous_csrf(client, url)
    for n in range(5):
        ok = client.post(url, data={"csrf_token": csrf, "field": "property", "description": f"第{n}件事"})
        assert ok.status_code == 200, n
    refused = client.post(url, data={"csrf_token": csrf, "field": "property", "description": "第六件事"})
    assert refused.status_code == 429
    assert "提交太频繁了，请一小时后再试" in refused.text
    assert count(db, Demand) == 5 and "第六件事" not in {d.description for d in demands(db)}


def test_bad_input_is_refused_in_chinese_and_nothing_is_stored(
    client: TestClient, community: Community, db: Database
) -> None:
    url = f"/p/{community.public_token}"
    csrf = anonymous_csrf(client, url)
    cases = [
        ({"field": "", "description": "路灯"}, "领域：必须填写。"),
        ({"field": "weather", "description": "路灯"}, "领域：不是可选的值。"),
        ({"field": "property", "description": "   "}, "诉求内容：必须填写。"),
        ({"field": "property", "description": "路灯", "contact_phone": "110"}, "电话号码格式不对"),
    ]
    for data, message in cases:
        response = client.post(url, data={"csrf_token": csrf, **data})
        assert response.status_code == 400 and message in response.text, data
    assert count(db, Demand) == 0
    assert client.get("/p/no-such-community").status_code == 404


def test_oversized_and_script_laden_input_is_text_rendered_escaped(
    client: TestClient, community: Community, db: Database, world: World
) -> None:
    url = f"/p/{community.public_token}"
    csrf = anonymous_csrf(client, url)
    script = "<script>alert(1)</script>"
    oversized = script + "很" * 4975
    assert len(oversized) == 5000
    refused = client.post(url, data={"csrf_token": csrf, "field": "property", "description": oversized})
    assert refused.status_code == 400 and "最多 2000 个字" in refused.text
    assert script not in refused.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text
    assert count(db, Demand) == 0

    laden = script + "楼道灯坏了" + '"><img src=x onerror=alert(2)>'
    saved = client.post(
        url,
        data={"csrf_token": csrf, "field": "property", "description": laden, "contact_name": script},
    )
    assert saved.status_code == 200
    (demand,) = demands(db)
    assert demand.description == laden and demand.contact_name == script  # stored as typed: it is text
    staff = TestClient(client.app)
    login(staff, world.users["staff"])
    for page in (staff.get(f"/demands/{demand.id}").text, staff.get("/demands").text):
        assert script not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;楼道灯坏了" in page
    staff.close()


def test_the_public_page_needs_its_csrf_token(client: TestClient, community: Community, db: Database) -> None:
    url = f"/p/{community.public_token}"
    anonymous_csrf(client, url)  # the cookie is set, the token not sent
    refused = client.post(url, data={"field": "property", "description": "路灯"})
    assert refused.status_code == 403
    fresh = TestClient(client.app)  # a token from another browser does not match this one's cookie
    other = anonymous_csrf(fresh, url)
    fresh.close()
    assert (
        client.post(url, data={"csrf_token": other, "field": "property", "description": "路灯"}).status_code
        == 403
    )
    assert count(db, Demand) == 0


def test_the_rating_link_works_once(client: TestClient, world: World, db: Database) -> None:
    demand = put_demand(db, world, S.resolved, answer="已更换灯泡")
    token = demand.rating_token
    url = f"/r/{token}"
    csrf = anonymous_csrf(client, url)
    page = client.get(url).text
    assert "已更换灯泡" in page and "楼道路灯坏了一年多" in page
    for value in ("satisfied", "basically_satisfied", "dissatisfied"):
        assert f'value="{value}"' in page
    missing = client.post(url, data={"csrf_token": csrf, "comment": "还行"})
    assert missing.status_code == 400 and "评价：必须填写。" in missing.text
    rated = client.post(url, data={"csrf_token": csrf, "rating": "dissatisfied", "comment": "没修好"})
    assert rated.status_code == 200 and "社区会安排重新办理" in rated.text
    after = reload(db, demand.id)
    assert (after.status, after.rating, after.rating_comment, after.rating_token) == (
        S.rectifying,
        "dissatisfied",
        "没修好",
        "",
    )
    with db.read() as s:
        event = s.exec(select(DemandEvent).where(DemandEvent.demand_id == demand.id)).one()
        assert (event.kind, event.actor_id) == ("rated", None) and "居民本人通过评价链接" in event.note
        assert s.exec(select(AuditLog).where(AuditLog.action == "demand.rate_link")).one().record_id == str(
            demand.id
        )
    again = client.post(url, data={"csrf_token": csrf, "rating": "satisfied"})
    assert again.status_code == 404 and "已经用过或已失效" in again.text
    assert client.get(url).status_code == 404
    assert reload(db, demand.id).rating == "dissatisfied"


def test_a_new_answer_makes_a_new_link(world: World, db: Database) -> None:
    demand = put_demand(db, world, S.rectifying, "department")
    from server.auth import actor_for

    with db.read() as s:
        department = actor_for(s, world.users["department"])
    with db.write() as s:
        dm.resolve_demand(s, actor=department, data={"demand_id": str(demand.id), "note": "重新施工"})
    first = reload(db, demand.id).rating_token
    with db.write() as s:
        dm.rate_by_token(s, token=first, data={"rating": "satisfied"})
    assert reload(db, demand.id).status == S.closed
    with pytest.raises(dm.TokenUsed), db.write() as s:
        dm.rate_by_token(s, token=first, data={"rating": "dissatisfied"})
    with pytest.raises(dm.TokenUsed), db.write() as s:
        dm.rate_by_token(s, token="", data={"rating": "satisfied"})


def test_the_qr_code_follows_the_public_url_not_the_host_header(
    settings: Settings, db: Database, make: Factory, community: Community
) -> None:
    staff = make.user("community_staff", community=community)
    app = create_app(replace(settings, public_url="https://jmk.example.cn"), db=db, jobs=False)
    with TestClient(app, base_url="http://evil.example") as http:
        login(http, staff)
        page = http.get("/demands/qr", headers={"host": "evil.example"})
    assert page.status_code == 200
    assert f"https://jmk.example.cn/p/{community.public_token}" in page.text
    assert "evil.example" not in page.text


def test_the_public_url_is_a_setting(tmp_path: Path) -> None:
    env = {"DOORSTEP_DATA_DIR": str(tmp_path), "DOORSTEP_PUBLIC_URL": "https://jmk.example.cn/ "}
    assert load_settings(env).public_url == "https://jmk.example.cn"
