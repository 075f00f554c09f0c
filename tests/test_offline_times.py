"""Work done offline is dated when the worker did it (the mutation's `at`), not when it synced
(issue 16, point 7): steps taken one after another on a phone keep their own moments even
though they reach the server together; the server's order stays in the versions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from server.clock import aware
from server.commands import demands as dm
from server.db import Database
from server.models import Conflict, Demand, DemandEvent, Household, TravelCard, TravelCardEvent, utcnow
from tests.conftest import Factory
from tests.test_travel_cards import COMPLETE, JPEG, PHOTO


def morning() -> datetime:
    """Three hours ago, to the second: the worker's 9:00 at the door, synced at noon."""
    return utcnow().replace(microsecond=0) - timedelta(hours=3)


def test_a_card_made_and_submitted_offline_keeps_the_moment_of_submission(
    make: Factory, db: Database, sync_phone: Any
) -> None:
    grid = make.grid()
    resident = make.resident(make.household(grid), born=datetime(1950, 3, 1).date())
    worker = sync_phone(make.user("grid_worker", grids=[grid]))
    worker.upload(JPEG)
    card_id, at = str(uuid.uuid4()), morning()
    args = {"application_id": card_id, "resident_id": str(resident.id), "delivery": "collect"}
    worker.queue(
        "travel_card.create", args | {"residence": "hukou", "checklist": COMPLETE, "photo": PHOTO}, at=at
    )
    worker.queue("travel_card.submit", {"application_id": card_id}, at=at + timedelta(minutes=2))
    worker.push()
    assert [r["status"] for r in worker.results.values()] == ["applied", "applied"]
    with db.read() as s:
        card = s.get(TravelCard, uuid.UUID(card_id))
        assert card is not None and card.submitted_at is not None
        assert aware(card.submitted_at) == at + timedelta(minutes=2)
        events = s.exec(select(TravelCardEvent).where(TravelCardEvent.application_id == card.id)).all()
        assert {e.kind: aware(e.at) for e in events} == {"created": at, "submit": at + timedelta(minutes=2)}


def test_steps_of_a_request_taken_offline_keep_their_own_moments(
    make: Factory, db: Database, sync_phone: Any
) -> None:
    grid = make.grid()
    user = make.user("grid_worker", grids=[grid])
    staff = make.actor(make.user("community_staff"))
    demand_id, at = uuid.uuid4(), morning()
    created = {"demand_id": str(demand_id), "grid_id": str(grid.id), "field": "infrastructure"}
    with db.write() as s:
        dm.create_demand(
            s,
            actor=staff,
            data=created | {"description": "路灯坏了", "source": "hotline"},
            at=at - timedelta(hours=1),
        )
    with db.write() as s:
        dispatch = {"demand_id": str(demand_id), "grid_id": str(grid.id), "handling_type": "self"}
        dm.dispatch_demand(s, actor=staff, data=dispatch, at=at - timedelta(minutes=30))
    phone = sync_phone(user)
    phone.queue("demand.accept", {"demand_id": str(demand_id)}, at=at)
    phone.queue(
        "demand.progress", {"demand_id": str(demand_id), "note": "已报修"}, at=at + timedelta(minutes=5)
    )
    phone.queue(
        "demand.resolve", {"demand_id": str(demand_id), "note": "已修好"}, at=at + timedelta(minutes=9)
    )
    phone.push()
    assert {r["status"] for r in phone.results.values()} == {"applied"}
    with db.read() as s:
        demand = s.get(Demand, demand_id)
        assert demand is not None and demand.accepted_at is not None and demand.resolved_at is not None
        assert aware(demand.created_at) == at - timedelta(hours=1)  # 登记时间
        assert (aware(demand.accepted_at), aware(demand.resolved_at)) == (at, at + timedelta(minutes=9))
        events = s.exec(
            select(DemandEvent).where(DemandEvent.demand_id == demand_id).order_by(col(DemandEvent.version))
        )
        assert [(e.kind, aware(e.at)) for e in events] == [
            ("created", at - timedelta(hours=1)),
            ("dispatched", at - timedelta(minutes=30)),
            ("accepted", at),
            ("progress", at + timedelta(minutes=5)),
            ("resolved", at + timedelta(minutes=9)),
        ]


def test_a_request_taken_down_offline_is_registered_at_that_moment(
    make: Factory, db: Database, sync_phone: Any
) -> None:
    grid = make.grid()
    household = make.household(grid)
    phone = sync_phone(make.user("grid_worker", grids=[grid]))
    demand_id, at = str(uuid.uuid4()), morning()
    args = {"demand_id": demand_id, "household_id": str(household.id), "field": "infrastructure"}
    phone.queue("demand.create", args | {"description": "楼道灯不亮", "source": "visit"}, at=at)
    phone.push()
    with db.read() as s:
        demand = s.get(Demand, uuid.UUID(demand_id))
        assert demand is not None and aware(demand.created_at) == at


def test_a_conflict_is_dated_when_the_worker_made_the_change(
    make: Factory, db: Database, sync_phone: Any
) -> None:
    grid = make.grid()
    household = make.household(grid)
    here, there = (sync_phone(make.user("grid_worker", grids=[grid])) for _ in range(2))
    at = morning()
    base = {"household_id": str(household.id), "base_version": household.version}
    there.queue("household.update", base | {"set": {"notes": "一楼东户"}})
    there.push()
    here.queue("household.update", base | {"set": {"notes": "二楼西户"}}, at=at)
    here.push()
    assert here.results[1]["status"] == "conflict"
    with db.read() as s:
        conflict = s.exec(select(Conflict).where(Conflict.record_id == household.id)).one()
        assert aware(conflict.created_at) == at
        assert s.get(Household, household.id).notes == "一楼东户"  # type: ignore[union-attr]
