"""Domain commands for user accounts (admin pages and `doorstep user …` share them)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlmodel import Session, col, select

from server.auth import WeakPassword, hash_password
from server.i18n import gettext as _
from server.models import Community, Department, Grid, Role, User, UserGrid

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")


class UserError(ValueError):
    """A user account cannot be created or changed as asked; the message says why."""


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
) -> User:
    if not USERNAME.match(username):
        raise UserError(_("用户名只能用字母、数字和 _ . -，2 到 40 个字符。"))
    if role not in {r.value for r in Role}:
        raise UserError(_("没有这个角色。"))
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise UserError(_("用户名 %(name)s 已存在。", name=username))
    try:
        password_hash = hash_password(password)
    except WeakPassword:
        raise UserError(_("密码至少 8 个字符。")) from None
    community = None
    if community_code:
        community = session.exec(select(Community).where(Community.code == community_code)).first()
        if community is None:
            raise UserError(_("没有编码为 %(code)s 的社区。", code=community_code))
    department = None
    if department_code:
        department = session.exec(select(Department).where(Department.code == department_code)).first()
        if department is None:
            raise UserError(_("没有编码为 %(code)s 的部门。", code=department_code))
    if role in (Role.grid_worker, Role.community_staff) and community is None:
        raise UserError(_("网格员和社区工作人员必须属于一个社区。"))
    if role == Role.department and department is None:
        raise UserError(_("部门用户必须属于一个部门。"))
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        community_id=community.id if community else None,
        department_id=department.id if department else None,
        phone=phone,
    )
    session.add(user)
    session.flush()
    if grid_codes:
        if role != Role.grid_worker or community is None:
            raise UserError(_("只有网格员可以分配网格。"))
        grids = session.exec(
            select(Grid).where(Grid.community_id == community.id, col(Grid.code).in_(list(grid_codes)))
        ).all()
        missing = set(grid_codes) - {g.code for g in grids}
        if missing:
            raise UserError(_("社区里没有这些网格：%(codes)s", codes="、".join(sorted(missing))))
        session.add_all(UserGrid(user_id=user.id, grid_id=g.id) for g in grids)
        session.flush()
    return user
