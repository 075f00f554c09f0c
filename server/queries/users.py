"""Reads for the admin pages of user accounts: the list and one account, with their grids."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import Session, col, select

from server.access import find_user
from server.i18n.labels import ROLE_NAMES
from server.models import Community, Department, Grid, User, UserGrid


@dataclass(frozen=True)
class UserRow:
    user: User
    community: Community | None
    department: Department | None
    grids: list[Grid]

    @property
    def role_name(self) -> str:
        return str(ROLE_NAMES.get(self.user.role, self.user.role))


def _rows(session: Session, users: Sequence[User]) -> list[UserRow]:
    ids = [u.id for u in users]
    communities = {c.id: c for c in session.exec(select(Community)).all()}
    departments = {d.id: d for d in session.exec(select(Department)).all()}
    grids: dict[uuid.UUID, list[Grid]] = {}
    for user_id, grid in session.exec(
        select(UserGrid.user_id, Grid)
        .join(Grid, col(Grid.id) == UserGrid.grid_id)
        .where(col(UserGrid.user_id).in_(ids))
        .order_by(Grid.code)
    ).all():
        grids.setdefault(user_id, []).append(grid)
    return [
        UserRow(
            user=u,
            community=communities.get(u.community_id) if u.community_id else None,
            department=departments.get(u.department_id) if u.department_id else None,
            grids=grids.get(u.id, []),
        )
        for u in users
    ]


def list_users(
    session: Session,
    *,
    role: str | None = None,
    community_id: uuid.UUID | str | None = None,
    query: str = "",
    limit: int = 500,
) -> list[UserRow]:
    """Users by role, community and a piece of username or name; active ones first."""
    statement = select(User)
    if role:
        statement = statement.where(User.role == role)
    if community_id:
        try:
            statement = statement.where(User.community_id == uuid.UUID(str(community_id)))
        except ValueError:
            return []
    if query.strip():
        pattern = f"%{query.strip()}%"
        statement = statement.where(
            or_(col(User.username).ilike(pattern), col(User.display_name).ilike(pattern))
        )
    statement = statement.order_by(col(User.active).desc(), User.role, User.username).limit(limit)
    return _rows(session, session.exec(statement).all())


def user_row(session: Session, user_id: uuid.UUID | str) -> UserRow:
    return _rows(session, [find_user(session, user_id)])[0]
