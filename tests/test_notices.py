"""Notices: the in-app inbox each trigger writes in its cause's transaction, carried by sync
to the addressee only, with delivery and read receipts (issue 19)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from server.commands import demands as dm
from server.db import Database
from server.models import Demand, Notice, PushNotification, utcnow
from tests.conftest import Factory
from tests.test_push_triggers import World, put_demand
from tests.test_push_triggers import world as world

DispatchArgs = dict[str, str]


def notices(db: Database, *where: Any) -> list[Notice]:
    with db.read() as s:
        return list(s.exec(select(Notice).where(*where).order_by(col(Notice.created_at))))


def dispatch(db: Database, make: Factory, world: World, demand: Demand, priority: str = "normal") -> None:
    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=world.actor(make, "staff"),
            data={
                "demand_id": str(demand.id),
                "grid_id": str(world.grid.id),
                "handling_type": "self",
                "priority": priority,
            },
        )


def test_a_dispatch_writes_one_notice_per_worker_beside_its_push(
    world: World, make: Factory, db: Database
) -> None:
    demand = put_demand(db, world, "submitted")
    dispatch(db, make, world, demand)
    found = notices(db)
    assert sorted(n.user_id for n in found) == sorted([world.users["worker"].id, world.users["partner"].id])
    pushes = {p.id: p for p in _pushes(db)}
    for n in found:
        assert n.kind == "demand_dispatched"
        assert (n.subject_type, n.subject_id) == ("demand", demand.id)
        assert n.link == f"/app/#/d/{demand.id}"
        assert n.title == "新诉求派到您的网格"
        assert n.push_id in pushes and pushes[n.push_id].user_id == n.user_id
        assert n.delivered_at is None and n.read_at is None and n.version > 0


def _pushes(db: Database) -> list[PushNotification]:
    with db.read() as s:
        return list(s.exec(select(PushNotification)))


def test_a_rolled_back_change_leaves_no_notice(world: World, make: Factory, db: Database) -> None:
    demand = put_demand(db, world, "submitted")

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), db.write() as s:
        dm.dispatch_demand(
            s,
            actor=world.actor(make, "staff"),
            data={"demand_id": str(demand.id), "grid_id": str(world.grid.id), "handling_type": "self"},
        )
        s.flush()
        assert s.exec(select(Notice)).all()  # written in the change's own transaction …
        raise Abandoned
    assert notices(db) == []  # … and gone with it
    assert _pushes(db) == []


def test_a_rejected_mutation_leaves_no_notice(
    world: World, make: Factory, sync_phone: Any, db: Database
) -> None:
    demand = put_demand(db, world, "submitted")
    staff = sync_phone(world.users["staff"])
    staff.queue(
        "demand.dispatch", {"demand_id": str(demand.id), "grid_id": "not-a-grid", "handling_type": "self"}
    )
    staff.push()
    assert staff.results[1]["status"] == "rejected"
    staff.queue(
        "demand.dispatch",
        {"demand_id": str(demand.id), "grid_id": str(world.grid.id), "handling_type": "self"},
    )
    staff.push()
    assert staff.results[2]["status"] == "applied"
    assert len(notices(db)) == 2  # the applied dispatch only, once per worker


def test_a_pull_carries_only_the_callers_notices_and_is_their_receipt(
    world: World, make: Factory, sync_phone: Any, db: Database
) -> None:
    demand = put_demand(db, world, "submitted")
    dispatch(db, make, world, demand)
    worker, other, admin, staff = (
        sync_phone(world.users[who]) for who in ("worker", "other_worker", "admin", "staff")
    )
    for phone in (worker, other, admin, staff):
        phone.pull()
    mine = worker.records("notice")
    assert [n["user_id"] for n in mine.values()] == [str(world.users["worker"].id)]
    (data,) = mine.values()
    assert data["link"] == f"/app/#/d/{demand.id}" and data["read_at"] is None
    assert "delivered_at" not in data and "push_id" not in data
    assert other.records("notice") == {} and admin.records("notice") == {} and staff.records("notice") == {}

    by_user = {n.user_id: n for n in notices(db)}
    delivered = by_user[world.users["worker"].id]
    assert delivered.delivered_at is not None
    assert by_user[world.users["partner"].id].delivered_at is None  # the partner has not synced
    # The receipt took no new version: the next pull does not carry the notice again.
    assert delivered.version == data["version"]
    assert worker.pull() == 0
    (again,) = (n for n in notices(db) if n.id == delivered.id)
    assert again.delivered_at == delivered.delivered_at


def test_notice_read_is_idempotent_and_replays_cleanly(
    world: World, make: Factory, sync_phone: Any, db: Database
) -> None:
    demand = put_demand(db, world, "submitted")
    dispatch(db, make, world, demand)
    worker = sync_phone(world.users["worker"])
    worker.pull()
    (notice_id,) = worker.records("notice")
    opened = utcnow() - timedelta(seconds=1)
    worker.queue("notice.read", {"notice_id": notice_id}, at=opened)
    first = worker.push()
    assert first is not None and first["results"] == [{"id": 1, "status": "applied"}]
    (read,) = notices(db, col(Notice.id) == uuid.UUID(notice_id))
    assert read.read_at is not None and abs(
        read.read_at.replace(tzinfo=None) - opened.replace(tzinfo=None)
    ) < timedelta(seconds=1)

    # The same mutation again (a lost response): replayed, nothing happens again.
    replay = worker.http.post(
        "/sync/push",
        json={
            "protocol": 1,
            "client_id": worker.client_id,
            "mutations": [
                {"id": 1, "name": "notice.read", "args": {"notice_id": notice_id}, "at": opened.isoformat()}
            ],
        },
    ).json()
    assert replay["results"] == [{"id": 1, "status": "applied", "replayed": True}]
    # Read again later (another tap, another device): applied, the first time kept, no new version.
    worker.queue("notice.read", {"notice_id": notice_id})
    worker.push()
    assert worker.results[2]["status"] == "applied"
    (after,) = notices(db, col(Notice.id) == uuid.UUID(notice_id))
    assert (after.read_at, after.version) == (read.read_at, read.version)
    worker.pull()
    assert worker.records("notice")[notice_id]["read_at"] is not None


def test_another_persons_notice_cannot_be_read(
    world: World, make: Factory, sync_phone: Any, db: Database
) -> None:
    demand = put_demand(db, world, "submitted")
    dispatch(db, make, world, demand)
    partners = notices(db, col(Notice.user_id) == world.users["partner"].id)
    worker = sync_phone(world.users["worker"])
    worker.queue("notice.read", {"notice_id": str(partners[0].id)})
    worker.queue("notice.read", {"notice_id": "nonsense"})
    worker.push()
    assert worker.results[1]["code"] == "not_found"
    assert worker.results[2]["code"] == "invalid_args"
    assert all(n.read_at is None for n in notices(db))
