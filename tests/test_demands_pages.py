"""Office pages for requests: the triage → dispatch → accept flow, lists per role, scope (404),
roles (403) and CSRF on every post."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from server.commands import demands as dm
from server.db import Database
from server.models import AuditLog, Demand, DemandEvent, DemandStatus, utcnow
from server.workflows import demands as demand_flow
from tests.conftest import Factory, login
from tests.test_demands import World, build_world, put_demand, reload, step_args

S = DemandStatus


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


def signed_in(client: TestClient, user: Any) -> str:
    return str(login(client, user)["csrf_token"])


def form_of(step: str, demand: Demand, w: World) -> dict[str, str]:
    """What the step's form posts (the mutation's args, as form fields)."""
    args = step_args(step, demand, w)
    return {k: v for k, v in args.items() if k not in ("demand_id", "photos") and v not in ("", None)}


def count(db: Database, model: Any) -> int:
    with db.read() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_triage_to_dispatch_to_accept(client: TestClient, world: World, db: Database, make: Factory) -> None:
    older = put_demand(
        db, world, S.submitted, description="单元门禁坏了", created_at=utcnow() - timedelta(days=2)
    )
    newer = put_demand(db, world, S.submitted, household_id=None, description="桃园新村门口积水", address="")
    make.household(world.other_grid, estate="桃园新村")
    csrf = signed_in(client, world.users["staff"])

    queue = client.get("/demands")
    assert queue.status_code == 200
    text = queue.text
    assert text.index("单元门禁坏了") < text.index("桃园新村门口积水")  # oldest first
    assert "建议派给：一网格" in text and "建议派给：二网格" in text

    page = client.get(f"/demands/{newer.id}")
    assert page.status_code == 200
    selected = re.search(r'<option value="([0-9a-f-]+)" selected>二网格（建议）', page.text)
    assert selected and selected.group(1) == str(world.other_grid.id)
    assert f'action="/demands/{newer.id}/dispatch"' in page.text
    assert f'action="/demands/{newer.id}/answer"' in page.text

    response = client.post(
        f"/demands/{older.id}/dispatch",
        data={
            "csrf_token": csrf,
            "grid_id": str(world.grid.id),
            "handling_type": "reply",
            "priority": "urgent",
        },
        follow_redirects=False,
    )
    assert (
        response.status_code == 303 and response.headers["location"] == f"/demands/{older.id}?done=dispatch"
    )
    dispatched = reload(db, older.id)
    assert (dispatched.status, dispatched.grid_id, dispatched.handling_type, dispatched.priority) == (
        S.dispatched,
        world.grid.id,
        "reply",
        "urgent",
    )
    shown = client.get(f"/demands/{older.id}?done=dispatch").text
    assert "已保存：派单。" in shown and "派单至一网格。" in shown and "回复解释类" in shown

    worker = TestClient(client.app)
    worker_csrf = signed_in(worker, world.users["worker"])
    listing = worker.get("/demands").text
    assert "单元门禁坏了" in listing and "剩 4 小时" in listing  # reply, urgent: 4 hours from now
    accepted = worker.post(
        f"/demands/{older.id}/accept", data={"csrf_token": worker_csrf}, follow_redirects=False
    )
    assert accepted.status_code == 303
    assert reload(db, older.id).assignee_id == world.users["worker"].id
    resolved = worker.post(
        f"/demands/{older.id}/reply", data={"csrf_token": worker_csrf, "answer": "已联系物业，明天修好"}
    )
    assert resolved.status_code == 200 and "已答复" in resolved.text
    assert "/r/" in resolved.text  # the resident's rating link, to send on
    worker.close()


def test_a_refused_step_says_why_and_keeps_what_was_typed(
    client: TestClient, world: World, db: Database
) -> None:
    demand = put_demand(db, world, S.submitted)
    csrf = signed_in(client, world.users["staff"])
    empty = client.post(f"/demands/{demand.id}/answer", data={"csrf_token": csrf, "answer": ""})
    assert empty.status_code == 400 and "答复内容：必须填写。" in empty.text
    long = "很长的答复" * 500
    too_long = client.post(f"/demands/{demand.id}/answer", data={"csrf_token": csrf, "answer": long})
    assert too_long.status_code == 400 and long in too_long.text and "最多 2000 个字" in too_long.text
    with db.write() as s:
        dm.close_demand(s, actor=_actor(db, world, "staff"), data={"demand_id": str(demand.id)})
    late = client.post(f"/demands/{demand.id}/answer", data={"csrf_token": csrf, "answer": "好的"})
    assert late.status_code == 409 and "这条诉求现在是“已归档”，不能直接答复。" in late.text
    assert reload(db, demand.id).answer == ""


def _actor(db: Database, w: World, role: str) -> Any:
    from server.auth import actor_for

    with db.read() as s:
        return actor_for(s, w.users[role])


def test_capture_by_phone_hotline_or_tea_meeting(client: TestClient, world: World, db: Database) -> None:
    csrf = signed_in(client, world.users["staff"])
    form = client.get("/demands/new")
    assert form.status_code == 200
    demand_id = re.search(r'name="demand_id" value="([0-9a-f-]+)"', form.text).group(1)  # type: ignore[union-attr]
    for source in ("phone", "hotline", "meeting"):
        assert f'value="{source}"' in form.text
    base = {"csrf_token": csrf, "demand_id": demand_id, "source": "hotline", "field": "property"}
    refused = client.post("/demands/new", data={**base, "description": ""})
    assert refused.status_code == 400 and "诉求内容：必须填写。" in refused.text
    refused = client.post("/demands/new", data={**base, "description": "电梯停了", "contact_phone": "12345"})
    assert refused.status_code == 400 and "电话号码格式不对" in refused.text and "电梯停了" in refused.text
    assert count(db, Demand) == 0
    data = {
        "csrf_token": csrf,
        "demand_id": demand_id,
        "source": "meeting",
        "field": "dispute",
        "description": "楼上漏水到楼下，两家协商不成",
        "address": "芙蓉小区3栋",
        "contact_name": "李阿姨",
        "contact_phone": "13800138000",
    }
    for _ in range(2):  # the same form twice is one request
        saved = client.post("/demands/new", data=data, follow_redirects=False)
        assert saved.status_code == 303 and saved.headers["location"] == f"/demands/{demand_id}?done=create"
    demand = reload(db, uuid.UUID(demand_id))
    assert (demand.source, demand.status, demand.grid_id, demand.contact_phone) == (
        "meeting",
        S.submitted,
        None,
        "13800138000",
    )
    page = client.get(f"/demands/{demand_id}").text
    assert "138****8000" in page and "13800138000" not in page
    revealed = client.post(f"/demands/{demand_id}/reveal", data={"csrf_token": csrf})
    assert revealed.status_code == 200 and 'href="tel:13800138000"' in revealed.text
    with db.read() as s:
        assert (
            s.exec(select(AuditLog).where(AuditLog.action == "reveal_contact_phone")).one().record_id
            == demand_id
        )


def test_workers_and_departments_see_their_lists_with_deadlines_standing_out(
    client: TestClient, world: World, db: Database
) -> None:
    now = utcnow()
    late = put_demand(db, world, S.accepted, description="路灯不亮", deadline=now - timedelta(hours=3))
    soon = put_demand(db, world, S.dispatched, description="垃圾满了", deadline=now + timedelta(hours=5))
    transferred = put_demand(
        db, world, S.transferred, "department", description="下水道堵塞", deadline=now - timedelta(hours=1)
    )
    signed_in(client, world.users["worker"])
    page = client.get("/demands").text
    assert re.search(rf'is-overdue">\s*<a href="/demands/{late.id}"', page)
    assert re.search(rf'is-due">\s*<a href="/demands/{soon.id}"', page)
    overdue = client.get("/demands?view=overdue").text
    assert "路灯不亮" in overdue and "下水道堵塞" in overdue and "垃圾满了" not in overdue

    department = TestClient(client.app)
    signed_in(department, world.users["department"])
    home = department.get("/", follow_redirects=True)
    assert home.status_code == 200 and home.url.path == "/demands"
    assert "下水道堵塞" in home.text and "已逾期" in home.text and "路灯不亮" not in home.text
    detail = department.get(f"/demands/{transferred.id}")
    assert detail.status_code == 200
    for step in ("progress", "reply", "resolve", "return", "escalate"):
        assert f'action="/demands/{transferred.id}/{step}"' in detail.text
    assert f'action="/demands/{transferred.id}/dispatch"' not in detail.text
    department.close()


def test_outside_the_scope_every_route_is_404(
    client: TestClient, world: World, db: Database, make: Factory
) -> None:
    elsewhere = make.community()
    other_staff = make.user("community_staff", community=elsewhere)
    by_role = {
        "grid_worker": world.users["other_worker"],
        "community_staff": other_staff,
        "department": world.users["other_department"],
    }
    demands = {
        "grid_worker": put_demand(db, world, S.dispatched),
        "community_staff": put_demand(db, world, S.submitted),
        "department": put_demand(db, world, S.transferred, "department"),
    }
    for role, user in by_role.items():
        http = TestClient(client.app)
        csrf = signed_in(http, user)
        demand = demands[role]
        assert http.get(f"/demands/{demand.id}").status_code == 404, role
        assert http.post(f"/demands/{demand.id}/reveal", data={"csrf_token": csrf}).status_code == 404, role
        for step, roles in demand_flow.STEP_ROLES.items():
            if step == "create" or role not in roles:
                continue
            for target in demands.values():
                response = http.post(
                    f"/demands/{target.id}/{step}", data={"csrf_token": csrf, **form_of(step, target, world)}
                )
                assert response.status_code == 404, (role, step)
        assert http.get(f"/demands/{uuid.uuid4()}").status_code == 404
        assert http.post(f"/demands/{demand.id}/no-such-step", data={"csrf_token": csrf}).status_code == 404
        http.close()
    for demand in demands.values():
        after = reload(db, demand.id)
        assert (after.version, after.status) == (demand.version, demand.status)


def test_roles_that_may_not_are_refused_with_403(client: TestClient, world: World, db: Database) -> None:
    demand = put_demand(db, world, S.submitted)
    cases = {
        "worker": [
            ("GET", "/demands/dashboard"),
            ("GET", "/demands/qr"),
            ("GET", "/admin/api-keys"),
            ("POST", f"/demands/{demand.id}/dispatch"),
            ("POST", f"/demands/{demand.id}/close"),
        ],
        "department": [
            ("GET", "/demands/new"),
            ("POST", "/demands/new"),
            ("GET", "/demands/dashboard"),
            ("POST", f"/demands/{demand.id}/answer"),
        ],
        "staff": [
            ("GET", "/admin/api-keys"),
            ("POST", f"/demands/{demand.id}/accept"),
            ("POST", f"/demands/{demand.id}/rate"),
        ],
    }
    for role, requests in cases.items():
        http = TestClient(client.app)
        csrf = signed_in(http, world.users[role])
        for method, url in requests:
            step = url.rsplit("/", 1)[-1]
            data = {"csrf_token": csrf, **(form_of(step, demand, world) if step in demand_flow.STEPS else {})}
            response = http.request(method, url, data=data if method == "POST" else None)
            assert response.status_code == 403, (role, method, url)
        http.close()
    assert reload(db, demand.id).version == demand.version
    assert client.get("/demands", follow_redirects=False).status_code == 303  # not signed in: to /login


def test_every_post_refuses_a_missing_or_wrong_csrf_token(
    client: TestClient, world: World, db: Database, make: Factory
) -> None:
    demands = {step: put_demand(db, world, S.submitted) for step in demand_flow.STEPS}
    csrf = signed_in(client, world.users["admin"])
    with db.read() as s:
        from server.models import Community

        community = s.get(Community, world.grid.community_id)
    posts = [(f"/demands/{d.id}/{step}", form_of(step, d, world)) for step, d in demands.items()]
    posts += [
        (f"/demands/{demands['close'].id}/reveal", {}),
        (
            "/demands/new",
            {"demand_id": str(uuid.uuid4()), "source": "phone", "field": "property", "description": "x"},
        ),
        ("/admin/api-keys", {"name": "市平台"}),
        (f"/admin/api-keys/{uuid.uuid4()}/revoke", {}),
        (f"/p/{community.public_token}", {"field": "property", "description": "路灯坏了"}),  # type: ignore[union-attr]
        ("/r/some-token", {"rating": "satisfied"}),
    ]
    events, audits = count(db, DemandEvent), count(db, AuditLog)
    for url, data in posts:
        for token in (None, "wrong-" + csrf):
            body = data if token is None else {**data, "csrf_token": token}
            response = client.post(url, data=body)
            assert response.status_code == 403, url
            assert "页面已过期或来源不明" in response.text
    assert (count(db, DemandEvent), count(db, AuditLog), count(db, Demand)) == (events, audits, len(demands))
    # …and the same posts with the token go through (or are refused for their own reasons).
    answered = client.post(
        f"/demands/{demands['answer'].id}/answer",
        data={"csrf_token": csrf, "answer": "好"},
        follow_redirects=False,
    )
    assert answered.status_code == 303
