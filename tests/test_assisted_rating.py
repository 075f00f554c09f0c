"""After 已送达 the resident rates the assisted application through the requests' honest
channels, and a 不满意 waits for the office's rectification (差评件件有回复、件件有整改)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import select

from server.access import Actor, Forbidden
from server.commands import assisted
from server.db import Database
from server.errors import InvalidInput, InvalidTransition
from server.models import AssistedApplication, AuditLog, User
from server.queries import assisted as queries
from tests import test_assisted
from tests.test_admin_pages import signed_in
from tests.test_assisted import STEP_DATA, World, create, state

world = test_assisted.world  # the fixture: a community, a grid, a resident, an item, every role

OFFICE_ROLES = {
    "community_staff": True,
    "admin": True,
    "grid_worker": False,
    "stranger": False,
    "department": False,
}


def delivered(db: Database, world: World) -> uuid.UUID:
    application_id = create(db, world)
    for step, role in (
        ("submit", "grid_worker"),
        ("complete", "community_staff"),
        ("deliver", "grid_worker"),
    ):
        with db.write() as s:
            assisted.take_step(
                s,
                actor=world.actors[role],
                step=step,
                data={"application_id": str(application_id), **STEP_DATA[step]},
            )
    return application_id


def load(db: Database, application_id: uuid.UUID) -> AssistedApplication:
    with db.read() as s:
        found = s.get(AssistedApplication, application_id)
        assert found is not None
        return found


@pytest.mark.parametrize(
    ("who", "channel"),
    [(None, "resident"), ("grid_worker", "proxy"), ("community_staff", "proxy")],
)
def test_the_link_rates_once_and_says_honestly_who_rated(
    db: Database, world: World, who: str | None, channel: str
) -> None:
    application_id = delivered(db, world)
    token = load(db, application_id).rating_token
    assert len(token) >= 24
    viewer = world.actors[who] if who else None
    with db.write() as s:
        assisted.rate_by_token(
            s, token=token, data={"rating": "satisfied", "comment": "很方便"}, viewer=viewer
        )
    done = load(db, application_id)
    assert (done.rating, done.rating_channel, done.rating_comment) == ("satisfied", channel, "很方便")
    assert done.rated_by == (viewer.id if viewer else None)
    assert done.rating_token == "" and done.history[-1]["kind"] == "rate"
    assert not assisted.needs_rectification(done)
    before = state(db)
    with pytest.raises(assisted.RatingLinkUsed), db.write() as s:
        assisted.rate_by_token(s, token=token, data={"rating": "dissatisfied"})
    assert state(db) == before


@pytest.mark.parametrize(("role", "allowed"), OFFICE_ROLES.items())
def test_who_may_record_a_phone_rating_and_answer_a_complaint(
    db: Database, world: World, role: str, allowed: bool
) -> None:
    application_id = delivered(db, world)
    actor: Actor = world.actors[role]
    data = {"application_id": str(application_id), "rating": "dissatisfied", "comment": "跑了两趟"}
    before = state(db)
    if not allowed:
        with pytest.raises(Forbidden), db.write() as s:
            assisted.rate_by_phone(s, actor=actor, data=data)
        assert state(db) == before
        with db.write() as s:
            assisted.rate_by_phone(s, actor=world.actors["community_staff"], data=data)
        before = state(db)
        with pytest.raises(Forbidden), db.write() as s:
            assisted.answer_rectification(
                s, actor=actor, data={"application_id": str(application_id), "answer": "已整改"}
            )
        assert state(db) == before
        return
    with db.write() as s:
        assisted.rate_by_phone(s, actor=actor, data=data)
    rated = load(db, application_id)
    assert (rated.rating, rated.rating_channel, rated.rated_by) == ("dissatisfied", "phone", actor.id)
    assert assisted.needs_rectification(rated)
    with db.read() as s:
        figures = queries.ratings(s, world.actors["community_staff"])
        assert (figures.rated, figures.dissatisfied, [a.id for a in figures.to_rectify]) == (
            1,
            1,
            [application_id],
        )
    before = state(db)
    with pytest.raises(InvalidInput) as empty, db.write() as s:
        assisted.answer_rectification(
            s, actor=actor, data={"application_id": str(application_id), "answer": ""}
        )
    assert state(db) == before and empty.value.errors
    answer = "已向窗口核实，材料一次告知不全，已改进清单并上门致歉"
    with db.write() as s:
        assisted.answer_rectification(
            s, actor=actor, data={"application_id": str(application_id), "answer": answer}
        )
    done = load(db, application_id)
    assert (done.rectification, done.rectified_by) == (answer, actor.id) and done.rectified_at is not None
    assert [h["kind"] for h in done.history][-2:] == ["rate", "rectify"]
    with db.read() as s:
        assert queries.ratings(s, world.actors["community_staff"]).to_rectify == []
        actions = set(s.exec(select(AuditLog.action).where(AuditLog.record_id == str(application_id))))
        assert {"assisted.rate", "assisted.rectify"} <= actions
    before = state(db)
    with pytest.raises(InvalidTransition), db.write() as s:
        assisted.answer_rectification(
            s, actor=actor, data={"application_id": str(application_id), "answer": "再答"}
        )
    assert state(db) == before


@pytest.mark.parametrize("status_steps", [(), ("submit",), ("submit", "complete")])
def test_only_a_delivered_application_is_rated(
    db: Database, world: World, status_steps: tuple[str, ...]
) -> None:
    application_id = create(db, world)
    for step in status_steps:
        with db.write() as s:
            assisted.take_step(
                s,
                actor=world.actors["community_staff"],
                step=step,
                data={"application_id": str(application_id), **STEP_DATA[step]},
            )
    assert load(db, application_id).rating_token == ""
    before = state(db)
    with pytest.raises(InvalidTransition), db.write() as s:
        assisted.rate_by_phone(
            s,
            actor=world.actors["community_staff"],
            data={"application_id": str(application_id), "rating": "satisfied"},
        )
    assert state(db) == before
    with pytest.raises(InvalidTransition), db.write() as s:
        assisted.answer_rectification(
            s,
            actor=world.actors["community_staff"],
            data={"application_id": str(application_id), "answer": "x"},
        )


def test_the_resident_rates_from_the_link_and_staff_answer_the_complaint_on_the_office_pages(
    app: Any, client: Any, db: Database, world: World
) -> None:
    application_id = delivered(db, world)
    token = load(db, application_id).rating_token
    with db.read() as s:
        staff_user = s.get(User, world.actors["community_staff"].id)
    assert staff_user is not None
    office, csrf = signed_in(app, staff_user)
    page = office.get(f"/assisted/{application_id}").text
    assert f"/ra/{token}" in page and "<svg" in page and "电话回访记录评价" in page

    form = client.get(f"/ra/{token}")
    assert form.status_code == 200 and "请评价代办结果" in form.text and "data-proxy" not in form.text
    anonymous_csrf = client.cookies.get("csrf") or ""
    fields = {"csrf_token": anonymous_csrf, "rating": "dissatisfied", "comment": "材料没一次说清"}
    if 'name="csrf_token"' in form.text:
        fields["csrf_token"] = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    bad = client.post(f"/ra/{token}", data={**fields, "rating": "great"})
    assert bad.status_code == 400 and load(db, application_id).rating is None
    rated = client.post(f"/ra/{token}", data=fields)
    assert rated.status_code == 200 and "很抱歉" in rated.text
    done = load(db, application_id)
    assert (done.rating, done.rating_channel, done.rated_by) == ("dissatisfied", "resident", None)
    assert client.get(f"/ra/{token}").status_code == 404

    queue = office.get("/assisted").text
    assert (
        '<span class="figure" id="count-to-rectify">1</span>' in queue
        and f'data-rectify="{application_id}"' in queue
    )
    detail = office.get(f"/assisted/{application_id}").text
    assert 'action="/assisted/' in detail and "/rectification" in detail and "材料没一次说清" in detail
    empty = office.post(f"/assisted/{application_id}/rectification", data={"csrf_token": csrf, "answer": ""})
    assert empty.status_code == 400 and load(db, application_id).rectified_at is None
    answered = office.post(
        f"/assisted/{application_id}/rectification",
        data={"csrf_token": csrf, "answer": "已改进一次性告知清单，上门致歉"},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    assert '<span class="figure" id="count-to-rectify">0</span>' in office.get("/assisted").text
    assert "已改进一次性告知清单" in office.get(f"/assisted/{application_id}").text
    office.close()
