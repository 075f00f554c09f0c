"""Domain commands for user accounts (admin pages and `doorstep user …` share them).

A worker may hold several grids, all in their own community; a department
user belongs to one department. Resetting a password or deactivating an
account ends every session the user has, on every device.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.access import Actor, find_user
from server.auth import Sessions, WeakPassword, hash_password
from server.commands.org import (
    FieldErrors,
    by_code,
    chosen,
    grid_by_code,
    logged,
    require_admin,
    set_changed,
)
from server.errors import InvalidInput
from server.i18n import gettext as _
from server.i18n import lazy_gettext as _l
from server.i18n.labels import ROLE_NAMES
from server.models import Community, Department, Grid, Role, SyncRecord, User, UserGrid, utcnow
from server.people import phone as phones

R = TypeVar("R", bound=SyncRecord)
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")
NO_COMMUNITY = _l("社区：没有这个社区。")
NO_DEPARTMENT = _l("部门：没有这个部门。")


class UserError(InvalidInput, ValueError):
    """A user account cannot be created or changed as asked; `errors` says why, per field."""

    def __init__(self, message: str | dict[str, str], field: str = "form") -> None:
        super().__init__(message if isinstance(message, dict) else {field: message})


@dataclass(frozen=True)
class Placement:
    """Where a user belongs, resolved and checked against their role."""

    community: Community | None
    department: Department | None
    grids: list[Grid]


def _place(
    errors: FieldErrors,
    *,
    role: str,
    community: Community | None,
    department: Department | None,
    grids: list[Grid],
) -> Placement:
    if role in (Role.grid_worker, Role.community_staff) and community is None:
        errors.add("community_id", _("社区：网格员和社区工作人员必须属于一个社区。"))
    if role not in (Role.grid_worker, Role.community_staff) and community is not None:
        errors.add("community_id", _("社区：只有网格员和社区工作人员属于社区。"))
    if role == Role.department and department is None:
        errors.add("department_id", _("部门：部门用户必须属于一个部门。"))
    if role != Role.department and department is not None:
        errors.add("department_id", _("部门：只有部门用户属于部门。"))
    if grids and role != Role.grid_worker:
        errors.add("grid_ids", _("网格：只有网格员可以分配网格。"))
    elif community is not None:
        foreign = [g.code for g in grids if g.community_id != community.id]
        if foreign:
            errors.add("grid_ids", _("网格：这些网格不属于所选社区：%(codes)s", codes="、".join(foreign)))
    return Placement(community, department, grids)


def _pick(
    session: Session,
    errors: FieldErrors,
    model: type[R],
    code: str | None,
    record_id: uuid.UUID | str | None,
    *,
    field: str,
    missing: Any,
) -> R | None:
    """What a form (by id) or the shell (by code) named; an unknown one becomes a field error."""
    try:
        if code:
            return by_code(session, model, code, field=field, message=f"{missing}（{code}）")
        if record_id:
            return chosen(session, model, record_id, field=field, message=str(missing))
    except InvalidInput as exc:
        errors.errors.update(exc.errors)
    return None


def _grids(
    session: Session,
    errors: FieldErrors,
    community: Community | None,
    codes: Sequence[str],
    ids: Sequence[uuid.UUID | str],
) -> list[Grid]:
    """Grids named by code (within `community`) or by id; unknown ones become one field error."""
    grids: list[Grid] = []
    missing: list[str] = []
    if codes and community is None:
        errors.add("grid_ids", _("网格：只有属于社区的网格员可以分配网格。"))
        return grids
    for code in dict.fromkeys(codes):
        try:
            grids.append(grid_by_code(session, community, code))  # type: ignore[arg-type]  # not None: checked above
        except InvalidInput:
            missing.append(code)
    for grid_id in dict.fromkeys(str(g) for g in ids):
        try:
            grids.append(chosen(session, Grid, grid_id, field="grid_ids", message=""))
        except InvalidInput:
            missing.append(grid_id)
    if missing:
        errors.add("grid_ids", _("网格：没有这些网格：%(codes)s", codes="、".join(missing)))
    return grids


def _check_role(errors: FieldErrors, role: str) -> str:
    role = (role or "").strip()
    if role not in ROLE_NAMES:
        errors.add("role", _("角色：没有这个角色。"))
    return role


def _check_phone(errors: FieldErrors, value: str) -> str:
    try:
        return phones.normalise(value)
    except phones.InvalidPhone:
        errors.add("phone", _("电话：手机号为 1 开头的 11 位数字，座机请带区号（如 0794-1234567）。"))
        return value


def _check_password(errors: FieldErrors, password: str, field: str = "password") -> str:
    try:
        return hash_password(password or "")
    except WeakPassword:
        errors.add(field, _("密码：至少 8 个字符。"))
        return ""


def _set_grids(session: Session, user: User, grids: list[Grid]) -> tuple[list[str], list[str]]:
    """Make the user hold exactly `grids`; return the codes added and removed."""
    held = {
        row.grid_id: row for row in session.exec(select(UserGrid).where(UserGrid.user_id == user.id)).all()
    }
    wanted = {g.id: g for g in grids}
    codes = {g.id: g.code for g in session.exec(select(Grid).where(col(Grid.id).in_(list(held)))).all()}
    removed = [codes.get(grid_id, str(grid_id)) for grid_id in held if grid_id not in wanted]
    for grid_id, row in held.items():
        if grid_id not in wanted:
            session.delete(row)
    added = [g.code for grid_id, g in wanted.items() if grid_id not in held]
    session.add_all(UserGrid(user_id=user.id, grid_id=grid_id) for grid_id in wanted if grid_id not in held)
    session.flush()
    return sorted(added), sorted(removed)


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    community_code: str | None = None,
    grid_codes: Sequence[str] = (),
    department_code: str | None = None,
    phone: str = "",
    community_id: uuid.UUID | str | None = None,
    grid_ids: Sequence[uuid.UUID | str] = (),
    department_id: uuid.UUID | str | None = None,
    actor: Actor | None = None,
) -> User:
    """Create an account. The shell names community, grids and department by code, forms by id."""
    require_admin(actor)
    errors = FieldErrors()
    username = (username or "").strip()
    if not USERNAME.match(username):
        errors.add("username", _("用户名：只能用字母、数字和 _ . -，2 到 40 个字符。"))
    elif session.exec(select(User.id).where(User.username == username)).first() is not None:
        errors.add("username", _("用户名：%(name)s 已存在。", name=username))
    display_name = errors.text("display_name", display_name, label=_("姓名"), max_length=40)
    role = _check_role(errors, role)
    password_hash = _check_password(errors, password)
    phone = _check_phone(errors, phone)
    community = _pick(
        session, errors, Community, community_code, community_id, field="community_id", missing=NO_COMMUNITY
    )
    department = _pick(
        session,
        errors,
        Department,
        department_code,
        department_id,
        field="department_id",
        missing=NO_DEPARTMENT,
    )
    grids = _grids(session, errors, community, grid_codes, grid_ids)
    place = _place(errors, role=role, community=community, department=department, grids=grids)
    if errors.errors:
        raise UserError(errors.errors)
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        community_id=place.community.id if place.community else None,
        department_id=place.department.id if place.department else None,
        phone=phone,
    )
    session.add(user)
    session.flush()
    _set_grids(session, user, place.grids)
    logged(
        session,
        actor,
        "user.create",
        user,
        username=username,
        role=role,
        community_id=user.community_id,
        department_id=user.department_id,
        grids=sorted(g.code for g in place.grids),
    )
    return user


def user_by_username(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == (username or "").strip())).first()
    if user is None:
        raise UserError(_("没有用户名为 %(name)s 的用户。", name=username), "username")
    return user


def _other_active_admins(session: Session, user: User) -> int:
    query = (
        select(func.count()).select_from(User).where(User.role == Role.admin, User.active, User.id != user.id)
    )
    return int(session.exec(query).one())


def update_user(
    session: Session,
    *,
    actor: Actor | None,
    user_id: uuid.UUID | str,
    display_name: str,
    role: str,
    phone: str = "",
    community_id: uuid.UUID | str | None = None,
    department_id: uuid.UUID | str | None = None,
    grid_ids: Sequence[uuid.UUID | str] | None = None,
) -> User:
    """Change name, phone, role and where the user belongs; `grid_ids=None` keeps the grids held
    (those outside a new community are dropped)."""
    require_admin(actor)
    user = find_user(session, user_id)
    errors = FieldErrors()
    display_name = errors.text("display_name", display_name, label=_("姓名"), max_length=40)
    role = _check_role(errors, role)
    phone = _check_phone(errors, phone)
    community = _pick(
        session, errors, Community, None, community_id, field="community_id", missing=NO_COMMUNITY
    )
    department = _pick(
        session, errors, Department, None, department_id, field="department_id", missing=NO_DEPARTMENT
    )
    grids = _grids(session, errors, community, (), grid_ids or ())
    if grid_ids is None and role == Role.grid_worker and community is not None:
        held = select(UserGrid.grid_id).where(UserGrid.user_id == user.id)
        grids = list(
            session.exec(select(Grid).where(col(Grid.id).in_(held), Grid.community_id == community.id))
        )
    if (
        user.role == Role.admin
        and role != Role.admin
        and user.active
        and not _other_active_admins(session, user)
    ):
        errors.add("role", _("角色：至少要保留一位在用的管理员。"))
    place = _place(errors, role=role, community=community, department=department, grids=grids)
    if errors.errors:
        raise UserError(errors.errors)
    changed: dict[str, Any] = set_changed(
        user,
        display_name=display_name,
        role=role,
        phone=phone,
        community_id=place.community.id if place.community else None,
        department_id=place.department.id if place.department else None,
    )
    added, removed = _set_grids(session, user, place.grids)
    if added or removed:
        changed["grids"] = {"added": added, "removed": removed}
    if changed:
        user.updated_at = utcnow()
        Sessions.forget(
            user_id=user.id
        )  # role, place or grids changed: cached sessions must not keep the old ones
        logged(session, actor, "user.update", user, changes=changed)
    return user


def _end_sessions(session: Session, user: User) -> None:
    user.sessions_valid_after = utcnow()
    user.updated_at = user.sessions_valid_after
    Sessions.end_all(session, user.id)


def reset_password(session: Session, *, actor: Actor | None, user_id: uuid.UUID | str, password: str) -> User:
    """Set a new password and end every session the user has."""
    require_admin(actor)
    user = find_user(session, user_id)
    errors = FieldErrors()
    password_hash = _check_password(errors, password)
    if errors.errors:
        raise UserError(errors.errors)
    user.password_hash = password_hash
    _end_sessions(session, user)
    logged(session, actor, "user.reset_password", user, username=user.username)
    return user


def assign_grids(
    session: Session,
    *,
    actor: Actor | None,
    user_id: uuid.UUID | str,
    grid_ids: Sequence[uuid.UUID | str] = (),
    grid_codes: Sequence[str] = (),
) -> list[Grid]:
    """Make a worker hold exactly these grids (by id from a form, by code from the shell)."""
    require_admin(actor)
    user = find_user(session, user_id)
    errors = FieldErrors()
    community = session.get(Community, user.community_id) if user.community_id else None
    if user.role != Role.grid_worker:
        raise UserError(_("网格：只有网格员可以分配网格。"), "grid_ids")
    found = _grids(session, errors, community, grid_codes, grid_ids)
    _place(errors, role=user.role, community=community, department=None, grids=found)
    if errors.errors:
        raise UserError(errors.errors)
    added, removed = _set_grids(session, user, found)
    if added or removed:
        user.updated_at = utcnow()
        Sessions.forget(user_id=user.id)  # their scope changed: no cached session may keep the old one
        logged(session, actor, "user.assign_grids", user, added=added, removed=removed)
    return found


def set_active(session: Session, *, actor: Actor | None, user_id: uuid.UUID | str, active: bool) -> User:
    """Deactivate (ending every session) or reactivate an account."""
    require_admin(actor)
    user = find_user(session, user_id)
    if not active and actor is not None and actor.id == user.id:
        raise UserError(_("不能停用自己的账号。"))
    if not active and user.role == Role.admin and user.active and not _other_active_admins(session, user):
        raise UserError(_("至少要保留一位在用的管理员。"))
    if user.active == active:
        return user
    user.active = active
    if active:
        user.updated_at = utcnow()
    else:
        _end_sessions(session, user)
    logged(session, actor, "user.activate" if active else "user.deactivate", user, username=user.username)
    return user


# Reading -------------------------------------------------------------------------------------
