from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from server.access import Actor, Forbidden, NotFound
from server.commands import org
from server.db import Database
from server.errors import InvalidInput
from server.models import (
    AuditLog,
    Community,
    Department,
    Grid,
    Household,
    Resident,
    Tag,
    Tombstone,
    VersionCounter,
    Visit,
)
from server.queries import org as org_queries
from tests.conftest import Factory


@pytest.fixture
def admin(make: Factory) -> Actor:
    return make.actor(make.user("admin", username="root"))


def _version(db: Database) -> int:
    with db.read() as s:
        return s.get(VersionCounter, 1).value  # type: ignore[union-attr]


def _actions(db: Database) -> list[str]:
    with db.read() as s:
        return list(
            s.exec(select(AuditLog.action).where(AuditLog.actor_id.is_not(None)).order_by(AuditLog.id))
        )  # type: ignore[union-attr]


def _refused(db: Database, fn: Any, **kwargs: Any) -> dict[str, str]:
    """Run a command that must be refused; check it wrote nothing; return its field errors."""
    before = _version(db), len(_actions(db))
    with pytest.raises(InvalidInput) as refused, db.write() as s:
        fn(s, **kwargs)
    assert (_version(db), len(_actions(db))) == before
    return refused.value.errors


def test_created_reference_data_gets_versions_and_audit_rows(db: Database, admin: Actor) -> None:
    with db.write() as s:
        community = org.create_community(s, actor=admin, name=" 乐安社区 ", code="lean", address="鳌溪镇")
        grid = org.create_grid(
            s, actor=admin, community_id=community.id, name="一网格", code="g1", lat="27.42", lng=115.83
        )
        department = org.create_department(s, actor=admin, name="住建局", code="zj")
        tag = org.create_tag(s, actor=admin, code="alone", name="独居老人", sensitive=True, sort="2")
    assert community.name == "乐安社区"
    assert (grid.lat, grid.lng) == (27.42, 115.83)
    assert (tag.sensitive, tag.sort) == (True, 2)
    versions = [community.version, grid.version, department.version, tag.version]
    assert all(v > 0 for v in versions) and len(set(versions)) == 4
    assert _actions(db) == ["community.create", "grid.create", "department.create", "tag.create"]
    with db.read() as s:
        entry = s.exec(select(AuditLog).where(AuditLog.action == "grid.create")).one()
    assert entry.record_type == "grid" and entry.record_id == str(grid.id) and entry.detail["code"] == "g1"


def test_codes_are_unique_where_they_must_be(db: Database, make: Factory, admin: Actor) -> None:
    lean = make.community(code="lean")
    other = make.community(code="other")
    make.grid(lean, code="g1")
    make.department(code="zj")
    make.tag("alone")
    assert "已被使用" in _refused(db, org.create_community, actor=admin, name="又一个", code="lean")["code"]
    assert (
        "本社区已有"
        in _refused(db, org.create_grid, actor=admin, community_id=lean.id, name="x", code="g1")["code"]
    )
    assert "已被使用" in _refused(db, org.create_department, actor=admin, name="x", code="zj")["code"]
    assert "已被使用" in _refused(db, org.create_tag, actor=admin, code="alone", name="x")["code"]
    with db.write() as s:  # the same grid code in another community is fine
        org.create_grid(s, actor=admin, community_id=other.id, name="一网格", code="g1")


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"name": "", "code": "g9"}, {"name": "网格名称：必须填写。"}),
        ({"code": "g 9"}, {"code": "编码：只能用字母、数字和 _ . -，最多 40 个字符。"}),
        ({"code": ""}, {"code": "编码：必须填写。"}),
        ({"lat": "北纬"}, {"lat": "纬度：必须是数字。"}),
        ({"lat": "27", "lng": "200"}, {"lng": "经度：必须在 -180 到 180 之间。"}),
        ({"lat": "nan", "lng": "1"}, {"lat": "纬度：必须在 -90 到 90 之间。"}),
        ({"lat": "27"}, {"lat": "中心点：纬度和经度要么都填，要么都不填。"}),
        ({"name": "格" * 61}, {"name": "网格名称：太长了，最多 60 个字。"}),
    ],
)
def test_grid_fields_are_checked_with_chinese_messages(
    db: Database, make: Factory, admin: Actor, fields: dict[str, Any], errors: dict[str, str]
) -> None:
    community = make.community()
    args = {"actor": admin, "community_id": community.id, "name": "九网格", "code": "g9"} | fields
    assert _refused(db, org.create_grid, **args) == errors


def test_renames_bump_versions_and_record_what_changed(db: Database, make: Factory, admin: Actor) -> None:
    community = make.community(name="旧社区")
    grid = make.grid(community, name="旧网格")
    department = make.department(name="旧部门")
    with db.write() as s:
        org.update_community(s, actor=admin, community_id=community.id, name="新社区", address="新地址")
        org.update_grid(s, actor=admin, grid_id=grid.id, name="新网格", lat="27.1", lng="115.2")
        org.update_department(s, actor=admin, department_id=department.id, name="新部门")
    with db.read() as s:
        rows = [s.get(Community, community.id), s.get(Grid, grid.id), s.get(Department, department.id)]
        changes = {
            e.action: e.detail["changes"]
            for e in s.exec(select(AuditLog).where(AuditLog.actor_id == admin.id))
        }
    assert [r.name for r in rows] == ["新社区", "新网格", "新部门"]  # type: ignore[union-attr]
    assert all(r.version > old.version for r, old in zip(rows, (community, grid, department), strict=True))  # type: ignore[union-attr]
    assert changes["grid.update"] == {"name": ["旧网格", "新网格"], "lat": [None, 27.1], "lng": [None, 115.2]}
    assert changes["community.update"]["name"] == ["旧社区", "新社区"]
    before = _version(db)
    with db.write() as s:  # the same values again change nothing and log nothing
        org.update_department(s, actor=admin, department_id=department.id, name="新部门")
    assert _version(db) == before and _actions(db).count("department.update") == 1


def test_changing_a_missing_or_deleted_row_is_not_found(db: Database, make: Factory, admin: Actor) -> None:
    tag = make.tag()
    with db.write() as s:
        org.delete_tag(s, actor=admin, tag_id=tag.id)
    for call in (
        lambda s: org.update_tag(s, actor=admin, tag_id=tag.id, name="x"),
        lambda s: org.update_grid(s, actor=admin, grid_id="not-a-uuid", name="x"),
        lambda s: org.update_department(s, actor=admin, department_id=tag.id, name="x"),
    ):
        with pytest.raises(NotFound), db.write() as s:
            call(s)


def test_only_admins_may_change_the_organisation(db: Database, make: Factory) -> None:
    staff = make.actor(make.user("community_staff"))
    with pytest.raises(Forbidden), db.write() as s:
        org.create_department(s, actor=staff, name="x", code="x")
    with pytest.raises(Forbidden), db.write() as s:
        org.create_tag(s, actor=staff, code="x", name="x")


def test_moving_a_grid_moves_what_was_recorded_in_it_and_tombstones_the_old_community(
    db: Database, make: Factory, admin: Actor
) -> None:
    old, new = make.community(code="old"), make.community(code="new")
    grid = make.grid(old, code="g1")
    resident = make.resident(make.household(grid))
    staying = make.household(make.grid(old, code="g2"))
    with db.write() as s:
        visit = Visit(household_id=resident.household_id, community_id=old.id, grid_id=grid.id)
        s.add(visit)
    with db.write() as s:
        org.move_grid(s, actor=admin, grid_id=grid.id, community_id=new.id)
    with db.read() as s:
        assert s.get(Grid, grid.id).community_id == new.id  # type: ignore[union-attr]
        assert s.get(Household, resident.household_id).community_id == new.id  # type: ignore[union-attr]
        assert s.get(Resident, resident.id).community_id == new.id  # type: ignore[union-attr]
        assert s.get(Visit, visit.id).community_id == new.id  # type: ignore[union-attr]
        assert s.get(Household, staying.id).community_id == old.id  # type: ignore[union-attr]
        tombs = {t.record_id: t for t in s.exec(select(Tombstone))}
        entry = s.exec(select(AuditLog).where(AuditLog.action == "grid.move")).one()
    assert {resident.household_id, resident.id, visit.id} <= set(tombs)
    assert all(t.community_id == old.id and t.grid_id == grid.id for t in tombs.values())
    assert entry.detail == {"from_community": str(old.id), "to_community": str(new.id), "rows": 3}


def test_moving_a_grid_is_refused_while_held_or_when_its_code_is_taken(
    db: Database, make: Factory, admin: Actor
) -> None:
    old, new = make.community(), make.community()
    grid = make.grid(old, code="g1")
    worker = make.user("grid_worker", grids=[grid], username="wang")
    held = _refused(db, org.move_grid, actor=admin, grid_id=grid.id, community_id=new.id)
    assert held == {"community_id": "请先取消这些网格员对本网格的分配：wang"}
    with db.write() as s:
        from server.commands.users import assign_grids

        assign_grids(s, actor=admin, user_id=worker.id, grid_ids=[])
    make.grid(new, code="g1")
    clash = _refused(db, org.move_grid, actor=admin, grid_id=grid.id, community_id=new.id)
    assert clash == {"community_id": "目标社区已有编码为 g1 的网格。"}
    assert _refused(db, org.move_grid, actor=admin, grid_id=grid.id, community_id="nope") == {
        "community_id": "没有这个社区。"
    }


def test_tags_in_use_are_deactivated_never_deleted(db: Database, make: Factory, admin: Actor) -> None:
    tag = make.tag("alone")
    make.resident(tags=["alone"])
    with pytest.raises(org.TagInUse) as in_use, db.write() as s:
        org.delete_tag(s, actor=admin, tag_id=tag.id)
    assert "有 1 位居民带有这个标签" in in_use.value.message
    with db.read() as s:
        assert s.get(Tag, tag.id).deleted_at is None  # type: ignore[union-attr]
    with db.write() as s:
        org.set_tag_active(s, actor=admin, tag_id=tag.id, active=False)
        org.update_tag(
            s, actor=admin, tag_id=tag.id, name="独居老人", category="重点人群", sensitive=True, sort=1
        )
    with db.read() as s:
        row = s.get(Tag, tag.id)
        usage = org.tag_usage(s, tag.id)
    assert row is not None and (row.active, row.sensitive, row.category, row.deleted_at) == (
        False,
        True,
        "重点人群",
        None,
    )
    assert usage == 1
    assert _actions(db) == ["tag.deactivate", "tag.update"]


def test_an_unused_tag_is_deleted_softly_and_its_code_can_return(
    db: Database, make: Factory, admin: Actor
) -> None:
    tag = make.tag("typo", name="错字")
    with db.write() as s:
        org.delete_tag(s, actor=admin, tag_id=tag.id)
    with db.read() as s:
        gone = s.get(Tag, tag.id)
        assert gone is not None and gone.deleted_at is not None and gone.version > tag.version
        assert [r.tag.code for r in org_queries.tags(s)] == []
    with db.write() as s:
        back = org.create_tag(s, actor=admin, code="typo", name="正字")
    assert back.id == tag.id and back.deleted_at is None and back.active and back.name == "正字"
    assert _actions(db) == ["tag.delete", "tag.create"]


def test_tag_sort_must_be_a_whole_number(db: Database, admin: Actor) -> None:
    assert _refused(db, org.create_tag, actor=admin, code="x", name="x", sort="first") == {
        "sort": "排序：必须是整数。"
    }


def test_reading_helpers_count_and_group(db: Database, make: Factory) -> None:
    community = make.community(code="lean")
    grid = make.grid(community, code="g1")
    make.household(grid)
    make.user("grid_worker", grids=[grid])
    with db.read() as s:
        counts = org_queries.counts(s)
        found, rows = org_queries.community_grids(s, community.id)
        listing = org_queries.communities(s)
    assert counts == {"communities": 1, "grids": 1, "departments": 0, "tags": 0, "users": 1}
    assert found.id == community.id and rows[0].households == 1 and len(rows[0].workers) == 1
    assert [g.code for g in listing[0].grids] == ["g1"]
