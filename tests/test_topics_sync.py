"""议事 at the door through `/sync/push` and `/sync/pull`: the grid's phones hold the community's
topics, record one changeable opinion per household per topic, idempotently; refusals change
nothing. SQLite and, with DOORSTEP_TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import select

from server.commands import topics as commands
from server.db import Database
from server.models import Opinion, Topic
from tests.conftest import Factory


def test_a_worker_records_one_changeable_opinion_per_household_and_phones_pull_it(
    make: Factory, db: Database, sync_phone: Any
) -> None:
    grid, other_grid = make.grid(name="一网格"), make.grid(name="二网格")
    community = make.defaults["community"]
    home, neighbour = make.household(grid, building="3栋"), make.household(grid, building="4栋")
    elsewhere = make.household(other_grid)
    worker = make.user("grid_worker", grids=[grid])
    colleague = make.user("grid_worker", grids=[grid])
    staff = make.user("community_staff", community=community)
    department = make.user("department")
    with db.write() as session:
        shed = commands.create_topic(session, actor=make.actor(staff), data={"title": "建电动车充电棚"})
        local = commands.create_topic(
            session, actor=make.actor(staff), data={"title": "二网格的事", "grid_id": str(other_grid.id)}
        )
        done = Topic(community_id=community.id, title="已经办完", status="closed")
        session.add(done)

    phone = sync_phone(worker)
    phone.pull()
    assert set(phone.records("topic")) == {str(shed.id), str(local.id), str(done.id)}
    ask = {
        "topic_id": str(shed.id),
        "household_id": str(home.id),
        "stance": "conditional",
        "comment": "要装灭火器",
    }
    first = phone.queue("topic.opinion", ask)
    again = phone.queue("topic.opinion", ask)  # pressed twice: one opinion
    changed = phone.queue("topic.opinion", ask | {"stance": "for", "comment": ""})
    refused = [
        phone.queue("topic.opinion", ask | {"topic_id": str(done.id)}),
        phone.queue("topic.opinion", ask | {"household_id": str(elsewhere.id)}),
        phone.queue("topic.opinion", ask | {"topic_id": str(local.id)}),
        phone.queue("topic.opinion", ask | {"stance": "maybe"}),
    ]
    phone.push()
    assert [phone.results[i]["status"] for i in (first, again, changed)] == ["applied"] * 3
    assert [(phone.results[i]["status"], phone.results[i]["code"]) for i in refused] == [
        ("rejected", "invalid_transition"),
        ("rejected", "out_of_scope"),
        ("rejected", "invalid_args"),
        ("rejected", "invalid_args"),
    ]
    with db.read() as session:
        (opinion,) = session.exec(select(Opinion)).all()
    assert (opinion.household_id, opinion.stance, opinion.comment, opinion.channel) == (
        home.id,
        "for",
        "",
        "door",
    )
    assert opinion.id == commands.opinion_id(shed.id, home.id)

    # A colleague's phone records the neighbour and pulls both; the department pulls none.
    other = sync_phone(colleague)
    other.pull()
    other.queue("topic.opinion", ask | {"household_id": str(neighbour.id), "stance": "against"})
    other.push()
    other.pull()
    phone.pull()
    for held in (phone, other):
        stances = {r["household_id"]: r["stance"] for r in held.records("opinion").values()}
        assert stances == {str(home.id): "for", str(neighbour.id): "against"}
    forbidden = sync_phone(department)
    forbidden.pull()
    assert not any(forbidden.records(kind) for kind in ("topic", "opinion", "meeting"))
    mid = forbidden.queue("topic.opinion", ask)
    forbidden.push()
    assert forbidden.results[mid]["code"] == "forbidden"


def test_a_worker_raises_a_topic_at_the_door_once_whatever_the_resends(
    make: Factory, db: Database, sync_phone: Any
) -> None:
    grid = make.grid()
    home = make.household(grid)
    worker = make.user("grid_worker", grids=[grid])
    phone = sync_phone(worker)
    phone.pull()
    topic_id = str(uuid.uuid4())
    args = {"topic_id": topic_id, "title": "楼道堆物", "source": "visit", "household_id": str(home.id)}
    first, again = phone.queue("topic.create", args), phone.queue("topic.create", args)
    reused = phone.queue("topic.create", args | {"title": "另一件事"})
    phone.push()
    assert [phone.results[i]["status"] for i in (first, again)] == ["applied", "applied"]
    assert phone.results[reused]["code"] == "id_reused"
    phone.pull()
    (topic,) = phone.records("topic").values()
    assert (topic["title"], topic["grid_id"], topic["source"], topic["status"]) == (
        "楼道堆物",
        str(grid.id),
        "visit",
        "collecting",
    )
    with db.read() as session:
        assert len(session.exec(select(Topic)).all()) == 1
