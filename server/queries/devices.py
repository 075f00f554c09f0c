"""Reads of the reconciliation page (设备对账, `/devices`): every sync client of the people a
staff member oversees, with its worker, last contact and balance (server/workflows/reconciliation.py)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from server import preferences
from server.access import Actor
from server.models import Community, Grid, Role, SyncClient, User, UserGrid
from server.queries import releases
from server.workflows.reconciliation import LATE_AFTER, Balance, Standing, balance


@dataclass
class Phone:
    client_id: uuid.UUID
    user_id: uuid.UUID
    worker: str
    username: str
    grids: list[str]
    created_at: datetime
    last_contact: datetime
    last_mutation_id: int
    report: dict[str, Any]
    balance: Balance
    # A newer client of the same worker has appeared while this one still owes work.
    replaced: bool = False

    @property
    def app_version(self) -> str | None:
        value = self.report.get("app_version")
        return value if isinstance(value, str) else None

    def old_app(self, current: str) -> bool:
        return self.app_version is not None and self.app_version != current

    @property
    def not_persisted(self) -> bool:
        return self.report.get("persisted") is False


@dataclass
class DevicesPage:
    communities: list[Community]  # an admin's choice; empty for staff
    community: Community | None
    grids: list[Grid]  # the grid filter's choices
    grid: Grid | None
    phones: list[Phone] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)  # app versions in use
    released: dict[str, datetime] = field(default_factory=dict)  # when the server first served each
    minimum: str = ""  # setting app.minimum_version
    below_minimum: set[str] = field(default_factory=set)  # versions in use that must update first

    @property
    def in_balance(self) -> int:
        return sum(1 for p in self.phones if p.balance.standing == Standing.in_balance)

    @property
    def owing(self) -> int:
        return sum(1 for p in self.phones if p.balance.standing in (Standing.owing, Standing.silent))

    @property
    def replaced(self) -> list[Phone]:
        return [p for p in self.phones if p.replaced]


def _communities(session: Session, actor: Actor) -> list[Community]:
    query = select(Community).where(col(Community.deleted_at).is_(None)).order_by(col(Community.code))
    if not actor.is_admin:
        query = query.where(col(Community.id) == actor.community_id)
    return list(session.execute(query).scalars())


def phones(
    session: Session, *, community_id: uuid.UUID, now: datetime, grid_id: uuid.UUID | None = None
) -> list[Phone]:
    """The clients of the community's people (of one grid's workers with `grid_id`), the
    ones that owe first, the longest silent first among them."""
    users = {
        u.id: u
        for u in session.execute(
            select(User).where(col(User.community_id) == community_id, col(User.role) != Role.department)
        ).scalars()
    }
    grid_names: dict[uuid.UUID, list[str]] = defaultdict(list)
    holders: set[uuid.UUID] = set()
    links = session.execute(
        select(col(UserGrid.user_id), col(Grid.id), col(Grid.name))
        .join(Grid, col(Grid.id) == col(UserGrid.grid_id))
        .where(col(UserGrid.user_id).in_(users), col(Grid.deleted_at).is_(None))
        .order_by(col(Grid.code))
    )
    for user_id, gid, name in links:
        grid_names[user_id].append(name)
        if gid == grid_id:
            holders.add(user_id)
    wanted = holders if grid_id is not None else set(users)
    clients = session.execute(
        select(SyncClient).where(col(SyncClient.user_id).in_(wanted)).order_by(col(SyncClient.created_at))
    ).scalars()
    found: list[Phone] = []
    for client in clients:
        user = users[client.user_id]
        found.append(_phone(client, user=user, grids=grid_names.get(user.id, []), now=now))
    _mark_replaced(found)
    order = {Standing.silent: 0, Standing.owing: 1, Standing.unknown: 2, Standing.in_balance: 3}
    found.sort(key=lambda p: (order[p.balance.standing], p.last_contact, p.worker))
    return found


def _phone(client: SyncClient, *, user: User | None, grids: list[str], now: datetime) -> Phone:
    contact = max(client.last_seen_at, client.device_at or client.last_seen_at)
    return Phone(
        client_id=client.client_id,
        user_id=client.user_id,
        worker=user.display_name if user else "",
        username=user.username if user else "",
        grids=grids,
        created_at=client.created_at,
        last_contact=contact,
        last_mutation_id=client.last_mutation_id,
        report=client.device or {},
        balance=balance(
            last_mutation_id=client.last_mutation_id, report=client.device, last_contact=contact, now=now
        ),
    )


def _mark_replaced(found: list[Phone]) -> None:
    """New phone, old one owing: a client that owes while a later client of its worker exists."""
    newest: dict[uuid.UUID, datetime] = {}
    for phone in found:
        newest[phone.user_id] = max(newest.get(phone.user_id, phone.created_at), phone.created_at)
    for phone in found:
        owes = phone.balance.standing in (Standing.owing, Standing.silent)
        phone.replaced = owes and phone.created_at < newest[phone.user_id]


def devices_page(
    session: Session, actor: Actor, *, now: datetime, community: str = "", grid: str = ""
) -> DevicesPage:
    communities = _communities(session, actor)
    chosen = next((c for c in communities if str(c.id) == community), communities[0] if communities else None)
    if chosen is None:
        return DevicesPage(communities=[], community=None, grids=[], grid=None)
    grids = list(
        session.execute(
            select(Grid)
            .where(col(Grid.community_id) == chosen.id, col(Grid.deleted_at).is_(None))
            .order_by(col(Grid.code))
        ).scalars()
    )
    picked = next((g for g in grids if str(g.id) == grid), None)
    found = phones(session, community_id=chosen.id, now=now, grid_id=picked.id if picked else None)
    versions: dict[str, int] = defaultdict(int)
    for phone in found:
        if phone.app_version:
            versions[phone.app_version] += 1
    minimum, released = preferences.get(session, "app.minimum_version"), releases.served(session)
    return DevicesPage(
        communities=communities if actor.is_admin else [],
        community=chosen,
        grids=grids,
        grid=picked,
        phones=found,
        versions=dict(sorted(versions.items(), key=lambda kv: -kv[1])),
        released=released,
        minimum=minimum,
        below_minimum={v for v in versions if releases.below(released, v, minimum)},
    )


def owing_late(session: Session, *, community_id: uuid.UUID, now: datetime) -> int:
    """The dashboard's figure: phones owing work made more than 24 hours ago."""
    return sum(1 for p in phones(session, community_id=community_id, now=now) if late(p.balance, now))


def late(found: Balance, now: datetime) -> bool:
    return found.owed_longer_than(LATE_AFTER, now)


def owing_elsewhere(session: Session, *, user_id: uuid.UUID, now: datetime) -> list[Phone]:
    """The worker's clients that owe work: the phone signing in names them (new-phone warning)."""
    clients = session.execute(select(SyncClient).where(col(SyncClient.user_id) == user_id)).scalars()
    owing = (_phone(client, user=None, grids=[], now=now) for client in clients)
    return [p for p in owing if p.balance.standing in (Standing.owing, Standing.silent)]
