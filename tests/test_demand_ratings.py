"""Honest ratings (issue 20): every rating says how it reached us and who recorded it; a rating
link opened where someone is signed in is their 代录, never the resident's own; the office
may hold a handler's own 满意 for a phone call-back; the dashboard shows the channels."""

from __future__ import annotations

from typing import Any

import pytest
from defusedxml import ElementTree as DET
from sqlmodel import select
from starlette.testclient import TestClient

from server import preferences
from server.commands import demands as dm
from server.db import Database
from server.models import AuditLog, Community, DemandStatus
from server.queries import demands as queries
from server.web.qr import qr_svg_file
from tests.conftest import Factory, login
from tests.test_demands import World, build_world, dm_actor, put_demand, reload
from tests.test_public_form import anonymous_csrf

S = DemandStatus


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


def rate_link(client: TestClient, token: str, rating: str = "satisfied") -> Any:
    csrf = anonymous_csrf(client, f"/r/{token}")
    return client.post(f"/r/{token}", data={"csrf_token": csrf, "rating": rating})


def test_a_link_opened_with_no_session_is_the_residents_own(
    client: TestClient, world: World, db: Database
) -> None:
    demand = put_demand(db, world, S.resolved, answer="已修好")
    assert "data-proxy" not in client.get(f"/r/{demand.rating_token}").text
    assert rate_link(client, demand.rating_token).status_code == 200
    after = reload(db, demand.id)
    assert (after.status, after.rating, after.rating_channel, after.rated_by) == (
        S.closed,
        "satisfied",
        "resident",
        None,
    )


def test_a_link_opened_where_the_handler_is_signed_in_is_recorded_as_theirs(
    client: TestClient, world: World, db: Database
) -> None:
    demand = put_demand(db, world, S.resolved, answer="已修好")
    worker = world.users["worker"]  # the one who handled it (put_demand makes them the assignee)
    login(client, worker)
    page = client.get(f"/r/{demand.rating_token}").text
    assert "data-proxy" in page and "记为您的代录" in page
    assert rate_link(client, demand.rating_token).status_code == 200
    after = reload(db, demand.id)
    assert (after.rating_channel, after.rated_by) == ("proxy", worker.id)
    with db.read() as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "demand.rate_link")).one()
    assert audit.actor_id == worker.id and audit.detail["channel"] == "proxy"


@pytest.mark.parametrize("who", ["colleague", "staff", "other_worker"])
def test_a_link_opened_where_anyone_is_signed_in_is_never_the_residents_own(
    client: TestClient, world: World, db: Database, make: Factory, who: str
) -> None:
    """Not only the handler: a colleague of the grid, the office, anyone signed in records a 代录
    under their own name, and the held 满意 of the setting applies to the handler alone."""
    with db.write() as s:
        preferences.set(s, "demand.callback", "handler_satisfied", dm_actor(db, world, "staff"))
    demand = put_demand(db, world, S.resolved, answer="已修好")
    viewer = make.user("grid_worker", grids=[world.grid]) if who == "colleague" else world.users[who]
    login(client, viewer)
    assert "data-proxy" in client.get(f"/r/{demand.rating_token}").text
    assert rate_link(client, demand.rating_token).status_code == 200
    after = reload(db, demand.id)
    assert (after.status, after.rating_channel, after.rated_by) == (S.closed, "proxy", viewer.id)
    client.cookies.clear()
    assert client.get(f"/r/{demand.rating_token}").status_code == 404  # used up: no second, "own" rating


def test_the_worker_records_at_a_visit_and_staff_call_back(world: World, db: Database) -> None:
    visited, called = put_demand(db, world, S.resolved), put_demand(db, world, S.replied)
    with db.write() as s:
        dm.rate_demand(
            s, actor=dm_actor(db, world, "worker"), data={"demand_id": str(visited.id), "rating": "satisfied"}
        )
        dm.rate_demand(
            s,
            actor=dm_actor(db, world, "staff"),
            data={"demand_id": str(called.id), "rating": "basically_satisfied"},
        )
    a, b = reload(db, visited.id), reload(db, called.id)
    assert (a.status, a.rating_channel, a.rated_by) == (S.closed, "visit", world.users["worker"].id)
    assert (b.status, b.rating_channel, b.rated_by) == (S.closed, "phone", world.users["staff"].id)


def test_the_office_may_hold_a_handlers_own_satisfied_rating_for_a_call_back(
    client: TestClient, world: World, db: Database
) -> None:
    staff = dm_actor(db, world, "staff")
    with db.write() as s:
        preferences.set(s, "demand.callback", "handler_satisfied", staff)
    mine, unhappy = put_demand(db, world, S.resolved), put_demand(db, world, S.resolved)
    worker = dm_actor(db, world, "worker")
    with db.write() as s:
        dm.rate_demand(s, actor=worker, data={"demand_id": str(mine.id), "rating": "satisfied"})
        dm.rate_demand(s, actor=worker, data={"demand_id": str(unhappy.id), "rating": "dissatisfied"})
    held = reload(db, mine.id)
    assert (held.status, held.rating, held.rating_channel, held.closed_at) == (
        S.resolved,
        "satisfied",
        "visit",
        None,
    )
    assert held.rating_token  # the resident may still answer for themselves
    assert reload(db, unhappy.id).status == S.rectifying  # a 差评 is never held
    login(client, world.users["staff"])  # the office finds what waits for its call
    assert 'data-figure="awaiting-callback">1<' in client.get("/demands/dashboard").text
    answered = client.get("/demands?view=answered").text
    assert answered.count("data-callback") == 1 and f"/demands/{mine.id}" in answered
    with db.write() as s:
        dm.rate_demand(s, actor=staff, data={"demand_id": str(mine.id), "rating": "satisfied"})
    called = reload(db, mine.id)
    assert (called.status, called.rating_channel, called.rated_by) == (
        S.closed,
        "phone",
        world.users["staff"].id,
    )
    assert 'data-figure="awaiting-callback">0<' in client.get("/demands/dashboard").text


def test_the_dashboard_counts_the_ratings_by_channel(client: TestClient, world: World, db: Database) -> None:
    demands = [put_demand(db, world, S.resolved) for _ in range(3)]
    rate_link(client, demands[0].rating_token)
    with db.write() as s:
        dm.rate_demand(
            s,
            actor=dm_actor(db, world, "worker"),
            data={"demand_id": str(demands[1].id), "rating": "satisfied"},
        )
        dm.rate_demand(
            s,
            actor=dm_actor(db, world, "staff"),
            data={"demand_id": str(demands[2].id), "rating": "satisfied"},
        )
    with db.read() as s:
        community = s.get(Community, world.grid.community_id)
        assert community is not None
        board = queries.dashboard(s, community)
    assert board.rating_channels == {"resident": 1, "visit": 1, "phone": 1}
    login(client, world.users["staff"])
    page = client.get("/demands/dashboard").text
    assert "居民本人 1（33%）" in page and "入户代录 1（33%）" in page and "电话回访 1（33%）" in page


def test_the_handler_shows_the_resident_a_qr_of_their_link(
    client: TestClient, world: World, db: Database
) -> None:
    demand = put_demand(db, world, S.resolved, answer="已修好")
    login(client, world.users["worker"])
    qr = client.get(f"/demands/{demand.id}/rating-qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.headers["cache-control"] == "no-store"
    # A file an <img> can draw (inline SVG without its namespace draws nothing), of the resident's link.
    assert DET.fromstring(qr.content).tag == "{http://www.w3.org/2000/svg}svg"
    assert qr.content == qr_svg_file(f"http://testserver/r/{demand.rating_token}", scale=6)
    other = TestClient(client.app)
    login(other, world.users["other_worker"])
    assert other.get(f"/demands/{demand.id}/rating-qr.svg").status_code == 404  # not their grid
    other.close()
    client.cookies.clear()
    assert rate_link(client, demand.rating_token).status_code == 200
    login(client, world.users["worker"])
    assert client.get(f"/demands/{demand.id}/rating-qr.svg").status_code == 404  # the link is used up
