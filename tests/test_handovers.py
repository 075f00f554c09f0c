"""No work stranded by a grid change (sync/handover.py, server/commands/handovers.py, `/handovers`):
an offline edit of a record that moved out of the worker's scope is handed over to its new holder,
who applies it or dismisses it with a reason; the old phone hears "已转交给 X 处理"."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import select
from starlette.testclient import TestClient

from server.commands.households import move_household
from server.db import Database
from server.models import Handover, Household, Notice, Visit
from sync.client import Client
from tests.conftest import Factory, login
from tests.test_sync_push import visit_args


def move(db: Database, make: Factory, staff: Any, household: Household, grid: Any) -> None:
    actor = make.actor(staff)
    with db.write() as s:
        row = s.get(Household, household.id)
        assert row is not None
        move_household(s, actor=actor, household=row, grid_id=grid.id)


def handovers(db: Database) -> list[Handover]:
    with db.read() as s:
        return list(s.exec(select(Handover).order_by(Handover.mutation_id)))


@pytest.fixture
def moved(sync_phone: Any, make: Factory, db: Database) -> dict[str, Any]:
    """A worker's phone holding an edit and a visit of a household, made offline; then the
    household moved to the west grid."""
    community = make.community()
    east, west = make.grid(community, name="东门"), make.grid(community, name="西门")
    home = make.household(east)
    old, new = make.user(grids=[east]), make.user(grids=[west])
    staff = make.user("community_staff", community=community)
    phone: Client = sync_phone(old)
    phone.pull()
    version = phone.store[("household", str(home.id))]["version"]
    phone.queue(
        "household.update", {"household_id": str(home.id), "base_version": version, "set": {"notes": "独居"}}
    )
    phone.queue("visit.record", visit_args(home, notes="离线走访"))
    move(db, make, staff, home, west)
    return {"phone": phone, "home": home, "west": west, "old": old, "new": new}


def test_edits_of_a_household_moved_away_are_handed_over_not_refused(
    moved: dict[str, Any], make: Factory, db: Database
) -> None:
    phone, west, old, new = moved["phone"], moved["west"], moved["old"], moved["new"]
    # Never this worker's: a plain refusal, no handover.
    phone.queue("visit.record", visit_args(make.household(west), notes="走错门"))
    answer = phone.push()
    assert answer is not None
    first, second, third = answer["results"]
    for result in (first, second):
        assert (result["status"], result["code"]) == ("rejected", "out_of_scope")  # SYNC.md rule 10
        assert result["handed_to"] == f"西门网格员{new.display_name}"
        assert result["message"] == f"已转交给 西门网格员{new.display_name} 处理。"
    assert third["code"] == "out_of_scope" and "handover_id" not in third
    rows = handovers(db)
    assert [(r.name, r.from_user_id, r.grid_id, str(r.id)) for r in rows] == [
        ("household.update", old.id, west.id, first["handover_id"]),
        ("visit.record", old.id, west.id, second["handover_id"]),
    ]
    # A replay answers the same, and hands nothing over twice.
    phone.outbox = [
        {"id": 1, **{k: v for k, v in rows[0].model_dump().items() if k in ("name", "args")}, "at": None}
    ]
    again = phone.push()
    assert again is not None and again["results"][0]["handover_id"] == first["handover_id"]
    assert len(handovers(db)) == 2
    # The new holder is told in their inbox, once per handover; the old worker is told by the answer.
    with db.read() as s:
        told = list(s.exec(select(Notice).where(Notice.kind == "handover_waiting")))
    assert sorted((n.user_id, n.link, n.subject_id) for n in told) == sorted(
        (new.id, "/handovers", uuid.UUID(r["handover_id"])) for r in (first, second)
    )
    assert all(n.title == "有一条修改转交给您处理" and old.display_name in n.body for n in told)


def office(app: Any, user: Any) -> tuple[TestClient, str]:
    http = TestClient(app, follow_redirects=False)
    return http, str(login(http, user)["csrf_token"])


def test_the_new_holder_applies_one_and_dismisses_the_other_with_a_reason(
    moved: dict[str, Any], make: Factory, db: Database, app: Any
) -> None:
    home, west, old, new = moved["home"], moved["west"], moved["old"], moved["new"]
    moved["phone"].push()
    update, visit = handovers(db)

    http, csrf = office(app, new)
    with http:
        page = http.get("/handovers")
        assert page.status_code == 200
        assert f'id="handover-{update.id}"' in page.text and f'id="handover-{visit.id}"' in page.text
        assert f"{old.display_name} 于" in page.text and "离线走访" in page.text
        applied = http.post(f"/handovers/{visit.id}/apply", data={"csrf_token": csrf})
        assert applied.status_code == 303
        blank = http.post(f"/handovers/{update.id}/dismiss", data={"csrf_token": csrf, "reason": "  "})
        assert blank.status_code == 400 and "请写明不采用的原因" in blank.text
        dismissed = http.post(
            f"/handovers/{update.id}/dismiss", data={"csrf_token": csrf, "reason": "已电话核实，不是独居"}
        )
        assert dismissed.status_code == 303
        twice = http.post(f"/handovers/{visit.id}/apply", data={"csrf_token": csrf})
        assert twice.status_code == 409 and "已经处理过了" in twice.text
        assert f'id="handover-{visit.id}"' not in http.get("/handovers").text
    with db.read() as s:
        made = s.exec(select(Visit).where(Visit.household_id == home.id)).one()
        assert (made.notes, made.worker_id, made.grid_id) == (
            "离线走访",
            old.id,
            west.id,
        )  # still the old worker's visit
        household = s.get(Household, home.id)
        assert household is not None and household.notes != "独居"
    assert [(r.status, r.reason, r.resolved_by) for r in handovers(db)] == [
        ("dismissed", "已电话核实，不是独居", new.id),
        ("applied", "", new.id),
    ]
    # Someone of another community sees none of it.
    outsider = make.user("community_staff", community=make.community())
    other, token = office(app, outsider)
    with other:
        assert f"handover-{update.id}" not in other.get("/handovers").text
        assert (
            other.post(
                f"/handovers/{update.id}/dismiss", data={"csrf_token": token, "reason": "x"}
            ).status_code
            == 404
        )


ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("edit"), st.integers(0, 1), st.integers(0, 2)),
        st.tuples(st.just("visit"), st.integers(0, 1), st.integers(0, 2)),
        st.tuples(st.just("move"), st.integers(0, 1), st.integers(0, 2)),
        st.tuples(st.just("push"), st.integers(0, 1), st.just(0)),
        st.tuples(st.just("pull"), st.integers(0, 1), st.just(0)),
    ),
    min_size=1,
    max_size=20,
)


def test_across_random_reassignments_every_mutation_ends_applied_conflicted_or_handed_over(
    app: Any, make: Factory, db: Database
) -> None:
    """However grids are reassigned between offline edits, no pushed mutation is refused
    without a handover: each ends applied, conflict, or rejected out_of_scope and handed over."""
    community = make.community()
    grids = [make.grid(community), make.grid(community)]
    homes = [make.household(grids[0]) for _ in range(3)]
    staff = make.user("community_staff", community=community)
    workers = [make.user(grids=[grids[0]]), make.user(grids=[grids[1]])]
    https = []
    for worker in workers:
        http = TestClient(app)
        login(http, worker)
        https.append(http)

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(ACTIONS)
    @example([("edit", 0, 0), ("visit", 0, 0), ("move", 0, 0), ("edit", 1, 0), ("push", 0, 0)])
    def run(actions: list[tuple[str, int, int]]) -> None:
        phones = [Client(http=h) for h in https]
        for p in phones:
            p.pull()
        for kind, i, n in actions:
            p, home = phones[i], homes[n]
            if kind == "move":
                with db.read() as s:
                    now = s.get(Household, home.id)
                    assert now is not None
                    target = grids[1] if now.grid_id == grids[0].id else grids[0]
                move(db, make, staff, home, target)
            elif kind in ("edit", "visit") and ("household", str(home.id)) in p.store:
                if kind == "edit":
                    version = p.store[("household", str(home.id))]["version"]
                    set_ = {"notes": f"备注{uuid.uuid4().hex[:6]}"}
                    p.queue(
                        "household.update",
                        {"household_id": str(home.id), "base_version": version, "set": set_},
                    )
                else:
                    p.queue("visit.record", visit_args(home, notes="走访"))
            elif kind == "push":
                p.push()
            elif kind == "pull":
                p.pull()
        for p in phones:
            p.sync()
            assert not p.outbox
            kept = {str(h.id) for h in handovers(db) if h.client_id == uuid.UUID(p.client_id)}
            for result in p.results.values():
                if result["status"] == "rejected":
                    assert result["code"] == "out_of_scope", result
                    assert result.get("handover_id") in kept, result
                else:
                    assert result["status"] in ("applied", "conflict"), result

    try:
        run()
        assert handovers(db)  # the explicit example hands over at least its two edits
    finally:
        for http in https:
            http.close()


def test_the_handover_page_is_for_holders(client: TestClient, make: Factory) -> None:
    login(client, make.user("department"))
    assert client.get("/handovers").status_code == 403
