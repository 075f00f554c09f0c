"""No time a phone sends, nor one already stored, may break a page (docs/sync.md "Times")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select
from starlette.testclient import TestClient

from server.clock import aware
from server.db import Database
from server.models import Household, Visit, utcnow
from tests.conftest import Factory, login
from tests.test_sync_poison import worker_at_door
from tests.test_sync_push import body, visit_args


def pushed_visit(client: TestClient, household: Household, at: str, mid: int) -> dict[str, Any]:
    mutation = {"id": mid, "name": "visit.record", "args": visit_args(household), "at": at}
    response = client.post("/sync/push", json=body(CLIENT, mutation))
    assert response.status_code == 200, response.text
    return response.json()["results"][0]  # type: ignore[no-any-return]


CLIENT = str(uuid.uuid4())


def visit_times(db: Database) -> list[datetime]:
    with db.read() as s:
        return sorted(aware(v.at) for v in s.exec(select(Visit)))


def test_a_visit_from_the_far_future_or_past_is_refused_and_a_future_one_is_clamped(
    client: TestClient, make: Factory, db: Database
) -> None:
    household = worker_at_door(client, make)
    assert pushed_visit(client, household, "9999-12-31T23:59:59Z", 1)["code"] == "invalid_args"
    assert pushed_visit(client, household, "0001-01-01T00:00:00Z", 2)["code"] == "invalid_args"
    before = utcnow()
    assert pushed_visit(client, household, "2150-06-01T09:00:00+08:00", 3)["status"] == "applied"
    assert pushed_visit(client, household, "1970-01-01T08:00:00+08:00", 4)["status"] == "applied"
    early, clamped = visit_times(db)
    assert early == datetime(1970, 1, 1, tzinfo=UTC)  # a reset phone clock: kept, no floor
    assert before <= clamped <= utcnow()  # never in the future


def stored_visit(db: Database, household: Household, at: datetime) -> None:
    """A visit written before times were checked, straight into the table."""
    with db.write() as s:
        s.add(
            Visit(
                household_id=household.id,
                community_id=household.community_id,
                grid_id=household.grid_id,
                at=at,
                notes="旧数据",
            )
        )


def test_pages_and_the_pull_answer_with_visits_at_the_ends_of_the_calendar(
    app: Any, make: Factory, db: Database
) -> None:
    grid = make.grid()
    household = make.household(grid)
    worker = make.user(grids=[grid])
    staff = make.user("community_staff", community=make._community_of(grid))
    for at in (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)):
        stored_visit(db, household, at)
    stored_visit(db, household, utcnow() - timedelta(days=1))
    with TestClient(app) as phone, TestClient(app) as office:
        login(phone, worker)
        login(office, staff)
        for pushed, at in enumerate(("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"), start=1):
            mutation = {"id": pushed, "name": "visit.record", "args": visit_args(household), "at": at}
            assert phone.post("/sync/push", json=body(CLIENT, mutation)).status_code == 200
        for user_client in (phone, office):
            for url in (f"/households/{household.id}", "/households", "/", "/demands/dashboard"):
                response = user_client.get(url)
                assert response.status_code in (200, 403), (url, response.status_code)
            assert user_client.get(f"/households/{household.id}").status_code == 200
        assert "旧数据" in office.get(f"/households/{household.id}").text
        pulled = phone.post("/sync/pull", json={"protocol": 1, "client_id": CLIENT, "cursor": None})
        assert pulled.status_code == 200
        visits = [c for c in pulled.json()["changes"] if c["type"] == "visit"]
        assert len(visits) == 3
