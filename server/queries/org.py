"""Reads for the admin pages of reference data: communities with their grids, departments, tags."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.access import NotFound, live
from server.models import (
    Community,
    Department,
    Grid,
    Household,
    ResidentTag,
    Tag,
    User,
    UserGrid,
)


@dataclass(frozen=True)
class CommunityRow:
    community: Community
    grids: list[Grid]


@dataclass(frozen=True)
class GridRow:
    grid: Grid
    households: int
    workers: list[str]


@dataclass(frozen=True)
class TagRow:
    tag: Tag
    residents: int


def communities(session: Session) -> list[CommunityRow]:
    rows = session.exec(
        select(Community).where(col(Community.deleted_at).is_(None)).order_by(Community.code)
    ).all()
    grids = session.exec(select(Grid).where(col(Grid.deleted_at).is_(None)).order_by(Grid.code)).all()
    by_community: dict[uuid.UUID, list[Grid]] = {}
    for grid in grids:
        by_community.setdefault(grid.community_id, []).append(grid)
    return [CommunityRow(c, by_community.get(c.id, [])) for c in rows]


def community_grids(session: Session, community_id: uuid.UUID) -> tuple[Community, list[GridRow]]:
    community = live(session, Community, community_id)
    grids = session.exec(
        select(Grid)
        .where(Grid.community_id == community.id, col(Grid.deleted_at).is_(None))
        .order_by(Grid.code)
    ).all()
    ids = [g.id for g in grids]
    counts = dict(
        session.exec(
            select(Household.grid_id, func.count())
            .where(col(Household.grid_id).in_(ids), col(Household.deleted_at).is_(None))
            .group_by(col(Household.grid_id))
        ).all()
    )
    workers: dict[uuid.UUID, list[str]] = {}
    for grid_id, name in session.exec(
        select(UserGrid.grid_id, User.display_name)
        .join(User, col(User.id) == UserGrid.user_id)
        .where(col(UserGrid.grid_id).in_(ids))
        .order_by(User.display_name)
    ).all():
        workers.setdefault(grid_id, []).append(name)
    return community, [GridRow(g, int(counts.get(g.id, 0)), workers.get(g.id, [])) for g in grids]


def departments(session: Session) -> list[Department]:
    return list(
        session.exec(
            select(Department).where(col(Department.deleted_at).is_(None)).order_by(Department.code)
        ).all()
    )


def tags(session: Session) -> list[TagRow]:
    rows = session.exec(
        select(Tag)
        .where(col(Tag.deleted_at).is_(None))
        .order_by(col(Tag.active).desc(), col(Tag.sort), col(Tag.code))
    ).all()
    counts = dict(
        session.exec(select(ResidentTag.tag_id, func.count()).group_by(col(ResidentTag.tag_id))).all()
    )
    return [TagRow(t, int(counts.get(t.id, 0))) for t in rows]


def counts(session: Session) -> dict[str, int]:
    """How many of each the admin overview shows."""
    live_rows: dict[str, Any] = {
        "communities": Community,
        "grids": Grid,
        "departments": Department,
        "tags": Tag,
    }
    result = {
        name: int(
            session.exec(select(func.count()).select_from(model).where(col(model.deleted_at).is_(None))).one()
        )
        for name, model in live_rows.items()
    }
    result["users"] = int(session.exec(select(func.count()).select_from(User).where(col(User.active))).one())
    return result


def community_by_token(session: Session, token: str) -> Community:
    """The community whose public pages this token opens (the QR on notice boards), or NotFound."""
    community = session.exec(
        select(Community).where(Community.public_token == token, col(Community.deleted_at).is_(None))
    ).first()
    if community is None:
        raise NotFound("community")
    return community
