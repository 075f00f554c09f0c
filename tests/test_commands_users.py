from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from server.access import Actor, Forbidden
from server.auth import Refused, Sessions, SignedIn, verify_password
from server.commands import users
from server.commands.users import UserError
from server.db import Database
from server.models import AuditLog, Grid, User, UserGrid, UserSession
from server.queries import users as user_queries
from tests.conftest import PASSWORD, SECRET, Factory


@pytest.fixture
def admin(make: Factory) -> Actor:
    return make.actor(make.user("admin", username="root"))


def _count(db: Database, model: Any) -> int:
    with db.read() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def _audit(db: Database, action: str) -> list[AuditLog]:
    with db.read() as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def _grids_of(db: Database, user: User) -> set[str]:
    with db.read() as s:
        return set(
            s.exec(
                select(Grid.code)
                .join(UserGrid, UserGrid.grid_id == Grid.id)
                .where(UserGrid.user_id == user.id)
            )  # type: ignore[arg-type]
        )


def _sign_in(db: Database, username: str, password: str = PASSWORD) -> SignedIn | Refused:
    with db.write() as s:
        return Sessions(SECRET).login(s, username=username, password=password, ip="10.0.0.1")


def test_create_user_by_code_keeps_the_original_signature_and_is_audited(db: Database, make: Factory) -> None:
    community = make.community(code="lean")
    make.grid(community, code="g1")
    make.grid(community, code="g2")
    with db.write() as s:
        user = users.create_user(
            s,
            username="wang",
            display_name="王",
            role="grid_worker",
            password="a-good-password",
            community_code="lean",
            grid_codes=["g1", "g2", "g1"],
        )
    assert _grids_of(db, user) == {"g1", "g2"}
    entry = _audit(db, "user.create")[-1]
    assert entry.actor_id is None and entry.record_id == str(user.id)
    assert entry.detail["grids"] == ["g1", "g2"] and entry.detail["role"] == "grid_worker"
    assert "password" not in str(entry.detail) and "argon2" not in str(entry.detail)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "李"}, "username", "用户名：只能用字母"),
        ({"username": "taken"}, "username", "用户名：taken 已存在"),
        ({"password": "1234567"}, "password", "密码：至少 8 个字符"),
        ({"role": "mayor"}, "role", "角色：没有这个角色"),
        ({"display_name": ""}, "display_name", "姓名：必须填写"),
        ({"display_name": "长" * 41}, "display_name", "姓名：太长了，最多 40 个字"),
        ({"phone": "555"}, "phone", "电话："),
        ({"community_code": None}, "community_id", "必须属于一个社区"),
        ({"community_code": "nowhere"}, "community_id", "社区：没有这个社区。（nowhere）"),
        ({"grid_codes": ["g404"]}, "grid_ids", "网格：没有这些网格：g404"),
        ({"role": "department", "community_code": None}, "department_id", "部门用户必须属于一个部门"),
        ({"role": "admin"}, "community_id", "只有网格员和社区工作人员属于社区"),
        ({"role": "community_staff", "grid_codes": ["g1"]}, "grid_ids", "只有网格员可以分配网格"),
        ({"role": "admin", "community_code": None, "grid_codes": ["g1"]}, "grid_ids", "只有属于社区的网格员"),
        (
            {"role": "admin", "community_code": None, "department_code": "zj"},
            "department_id",
            "只有部门用户属于部门",
        ),
    ],
)
def test_create_user_refuses_bad_input_per_field_and_stores_nothing(
    db: Database, make: Factory, overrides: dict[str, Any], field: str, message: str
) -> None:
    community = make.community(code="lean")
    make.grid(community, code="g1")
    make.department(code="zj")
    make.user("admin", username="taken")
    before = (_count(db, User), _count(db, UserGrid), _count(db, AuditLog))
    args: dict[str, Any] = {
        "username": "newbie",
        "display_name": "新人",
        "role": "grid_worker",
        "password": "a-good-password",
        "community_code": "lean",
    }
    with pytest.raises(UserError) as refused, db.write() as s:
        users.create_user(s, **(args | overrides))
    assert message in refused.value.errors[field]
    assert isinstance(refused.value, ValueError)  # older callers catch ValueError
    assert (_count(db, User), _count(db, UserGrid), _count(db, AuditLog)) == before


def test_create_user_by_id_checks_grids_belong_to_the_chosen_community(
    db: Database, make: Factory, admin: Actor
) -> None:
    home, away = make.community(), make.community()
    mine, theirs = make.grid(home), make.grid(away)
    with pytest.raises(UserError) as refused, db.write() as s:
        users.create_user(
            s,
            actor=admin,
            username="li",
            display_name="李",
            role="grid_worker",
            password="a-good-password",
            community_id=home.id,
            grid_ids=[mine.id, theirs.id],
        )
    assert theirs.code in refused.value.errors["grid_ids"]


def test_only_admins_may_run_user_commands(db: Database, make: Factory) -> None:
    staff = make.actor(make.user("community_staff"))
    worker = make.user("grid_worker")
    with pytest.raises(Forbidden), db.write() as s:
        users.reset_password(s, actor=staff, user_id=worker.id, password="whatever-long")
    with pytest.raises(Forbidden), db.write() as s:
        users.create_user(
            s, actor=staff, username="x1", display_name="x", role="admin", password="a-good-password"
        )


def test_reset_password_replaces_the_hash_and_ends_every_session(
    db: Database, make: Factory, admin: Actor
) -> None:
    worker = make.user("grid_worker", username="w1")
    first, second = _sign_in(db, "w1"), _sign_in(db, "w1")
    assert isinstance(first, SignedIn) and isinstance(second, SignedIn)
    with db.write() as s:
        users.reset_password(s, actor=admin, user_id=worker.id, password="the-new-password")
    with db.read() as s:
        user = s.get(User, worker.id)
        assert user is not None
        assert verify_password(user.password_hash, "the-new-password")
        assert not verify_password(user.password_hash, PASSWORD)
        assert user.sessions_valid_after > worker.sessions_valid_after
        remaining = s.exec(
            select(func.count()).select_from(UserSession).where(UserSession.user_id == worker.id)
        )
        assert remaining.one() == 0
        assert Sessions(SECRET).lookup(s, first.cookie) is None
    assert isinstance(_sign_in(db, "w1", "the-new-password"), SignedIn)
    assert _audit(db, "user.reset_password")[-1].actor_id == admin.id


def test_reset_password_refuses_a_short_one_and_keeps_sessions(
    db: Database, make: Factory, admin: Actor
) -> None:
    worker = make.user("grid_worker", username="w1")
    assert isinstance(_sign_in(db, "w1"), SignedIn)
    with pytest.raises(UserError) as refused, db.write() as s:
        users.reset_password(s, actor=admin, user_id=worker.id, password="short")
    assert refused.value.errors == {"password": "密码：至少 8 个字符。"}
    assert _count(db, UserSession) == 1
    assert _audit(db, "user.reset_password") == []


def test_assign_grids_replaces_the_set_and_audits_the_difference(
    db: Database, make: Factory, admin: Actor
) -> None:
    community = make.community(code="lean")
    g1, g2, g3 = (make.grid(community, code=c) for c in ("g1", "g2", "g3"))
    worker = make.user("grid_worker", grids=[g1, g2])
    with db.write() as s:
        users.assign_grids(s, actor=admin, user_id=worker.id, grid_ids=[g2.id, g3.id])
    assert _grids_of(db, worker) == {"g2", "g3"}
    assert _audit(db, "user.assign_grids")[-1].detail == {"added": ["g3"], "removed": ["g1"]}
    with db.write() as s:
        users.assign_grids(s, actor=None, user_id=worker.id, grid_codes=["g1"])
    assert _grids_of(db, worker) == {"g1"}
    with db.write() as s:
        users.assign_grids(s, actor=admin, user_id=worker.id, grid_ids=[])
    assert _grids_of(db, worker) == set()
    assert len(_audit(db, "user.assign_grids")) == 3


def test_assign_grids_refuses_other_roles_and_foreign_grids(
    db: Database, make: Factory, admin: Actor
) -> None:
    home, away = make.community(), make.community()
    grid, foreign = make.grid(home), make.grid(away)
    worker = make.user("grid_worker", grids=[grid])
    staff = make.user("community_staff", community=home)
    with pytest.raises(UserError) as not_worker, db.write() as s:
        users.assign_grids(s, actor=admin, user_id=staff.id, grid_ids=[grid.id])
    assert "只有网格员" in not_worker.value.errors["grid_ids"]
    with pytest.raises(UserError) as other, db.write() as s:
        users.assign_grids(s, actor=admin, user_id=worker.id, grid_ids=[foreign.id])
    assert "不属于所选社区" in other.value.errors["grid_ids"]
    assert _grids_of(db, worker) == {grid.code}


def test_deactivate_ends_sessions_and_blocks_sign_in_until_reactivated(
    db: Database, make: Factory, admin: Actor
) -> None:
    worker = make.user("grid_worker", username="w1")
    signed = _sign_in(db, "w1")
    assert isinstance(signed, SignedIn)
    with db.write() as s:
        users.set_active(s, actor=admin, user_id=worker.id, active=False)
    with db.read() as s:
        assert Sessions(SECRET).lookup(s, signed.cookie) is None
    assert _sign_in(db, "w1") == Refused("account_disabled")
    assert _sign_in(db, "w1", "wrong password") == Refused("bad_credentials")  # tells nobody else
    with db.write() as s:
        users.set_active(s, actor=admin, user_id=worker.id, active=True)
    assert isinstance(_sign_in(db, "w1"), SignedIn)
    assert [e.action for e in _audit(db, "user.deactivate") + _audit(db, "user.activate")] == [
        "user.deactivate",
        "user.activate",
    ]


def test_the_last_active_admin_stays(db: Database, make: Factory, admin: Actor) -> None:
    with pytest.raises(UserError) as self_off, db.write() as s:
        users.set_active(s, actor=admin, user_id=admin.id, active=False)
    assert "不能停用自己的账号" in self_off.value.message
    with pytest.raises(UserError) as shell_off, db.write() as s:
        users.set_active(s, actor=None, user_id=admin.id, active=False)
    assert "至少要保留一位在用的管理员" in shell_off.value.message
    with pytest.raises(UserError) as demoted, db.write() as s:
        users.update_user(s, actor=None, user_id=admin.id, display_name="x", role="grid_worker")
    assert "至少要保留一位在用的管理员" in demoted.value.errors["role"]
    second = make.user("admin", username="root2")
    with db.write() as s:
        users.set_active(s, actor=admin, user_id=second.id, active=False)
    with db.read() as s:
        assert s.get(User, second.id).active is False  # type: ignore[union-attr]


def test_update_user_changes_role_bound_fields_and_drops_grids_outside_the_community(
    db: Database, make: Factory, admin: Actor
) -> None:
    home, away = make.community(code="home"), make.community(code="away")
    grid = make.grid(home)
    department = make.department()
    worker = make.user("grid_worker", grids=[grid])
    with db.write() as s:
        users.update_user(
            s,
            actor=admin,
            user_id=worker.id,
            display_name="王五",
            role="grid_worker",
            phone="13800138000",
            community_id=away.id,
        )
    assert _grids_of(db, worker) == set()
    with db.read() as s:
        user = s.get(User, worker.id)
        assert user is not None and (user.display_name, user.phone, user.community_id) == (
            "王五",
            "13800138000",
            away.id,
        )
    entry = _audit(db, "user.update")[-1]
    assert entry.detail["changes"]["grids"] == {"added": [], "removed": [grid.code]}
    assert entry.detail["changes"]["community_id"] == [str(home.id), str(away.id)]
    with db.write() as s:
        users.update_user(
            s,
            actor=admin,
            user_id=worker.id,
            display_name="王五",
            role="department",
            department_id=department.id,
        )
    with db.read() as s:
        user = s.get(User, worker.id)
        assert user is not None and (user.role, user.community_id, user.department_id) == (
            "department",
            None,
            department.id,
        )


def test_list_users_filters_by_role_community_and_text(db: Database, make: Factory) -> None:
    home = make.community(code="home")
    away = make.community(code="away")
    make.user("grid_worker", grids=[make.grid(home)], username="zhang")
    make.user("community_staff", community=away, username="li")
    make.user("admin", username="root")
    with db.read() as s:
        assert {r.user.username for r in user_queries.list_users(s)} == {"zhang", "li", "root"}
        assert [r.user.username for r in user_queries.list_users(s, role="grid_worker")] == ["zhang"]
        assert [r.user.username for r in user_queries.list_users(s, community_id=away.id)] == ["li"]
        assert [r.user.username for r in user_queries.list_users(s, query="ROO")] == ["root"]
        assert user_queries.list_users(s, community_id="not-a-uuid") == []
        row = user_queries.list_users(s, role="grid_worker")[0]
    assert row.role_name == "网格员" and row.community is not None and row.community.code == "home"
    assert [g.community_id for g in row.grids] == [home.id]


def test_user_by_username_says_which_name_is_unknown(db: Database) -> None:
    with pytest.raises(UserError) as refused, db.read() as s:
        users.user_by_username(s, "ghost")
    assert refused.value.errors == {"username": "没有用户名为 ghost 的用户。"}
