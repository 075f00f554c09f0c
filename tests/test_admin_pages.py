from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.db import Database
from server.models import (
    AuditLog,
    Community,
    Department,
    Grid,
    Household,
    Preference,
    Tag,
    Tombstone,
    User,
    UserGrid,
    UserSession,
    VersionCounter,
    VisitRule,
)
from server.routes import admin as admin_routes
from tests.conftest import PASSWORD, Factory, login

# Every admin route, with which record its {id} stands for.
ROUTES: list[tuple[str, str, str]] = [
    ("GET", "/admin", ""),
    ("GET", "/admin/users", ""),
    ("GET", "/admin/users/new", ""),
    ("POST", "/admin/users/new", ""),
    ("GET", "/admin/users/{id:uuid}", "worker"),
    ("POST", "/admin/users/{id:uuid}", "worker"),
    ("POST", "/admin/users/{id:uuid}/password", "worker"),
    ("POST", "/admin/users/{id:uuid}/grids", "worker"),
    ("POST", "/admin/users/{id:uuid}/deactivate", "worker"),
    ("POST", "/admin/users/{id:uuid}/activate", "worker"),
    ("GET", "/admin/communities", ""),
    ("POST", "/admin/communities", ""),
    ("GET", "/admin/communities/{id:uuid}", "community"),
    ("POST", "/admin/communities/{id:uuid}", "community"),
    ("POST", "/admin/communities/{id:uuid}/grids", "community"),
    ("GET", "/admin/grids/{id:uuid}", "grid"),
    ("POST", "/admin/grids/{id:uuid}", "grid"),
    ("POST", "/admin/grids/{id:uuid}/move", "grid"),
    ("GET", "/admin/departments", ""),
    ("POST", "/admin/departments", ""),
    ("GET", "/admin/departments/{id:uuid}", "department"),
    ("POST", "/admin/departments/{id:uuid}", "department"),
    ("GET", "/admin/tags", ""),
    ("POST", "/admin/tags", ""),
    ("GET", "/admin/tags/{id:uuid}", "tag"),
    ("POST", "/admin/tags/{id:uuid}", "tag"),
    ("POST", "/admin/tags/{id:uuid}/deactivate", "tag"),
    ("POST", "/admin/tags/{id:uuid}/activate", "tag"),
    ("POST", "/admin/tags/{id:uuid}/delete", "tag"),
    ("GET", "/admin/visit-rules", ""),
    ("POST", "/admin/visit-rules", ""),
    ("GET", "/admin/visit-rules/{id:uuid}", "rule"),
    ("POST", "/admin/visit-rules/{id:uuid}", "rule"),
    ("POST", "/admin/visit-rules/{id:uuid}/deactivate", "rule"),
    ("POST", "/admin/visit-rules/{id:uuid}/activate", "rule"),
    ("POST", "/admin/visit-rules/{id:uuid}/delete", "rule"),
    ("GET", "/admin/settings", ""),
    ("POST", "/admin/settings/{key}", ""),
    ("POST", "/admin/settings/{key}/reset", ""),
]
GET_PAGES = [r for r in ROUTES if r[0] == "GET"]


@dataclass
class World:
    admin: User
    worker: User
    community: Community
    other: Community
    grid: Grid
    department: Department
    tag: Tag
    rule: VisitRule

    def url(self, path: str, kind: str) -> str:
        path = path.replace("{key}", "travel_card.age_threshold")
        return path.replace("{id:uuid}", str(getattr(self, kind).id)) if kind else path

    def form(self) -> dict[str, Any]:
        """A form that would change something on every POST route, were it accepted."""
        return {
            "username": "intruder",
            "display_name": "闯入者",
            "role": "admin",
            "password": "long-enough-password",
            "community_id": str(self.other.id),
            "grid_ids": [str(self.grid.id)],
            "name": "改过的名字",
            "code": "newcode",
            "lat": "27.5",
            "lng": "115.9",
            "sensitive": "1",
            "travel_card.age_threshold": "70",
            "subject": "tag",
            "tag_code": "alone",
            "interval_days": "3",
            "priority": "high",
        }


@pytest.fixture
def world(make: Factory) -> World:
    community = make.community(code="lean", name="乐安社区")
    grid = make.grid(community, code="g1", name="第一网格")
    return World(
        admin=make.user("admin", username="root"),
        worker=make.user("grid_worker", grids=[grid], username="worker1"),
        community=community,
        other=make.community(code="other", name="另一社区"),
        grid=grid,
        department=make.department(code="zj", name="住建局"),
        tag=make.tag("alone", name="独居老人"),
        rule=make.visit_rule(community, tag_code="alone", name="独居老人每周"),
    )


@pytest.fixture
def as_admin(app: Starlette, world: World) -> Iterator[tuple[TestClient, str]]:
    """A client signed in as the admin, and its CSRF token."""
    client, token = signed_in(app, world.admin)
    yield client, token
    client.close()


def signed_in(app: Starlette, user: User, password: str = PASSWORD) -> tuple[TestClient, str]:
    client = TestClient(app)
    return client, str(login(client, user, password)["csrf_token"])


def snapshot(db: Database) -> dict[str, Any]:
    """What any admin change would alter: versions, the audit log, accounts, sessions, settings."""
    with db.read() as s:
        return {
            "version": s.get(VersionCounter, 1).value,  # type: ignore[union-attr]
            "audit": s.exec(select(func.count()).select_from(AuditLog)).one(),
            "users": sorted((u.username, u.role, u.active, u.password_hash) for u in s.exec(select(User))),
            "user_grids": s.exec(select(func.count()).select_from(UserGrid)).one(),
            "sessions": s.exec(select(func.count()).select_from(UserSession)).one(),
            "preferences": s.exec(select(func.count()).select_from(Preference)).one(),
        }


def audit_actions(db: Database) -> list[str]:
    with db.read() as s:
        return list(s.exec(select(AuditLog.action).order_by(AuditLog.id)))


def test_the_route_table_covers_every_admin_route() -> None:
    declared = {(m, r.path) for r in admin_routes.routes for m in (r.methods or ()) if m != "HEAD"}  # type: ignore[attr-defined]
    assert declared == {(m, p) for m, p, _ in ROUTES}


@pytest.mark.parametrize("role", ["grid_worker", "community_staff", "department"])
def test_other_roles_get_403_on_every_admin_route_and_change_nothing(
    app: Starlette, db: Database, make: Factory, world: World, role: str
) -> None:
    user = make.user(role, grids=[world.grid] if role == "grid_worker" else None)
    client, token = signed_in(app, user)
    before = snapshot(db)
    for method, path, kind in ROUTES:
        url = world.url(path, kind)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={**world.form(), "csrf_token": token})
        assert response.status_code == 403, (method, url, response.status_code)
        assert "不能这样操作" in response.text
    after = snapshot(db)
    before["sessions"] = after["sessions"]  # signing in made one; nothing else may differ
    assert after == before
    client.close()


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, world: World) -> None:
    for _method, path, kind in GET_PAGES:
        response = client.get(world.url(path, kind), follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/admin")


def test_every_admin_post_without_a_csrf_token_is_refused_and_changes_nothing(
    as_admin: tuple[TestClient, str], db: Database, world: World
) -> None:
    client, _token = as_admin
    before = snapshot(db)
    for method, path, kind in ROUTES:
        if method != "POST":
            continue
        url = world.url(path, kind)
        response = client.post(url, data=world.form())
        assert response.status_code == 403, url
        assert "页面已过期" in response.text
        wrong = client.post(url, data={**world.form(), "csrf_token": "forged"})
        assert wrong.status_code == 403, url
    assert snapshot(db) == before


def test_every_admin_page_renders_without_inline_script_or_style(
    as_admin: tuple[TestClient, str], world: World
) -> None:
    client, _token = as_admin
    for _method, path, kind in GET_PAGES:
        response = client.get(world.url(path, kind))
        assert response.status_code == 200, path
        html = response.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert " style=" not in html and "hx-on" not in html, path
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S):
            assert 'name="csrf_token"' in form, (path, form[:120])
            assert re.search(r'action="/[^"]*"', form), (path, form[:120])


def test_admin_creates_a_worker_with_several_grids(
    app: Starlette, as_admin: tuple[TestClient, str], db: Database, world: World, make: Factory
) -> None:
    second = make.grid(world.community, code="g2", name="第二网格")
    client, token = as_admin
    form = {
        "csrf_token": token,
        "username": "wang",
        "display_name": "王网格",
        "role": "grid_worker",
        "password": "a-good-password",
        "phone": "138 0013 8000",
        "community_id": str(world.community.id),
        "department_id": "",
        "grid_ids": [str(world.grid.id), str(second.id)],
    }
    response = client.post("/admin/users/new", data=form, follow_redirects=False)
    assert response.status_code == 303
    with db.read() as s:
        user = s.exec(select(User).where(User.username == "wang")).one()
        grids = set(s.exec(select(UserGrid.grid_id).where(UserGrid.user_id == user.id)))
        entry = s.exec(
            select(AuditLog).where(AuditLog.action == "user.create", AuditLog.record_id == str(user.id))
        ).one()
    assert response.headers["location"] == f"/admin/users/{user.id}?done=created"
    assert (user.role, user.display_name, user.phone, user.community_id) == (
        "grid_worker",
        "王网格",
        "13800138000",
        world.community.id,
    )
    assert grids == {world.grid.id, second.id}
    assert entry.actor_id == world.admin.id and entry.record_id == str(user.id)
    assert sorted(entry.detail["grids"]) == ["g1", "g2"]
    page = client.get(response.headers["location"])
    assert "已创建" in page.text and "王网格" in page.text
    new_client, _ = signed_in(app, user, "a-good-password")
    new_client.close()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"username": "a"}, "username", "用户名：只能用字母"),
        ({"username": "worker1"}, "username", "用户名：worker1 已存在"),
        ({"password": "short"}, "password", "密码：至少 8 个字符"),
        ({"display_name": " "}, "display_name", "姓名：必须填写"),
        ({"role": "boss"}, "role", "角色：没有这个角色"),
        ({"phone": "12345"}, "phone", "电话：手机号为 1 开头"),
        ({"community_id": ""}, "community_id", "网格员和社区工作人员必须属于一个社区"),
        ({"role": "department"}, "department_id", "部门用户必须属于一个部门"),
        ({"role": "community_staff", "grid_ids": "{grid}"}, "grid_ids", "只有网格员可以分配网格"),
        ({"community_id": "{other}", "grid_ids": "{grid}"}, "grid_ids", "不属于所选社区"),
        ({"community_id": "not-a-uuid"}, "community_id", "社区：没有这个社区"),
    ],
)
def test_bad_user_input_rerenders_the_form_with_a_chinese_message_and_stores_nothing(
    as_admin: tuple[TestClient, str],
    db: Database,
    world: World,
    change: dict[str, str],
    field: str,
    message: str,
) -> None:
    client, token = as_admin
    form = {
        "csrf_token": token,
        "username": "newbie",
        "display_name": "新人",
        "role": "grid_worker",
        "password": "a-good-password",
        "community_id": str(world.community.id),
    }
    for key, value in change.items():
        form[key] = value.format(grid=world.grid.id, other=world.other.id)
    before = snapshot(db)
    response = client.post("/admin/users/new", data=form)
    assert response.status_code == 400
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert "没有保存" in response.text
    if "display_name" not in change:
        assert 'value="新人"' in response.text  # what was typed stays
    assert 'value="a-good-password"' not in response.text  # passwords are never echoed
    assert snapshot(db) == before


def test_reset_password_ends_the_users_sessions(
    app: Starlette, as_admin: tuple[TestClient, str], db: Database, world: World
) -> None:
    worker_client, _ = signed_in(app, world.worker)
    assert (
        worker_client.get("/", follow_redirects=False).headers["location"] == "/app/"
    )  # a grid worker starts in the field app
    client, token = as_admin
    response = client.post(
        f"/admin/users/{world.worker.id}/password",
        data={"csrf_token": token, "password": "brand-new-pass"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/users/{world.worker.id}?done=password"
    # The old cookie no longer works, on pages and on sync alike.
    assert worker_client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    assert (
        worker_client.post("/sync/pull", json={"protocol": 1, "client_id": None, "cursor": None}).status_code
        == 401
    )
    with db.read() as s:
        assert (
            s.exec(
                select(func.count()).select_from(UserSession).where(UserSession.user_id == world.worker.id)
            ).one()
            == 0
        )
    assert (
        worker_client.post("/sync/login", json={"username": "worker1", "password": PASSWORD}).status_code
        == 401
    )
    assert (
        worker_client.post(
            "/sync/login", json={"username": "worker1", "password": "brand-new-pass"}
        ).status_code
        == 200
    )
    assert "user.reset_password" in audit_actions(db)
    short = client.post(
        f"/admin/users/{world.worker.id}/password", data={"csrf_token": token, "password": "short"}
    )
    assert short.status_code == 400 and "密码：至少 8 个字符" in short.text
    worker_client.close()


def test_deactivated_users_cannot_sign_in_and_are_signed_out(
    app: Starlette, as_admin: tuple[TestClient, str], db: Database, world: World
) -> None:
    worker_client, _ = signed_in(app, world.worker)
    client, token = as_admin
    response = client.post(
        f"/admin/users/{world.worker.id}/deactivate", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert worker_client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    sync = {"protocol": 1, "client_id": str(uuid.uuid4())}
    for path, extra in (("/sync/push", {"mutations": []}), ("/sync/pull", {"cursor": None})):
        ended = worker_client.post(path, json={**sync, **extra})
        assert (ended.status_code, ended.json()["error"]) == (401, "login_required")  # its session ended
    refused = worker_client.post("/sync/login", json={"username": "worker1", "password": PASSWORD})
    assert (refused.status_code, refused.json()["error"]) == (403, "account_disabled")  # the phone wipes it
    assert "账号已停用" in refused.json()["message"]
    guessed = worker_client.post("/sync/login", json={"username": "worker1", "password": "not it"})
    assert (guessed.status_code, guessed.json()["error"]) == (
        401,
        "bad_credentials",
    )  # told only with the password
    form = re.search(r'name="csrf_token" value="([^"]+)"', worker_client.get("/login").text)
    assert form is not None
    page = worker_client.post(
        "/login", data={"username": "worker1", "password": PASSWORD, "csrf_token": form[1]}
    )
    assert page.status_code == 403 and "账号已停用" in page.text
    listing = client.get("/admin/users")
    assert "已停用" in listing.text
    client.post(f"/admin/users/{world.worker.id}/activate", data={"csrf_token": token})
    assert (
        worker_client.post("/sync/login", json={"username": "worker1", "password": PASSWORD}).status_code
        == 200
    )
    assert audit_actions(db)[-2:] == ["user.deactivate", "user.activate"]
    worker_client.close()


def test_an_admin_cannot_deactivate_their_own_account(
    as_admin: tuple[TestClient, str], db: Database, world: World
) -> None:
    client, token = as_admin
    before = snapshot(db)
    response = client.post(f"/admin/users/{world.admin.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 400
    assert "不能停用自己的账号" in response.text
    assert snapshot(db) == before


def test_admin_assigns_grids_and_edits_a_user(
    as_admin: tuple[TestClient, str], db: Database, world: World, make: Factory
) -> None:
    second = make.grid(world.community, code="g2", name="第二网格")
    foreign = make.grid(world.other, code="x1", name="外社区网格")
    client, token = as_admin
    url = f"/admin/users/{world.worker.id}"
    response = client.post(
        f"{url}/grids", data={"csrf_token": token, "grid_ids": [str(second.id)]}, follow_redirects=False
    )
    assert response.headers["location"] == f"{url}?done=grids"
    with db.read() as s:
        assert set(s.exec(select(UserGrid.grid_id).where(UserGrid.user_id == world.worker.id))) == {second.id}
        entry = s.exec(select(AuditLog).where(AuditLog.action == "user.assign_grids")).one()
    assert entry.detail == {"added": ["g2"], "removed": ["g1"]}
    refused = client.post(f"{url}/grids", data={"csrf_token": token, "grid_ids": [str(foreign.id)]})
    assert refused.status_code == 400 and "不属于所选社区" in refused.text
    profile = {
        "csrf_token": token,
        "display_name": "王五",
        "phone": "0794-1234567",
        "role": "grid_worker",
        "community_id": str(world.community.id),
    }
    assert client.post(url, data=profile, follow_redirects=False).status_code == 303
    with db.read() as s:
        user = s.get(User, world.worker.id)
        assert user is not None and (user.display_name, user.phone) == ("王五", "0794-1234567")
    bad = client.post(url, data={**profile, "display_name": "", "phone": "x"})
    assert bad.status_code == 400
    assert "姓名：必须填写" in bad.text and "电话：" in bad.text


def test_user_list_filters_by_role_and_community_and_answers_htmx_with_the_results_only(
    as_admin: tuple[TestClient, str], world: World, make: Factory
) -> None:
    make.user("community_staff", community=world.other, username="staff9")
    client, _ = as_admin
    everyone = client.get("/admin/users").text
    assert all(name in everyone for name in ("root", "worker1", "staff9"))
    workers = client.get("/admin/users", params={"role": "grid_worker"}).text
    assert "worker1" in workers and "staff9" not in workers and "root" not in workers
    other = client.get("/admin/users", params={"community_id": str(world.other.id)}).text
    assert "staff9" in other and "worker1" not in other
    fragment = client.get("/admin/users", params={"q": "staff"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="results"' in fragment.text
    assert "staff9" in fragment.text and "worker1" not in fragment.text
    assert "HX-Request" in fragment.headers["vary"]


def test_communities_and_grids_are_created_renamed_and_moved(
    as_admin: tuple[TestClient, str], db: Database, world: World, make: Factory
) -> None:
    client, token = as_admin
    created = client.post(
        "/admin/communities",
        data={"csrf_token": token, "name": "新社区", "code": "new"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    with db.read() as s:
        community = s.exec(select(Community).where(Community.code == "new")).one()
    assert created.headers["location"] == f"/admin/communities/{community.id}?done=created"
    duplicate = client.post("/admin/communities", data={"csrf_token": token, "name": "又一个", "code": "new"})
    assert duplicate.status_code == 400 and "编码：new 已被使用" in duplicate.text

    grid_url = f"/admin/communities/{community.id}/grids"
    bad = client.post(
        grid_url, data={"csrf_token": token, "name": "一格", "code": "a1", "lat": "91", "lng": "115"}
    )
    assert bad.status_code == 400 and "纬度：必须在 -90 到 90 之间" in bad.text
    assert 'value="一格"' in bad.text
    ok = client.post(
        grid_url,
        data={"csrf_token": token, "name": "一格", "code": "a1", "lat": "27.4", "lng": "115.8"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    with db.read() as s:
        grid = s.exec(select(Grid).where(Grid.code == "a1")).one()
    assert (grid.community_id, grid.lat, grid.lng) == (community.id, 27.4, 115.8)
    assert grid.version > 0
    renamed = client.post(
        f"/admin/grids/{grid.id}",
        data={"csrf_token": token, "name": "一号网格", "lat": "", "lng": ""},
        follow_redirects=False,
    )
    assert renamed.status_code == 303
    with db.read() as s:
        again = s.get(Grid, grid.id)
        assert again is not None and (again.name, again.lat, again.lng) == ("一号网格", None, None)
        assert again.version > grid.version

    # A grid held by a worker of its community cannot leave it; once unassigned it moves with its households.
    household = make.household(world.grid)
    held = client.post(
        f"/admin/grids/{world.grid.id}/move", data={"csrf_token": token, "community_id": str(community.id)}
    )
    assert held.status_code == 400 and "worker1" in held.text
    client.post(f"/admin/users/{world.worker.id}/grids", data={"csrf_token": token})
    moved = client.post(
        f"/admin/grids/{world.grid.id}/move",
        data={"csrf_token": token, "community_id": str(community.id)},
        follow_redirects=False,
    )
    assert moved.headers["location"] == f"/admin/grids/{world.grid.id}?done=moved"
    with db.read() as s:
        row = s.get(Household, household.id)
        assert row is not None and row.community_id == community.id
        tomb = s.exec(select(Tombstone).where(Tombstone.record_id == household.id)).one()
        assert tomb.community_id == world.community.id
    assert audit_actions(db).count("grid.move") == 1


def test_departments_are_created_and_renamed(
    as_admin: tuple[TestClient, str], db: Database, world: World
) -> None:
    client, token = as_admin
    assert (
        client.post(
            "/admin/departments", data={"csrf_token": token, "name": "民政局", "code": "mz"}
        ).status_code
        == 200
    )
    missing = client.post("/admin/departments", data={"csrf_token": token, "name": "", "code": "bad code"})
    assert missing.status_code == 400
    assert "部门名称：必须填写" in missing.text and "编码：只能用字母" in missing.text
    renamed = client.post(
        f"/admin/departments/{world.department.id}",
        data={"csrf_token": token, "name": "住房和城乡建设局"},
        follow_redirects=False,
    )
    assert renamed.headers["location"] == "/admin/departments?done=saved"
    with db.read() as s:
        assert {d.name for d in s.exec(select(Department))} == {"民政局", "住房和城乡建设局"}
    assert audit_actions(db)[-2:] == ["department.create", "department.update"]


def test_tags_are_marked_sensitive_deactivated_and_only_deleted_when_unused(
    as_admin: tuple[TestClient, str], db: Database, world: World, make: Factory
) -> None:
    client, token = as_admin
    created = client.post(
        "/admin/tags",
        data={
            "csrf_token": token,
            "code": "dibao",
            "name": "低保户",
            "category": "困难群体",
            "sensitive": "1",
        },
    )
    assert created.status_code == 200 and "已创建" in created.text
    with db.read() as s:
        dibao = s.exec(select(Tag).where(Tag.code == "dibao")).one()
    assert dibao.sensitive and dibao.category == "困难群体"

    make.resident(tags=["alone"])
    url = f"/admin/tags/{world.tag.id}"
    client.post(url, data={"csrf_token": token, "name": "独居老人", "sensitive": "1", "sort": "3"})
    in_use = client.post(f"{url}/delete", data={"csrf_token": token})
    assert in_use.status_code == 409 and "只能停用" in in_use.text
    client.post(f"{url}/deactivate", data={"csrf_token": token})
    with db.read() as s:
        tag = s.get(Tag, world.tag.id)
        assert tag is not None and (tag.sensitive, tag.sort, tag.active, tag.deleted_at) == (
            True,
            3,
            False,
            None,
        )
    gone = client.post(f"/admin/tags/{dibao.id}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert gone.headers["location"] == "/admin/tags?done=deleted"
    with db.read() as s:
        deleted = s.get(Tag, dibao.id)
        assert deleted is not None and deleted.deleted_at is not None and deleted.version > dibao.version
    assert client.get(f"/admin/tags/{dibao.id}").status_code == 404
    assert audit_actions(db)[-4:] == ["tag.create", "tag.update", "tag.deactivate", "tag.delete"]


def test_settings_are_saved_refused_with_a_message_and_reset(
    as_admin: tuple[TestClient, str], db: Database, world: World
) -> None:
    client, token = as_admin
    page = client.get("/admin/settings").text
    for label in ("免费乘车年龄", "优惠乘车年龄", "年审周期", "诉求办理时限", "诉求领域", "免打扰时段"):
        assert label in page
    saved = client.post(
        "/admin/settings/travel_card.age_threshold",
        data={"csrf_token": token, "travel_card.age_threshold": "60"},
        follow_redirects=False,
    )
    assert saved.headers["location"] == "/admin/settings?done=saved"
    refused = client.post(
        "/admin/settings/travel_card.discount_age",
        data={"csrf_token": token, "travel_card.discount_age": "60"},
    )
    assert refused.status_code == 400
    assert "优惠年龄必须小于免费乘车年龄（60 周岁）" in refused.text
    deadlines = {
        f"demand.time_limits.{h}.{p}": "1"
        for h in ("reply", "self", "transfer")
        for p in ("normal", "urgent")
    }
    deadlines["demand.time_limits.self.urgent"] = "abc"
    bad = client.post("/admin/settings/demand.time_limits", data={"csrf_token": token, **deadlines})
    assert bad.status_code == 400 and "受理自办类（紧急）：填工作日数" in bad.text
    assert 'value="abc"' in bad.text
    fields = "property 物业\nelderly_care 居家养老\ninfrastructure 设施\nenvironment 环境\n"
    dropped = client.post(
        "/admin/settings/demand.fields", data={"csrf_token": token, "demand.fields": fields}
    )
    assert dropped.status_code == 400 and "同步协议规定的领域不能删除：dispute" in dropped.text
    with db.read() as s:
        rows = {p.key: p.value for p in s.exec(select(Preference))}
    assert rows == {"travel_card.age_threshold": 60}
    reset = client.post(
        "/admin/settings/travel_card.age_threshold/reset", data={"csrf_token": token}, follow_redirects=False
    )
    assert reset.headers["location"] == "/admin/settings?done=reset"
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(Preference)).one() == 0
    assert audit_actions(db)[-2:] == ["preference.set", "preference.reset"]
    assert client.post("/admin/settings/no.such.key", data={"csrf_token": token}).status_code == 404
