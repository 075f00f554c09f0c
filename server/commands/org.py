"""Domain commands for the organisation: communities, grids, departments and the tag catalogue.

Admin pages and `doorstep admin …` share them. All four are syncable reference
data: `server.versions` gives each change its version when the session
flushes, so phones pull renames, new grids and tag changes like any record.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select

from server import audit
from server.access import Actor, Forbidden, NotFound, live
from server.errors import DomainError, InvalidInput
from server.i18n import gettext as _
from server.models import (
    SYNC_TYPES,
    Community,
    Department,
    Grid,
    ResidentTag,
    SyncRecord,
    Tag,
    User,
    UserGrid,
    utcnow,
)

CODE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
R = TypeVar("R", bound=SyncRecord)


class TagInUse(DomainError):
    """A tag residents carry is never deleted, only deactivated."""

    code = "tag_in_use"


class FieldErrors:
    """Collects one Chinese message per form field, then raises them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def text(
        self, field: str, value: str | None, *, label: str, max_length: int, required: bool = True
    ) -> str:
        value = (value or "").strip()
        if required and not value:
            self.add(field, _("%(label)s：必须填写。", label=label))
        elif len(value) > max_length:
            self.add(field, _("%(label)s：太长了，最多 %(n)s 个字。", label=label, n=max_length))
        return value

    def code(self, field: str, value: str | None, *, label: str) -> str:
        value = self.text(field, value, label=label, max_length=40)
        if value and not CODE.match(value):
            self.add(field, _("%(label)s：只能用字母、数字和 _ . -，最多 40 个字符。", label=label))
        return value

    def number(self, field: str, value: Any, *, label: str, limit: float) -> float | None:
        """An optional coordinate: empty is None, otherwise a finite number within ±limit."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.add(field, _("%(label)s：必须是数字。", label=label))
            return None
        if not math.isfinite(number) or abs(number) > limit:
            self.add(field, _("%(label)s：必须在 -%(n)s 到 %(n)s 之间。", label=label, n=int(limit)))
            return None
        return number

    def check(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


def require_admin(actor: Actor | None) -> None:
    """Commands run by an operator at the shell have no actor; on the web they need an admin."""
    if actor is not None and not actor.is_admin:
        raise Forbidden(actor.role)


def chosen(
    session: Session, model: type[R], record_id: uuid.UUID | str | None, *, field: str, message: str
) -> R:
    """A row picked in a form, or InvalidInput on that field."""
    try:
        return live(session, model, record_id)
    except NotFound:
        raise InvalidInput({field: message}) from None


def by_code(session: Session, model: type[R], code: str, *, field: str, message: str, **same: Any) -> R:
    """The live row of `model` with this code (and these other column values), or InvalidInput."""
    table: Any = model
    query = select(model).where(table.code == code, table.deleted_at.is_(None))
    for column, value in same.items():
        query = query.where(getattr(table, column) == value)
    found = session.exec(query).first()
    if found is None:
        raise InvalidInput({field: message})
    return found


def community_by_code(session: Session, code: str, *, field: str = "community") -> Community:
    return by_code(
        session, Community, code, field=field, message=_("没有编码为 %(code)s 的社区。", code=code)
    )


def grid_by_code(session: Session, community: Community, code: str) -> Grid:
    message = _("社区里没有编码为 %(code)s 的网格。", code=code)
    return by_code(session, Grid, code, field="grid", message=message, community_id=community.id)


def _code_taken(session: Session, model: type[SyncRecord], code: str, **same: Any) -> bool:
    table: Any = model
    query = select(table.id).where(table.code == code)
    for column, value in same.items():
        query = query.where(getattr(table, column) == value)
    return session.exec(query).first() is not None


def logged(session: Session, actor: Actor | None, action: str, row: Any, **detail: Any) -> None:
    """Flush the change (so a new row has its id and version), then write it to the audit log."""
    session.flush()
    audit.record(
        session, actor=actor, action=action, record_type=action.split(".")[0], record_id=row.id, **detail
    )


def set_changed(row: Any, **values: Any) -> dict[str, list[Any]]:
    """Set the values that differ; return {field: [old, new]} for the audit log."""
    changed: dict[str, list[Any]] = {}
    for name, value in values.items():
        old = getattr(row, name)
        if old != value:
            setattr(row, name, value)
            changed[name] = [old, value]
    return changed


# Communities -------------------------------------------------------------------------------


def create_community(
    session: Session, *, actor: Actor | None, name: str, code: str, address: str = ""
) -> Community:
    require_admin(actor)
    errors = FieldErrors()
    name = errors.text("name", name, label=_("社区名称"), max_length=60)
    code = errors.code("code", code, label=_("编码"))
    address = errors.text("address", address, label=_("地址"), max_length=200, required=False)
    if code and "code" not in errors.errors and _code_taken(session, Community, code):
        errors.add("code", _("编码：%(code)s 已被使用。", code=code))
    errors.check()
    community = Community(name=name, code=code, address=address)
    session.add(community)
    logged(session, actor, "community.create", community, name=name, code=code)
    return community


def update_community(
    session: Session, *, actor: Actor | None, community_id: uuid.UUID | str, name: str, address: str = ""
) -> Community:
    require_admin(actor)
    community = live(session, Community, community_id)
    errors = FieldErrors()
    name = errors.text("name", name, label=_("社区名称"), max_length=60)
    address = errors.text("address", address, label=_("地址"), max_length=200, required=False)
    errors.check()
    changed = set_changed(community, name=name, address=address)
    if changed:
        logged(session, actor, "community.update", community, changes=changed)
    return community


# Grids ---------------------------------------------------------------------------------------


def _centre(errors: FieldErrors, lat: Any, lng: Any) -> tuple[float | None, float | None]:
    latitude = errors.number("lat", lat, label=_("纬度"), limit=90)
    longitude = errors.number("lng", lng, label=_("经度"), limit=180)
    if (latitude is None) != (longitude is None) and not errors.errors:
        errors.add("lat", _("中心点：纬度和经度要么都填，要么都不填。"))
    return latitude, longitude


def create_grid(
    session: Session,
    *,
    actor: Actor | None,
    community_id: uuid.UUID | str,
    name: str,
    code: str,
    lat: Any = None,
    lng: Any = None,
) -> Grid:
    require_admin(actor)
    community = live(session, Community, community_id)
    errors = FieldErrors()
    name = errors.text("name", name, label=_("网格名称"), max_length=60)
    code = errors.code("code", code, label=_("编码"))
    latitude, longitude = _centre(errors, lat, lng)
    if code and "code" not in errors.errors and _code_taken(session, Grid, code, community_id=community.id):
        errors.add("code", _("编码：本社区已有编码为 %(code)s 的网格。", code=code))
    errors.check()
    grid = Grid(community_id=community.id, name=name, code=code, lat=latitude, lng=longitude)
    session.add(grid)
    logged(
        session,
        actor,
        "grid.create",
        grid,
        community_id=community.id,
        name=name,
        code=code,
        lat=latitude,
        lng=longitude,
    )
    return grid


def update_grid(
    session: Session,
    *,
    actor: Actor | None,
    grid_id: uuid.UUID | str,
    name: str,
    lat: Any = None,
    lng: Any = None,
) -> Grid:
    """Rename a grid and set (or clear) its centre."""
    require_admin(actor)
    grid = live(session, Grid, grid_id)
    errors = FieldErrors()
    name = errors.text("name", name, label=_("网格名称"), max_length=60)
    latitude, longitude = _centre(errors, lat, lng)
    errors.check()
    changed = set_changed(grid, name=name, lat=latitude, lng=longitude)
    if changed:
        logged(session, actor, "grid.update", grid, changes=changed)
    return grid


def move_grid(
    session: Session, *, actor: Actor | None, grid_id: uuid.UUID | str, community_id: uuid.UUID | str
) -> Grid:
    """Move a grid, and everything recorded in it, to another community.

    Every row scoped by this grid changes community in the same transaction, so
    `server.versions` leaves tombstones for the old community's staff (SYNC.md
    rule 10). Workers of the old community who hold the grid must be
    unassigned first: a worker's grids all lie in their own community.
    """
    require_admin(actor)
    grid = live(session, Grid, grid_id)
    target = chosen(session, Community, community_id, field="community_id", message=_("没有这个社区。"))
    if target.id == grid.community_id:
        return grid
    if _code_taken(session, Grid, grid.code, community_id=target.id):
        raise InvalidInput({"community_id": _("目标社区已有编码为 %(code)s 的网格。", code=grid.code)})
    holders = session.exec(
        select(User.username)
        .join(UserGrid, col(UserGrid.user_id) == User.id)
        .where(UserGrid.grid_id == grid.id)
    ).all()
    if holders:
        raise InvalidInput(
            {
                "community_id": _(
                    "请先取消这些网格员对本网格的分配：%(names)s", names="、".join(sorted(holders))
                )
            }
        )
    old = grid.community_id
    grid.community_id = target.id
    moved = 0
    for model in SYNC_TYPES.values():
        if {"grid_id", "community_id"} <= set(model.scope_columns):
            table: Any = model
            for row in session.exec(select(model).where(table.grid_id == grid.id)):
                row.community_id = target.id
                moved += 1
    logged(session, actor, "grid.move", grid, from_community=old, to_community=target.id, rows=moved)
    return grid


# Departments ---------------------------------------------------------------------------------


def create_department(session: Session, *, actor: Actor | None, name: str, code: str) -> Department:
    require_admin(actor)
    errors = FieldErrors()
    name = errors.text("name", name, label=_("部门名称"), max_length=60)
    code = errors.code("code", code, label=_("编码"))
    if code and "code" not in errors.errors and _code_taken(session, Department, code):
        errors.add("code", _("编码：%(code)s 已被使用。", code=code))
    errors.check()
    department = Department(name=name, code=code)
    session.add(department)
    logged(session, actor, "department.create", department, name=name, code=code)
    return department


def update_department(
    session: Session, *, actor: Actor | None, department_id: uuid.UUID | str, name: str
) -> Department:
    require_admin(actor)
    department = live(session, Department, department_id)
    errors = FieldErrors()
    name = errors.text("name", name, label=_("部门名称"), max_length=60)
    errors.check()
    changed = set_changed(department, name=name)
    if changed:
        logged(session, actor, "department.update", department, changes=changed)
    return department


# Tags ----------------------------------------------------------------------------------------


def _tag_fields(errors: FieldErrors, name: str, category: str, sort: Any) -> tuple[str, str, int]:
    name = errors.text("name", name, label=_("标签名称"), max_length=30)
    category = errors.text("category", category, label=_("类别"), max_length=30, required=False)
    text = str(sort if sort is not None else "").strip() or "0"
    if not re.fullmatch(r"-?\d{1,6}", text):
        errors.add("sort", _("排序：必须是整数。"))
        return name, category, 0
    return name, category, int(text)


def create_tag(
    session: Session,
    *,
    actor: Actor | None,
    code: str,
    name: str,
    category: str = "",
    sensitive: bool = False,
    sort: Any = 0,
) -> Tag:
    """Add a tag to the catalogue. The code of a deleted tag may be used again: the row returns."""
    require_admin(actor)
    errors = FieldErrors()
    code = errors.code("code", code, label=_("编码"))
    name, category, order = _tag_fields(errors, name, category, sort)
    existing = session.exec(select(Tag).where(Tag.code == code)).first() if code else None
    if existing is not None and existing.deleted_at is None:
        errors.add("code", _("编码：%(code)s 已被使用。", code=code))
    errors.check()
    if existing is not None:
        tag = existing
        set_changed(
            tag, name=name, category=category, sensitive=sensitive, sort=order, active=True, deleted_at=None
        )
    else:
        tag = Tag(code=code, name=name, category=category, sensitive=sensitive, sort=order)
        session.add(tag)
    logged(session, actor, "tag.create", tag, code=code, name=name, category=category, sensitive=sensitive)
    return tag


def update_tag(
    session: Session,
    *,
    actor: Actor | None,
    tag_id: uuid.UUID | str,
    name: str,
    category: str = "",
    sensitive: bool = False,
    sort: Any = 0,
) -> Tag:
    """Rename a tag, change its category or order, or mark it sensitive."""
    require_admin(actor)
    tag = live(session, Tag, tag_id)
    errors = FieldErrors()
    name, category, order = _tag_fields(errors, name, category, sort)
    errors.check()
    changed = set_changed(tag, name=name, category=category, sensitive=sensitive, sort=order)
    if changed:
        logged(session, actor, "tag.update", tag, changes=changed)
    return tag


def set_tag_active(session: Session, *, actor: Actor | None, tag_id: uuid.UUID | str, active: bool) -> Tag:
    """A deactivated tag stays on the residents who carry it but is no longer offered."""
    require_admin(actor)
    tag = live(session, Tag, tag_id)
    if tag.active != active:
        tag.active = active
        logged(session, actor, "tag.activate" if active else "tag.deactivate", tag, code=tag.code)
    return tag


def tag_usage(session: Session, tag_id: uuid.UUID) -> int:
    count = session.exec(
        select(func.count()).select_from(ResidentTag).where(ResidentTag.tag_id == tag_id)
    ).one()
    return int(count)


def delete_tag(session: Session, *, actor: Actor | None, tag_id: uuid.UUID | str) -> Tag:
    """Remove a tag nobody carries (phones pull it as `del`); a tag in use can only be deactivated."""
    require_admin(actor)
    tag = live(session, Tag, tag_id)
    used = tag_usage(session, tag.id)
    if used:
        raise TagInUse(_("有 %(n)s 位居民带有这个标签，不能删除，只能停用。", n=used))
    tag.deleted_at = utcnow()
    tag.active = False
    logged(session, actor, "tag.delete", tag, code=tag.code)
    return tag
