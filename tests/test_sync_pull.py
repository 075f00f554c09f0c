"""`/sync/pull`, rules 9–13 of SYNC.md."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event
from sqlmodel import select
from starlette.testclient import TestClient

from server.db import Database
from server.models import AuditLog, Household
from sync import pull as pull_module
from tests.conftest import Factory, login
from tests.test_demands import build_world, put_demand
from tests.test_sync_push import visit_args


def test_first_pull_is_a_reset_with_the_scope_only(make: Factory, sync_phone: Any) -> None:
    mine, theirs = make.grid(), make.grid()
    h1 = make.household(mine)
    make.resident(h1, name="张三")
    make.household(theirs)
    a = sync_phone(make.user(grids=[mine]))
    a.pull()
    households = a.records("household")
    assert list(households) == [str(h1.id)]
    resident = next(iter(a.records("resident").values()))
    assert resident["name"] == "张三"
    assert resident["id_masked"].startswith("3601") and "*" in resident["id_masked"]
    assert "id_cipher" not in resident and "id_hash" not in resident and "field_versions" not in resident
    assert {"grid", "community"} <= {kind for kind, _ in a.store}


def test_rule9_changes_come_in_version_order_and_none_is_missed(
    make: Factory, sync_phone: Any, db: Database
) -> None:
    grid = make.grid()
    households = [make.household(grid) for _ in range(5)]
    a = sync_phone(make.user(grids=[grid]))
    a.pull()
    for h in households[:3]:
        a.queue("visit.record", visit_args(h))
    a.push()
    response = a.http.post(
        "/sync/pull", json={"protocol": 1, "client_id": a.client_id, "cursor": a.cursor}
    ).json()
    versions = [c["version"] for c in response["changes"]]
    assert versions == sorted(versions)
    assert sum(1 for c in response["changes"] if c["type"] == "visit") == 3
    assert int(response["cursor"].split(".")[1]) >= versions[-1]


def test_rule9_an_incremental_pull_with_nothing_new_is_empty(make: Factory, sync_phone: Any) -> None:
    grid = make.grid()
    make.household(grid)
    a = sync_phone(make.user(grids=[grid]))
    a.pull()
    response = a.http.post(
        "/sync/pull", json={"protocol": 1, "client_id": a.client_id, "cursor": a.cursor}
    ).json()
    assert response["changes"] == [] and response["reset"] is False and response["more"] is False
    assert response["cursor"] == a.cursor


def test_rule10_moving_a_household_sends_del_to_the_old_grid_and_put_to_the_new(
    make: Factory, sync_phone: Any, db: Database
) -> None:
    old, new = make.grid(), make.grid()
    household = make.household(old)
    resident = make.resident(household)
    staff = make.user("community_staff")
    a, b, s = sync_phone(make.user(grids=[old])), sync_phone(make.user(grids=[new])), sync_phone(staff)
    both = sync_phone(make.user(grids=[old, new]))
    for p in (a, b, s, both):
        p.pull()
    assert str(household.id) in a.records("household") and str(household.id) not in b.records("household")
    s.queue(
        "household.update",
        {
            "household_id": str(household.id),
            "base_version": household.version,
            "set": {"grid_id": str(new.id)},
        },
    )
    s.push()
    assert s.results[1]["status"] == "applied"
    for p in (a, b, s, both):
        p.pull()
    assert str(household.id) not in a.records("household")
    assert str(resident.id) not in a.records("resident")
    assert b.records("household")[str(household.id)]["grid_id"] == str(new.id)
    assert str(resident.id) in b.records("resident")
    assert str(household.id) in s.records("household")
    assert str(household.id) in both.records("household")  # del then put: kept


def test_rule10_a_late_edit_from_the_old_grid_is_rejected_out_of_scope(
    make: Factory, sync_phone: Any, db: Database
) -> None:
    old, new = make.grid(), make.grid()
    household = make.household(old)
    a = sync_phone(make.user(grids=[old]))
    a.pull()
    s = sync_phone(make.user("community_staff"))
    s.queue(
        "household.update",
        {
            "household_id": str(household.id),
            "base_version": household.version,
            "set": {"grid_id": str(new.id)},
        },
    )
    s.push()
    a.queue(
        "household.update",
        {
            "household_id": str(household.id),
            "base_version": household.version,
            "set": {"notes": "晚到的修改"},
        },
    )
    a.queue("visit.record", visit_args(household))
    a.push()
    assert [(a.results[i]["status"], a.results[i]["code"]) for i in (1, 2)] == [
        ("rejected", "out_of_scope")
    ] * 2
    with db.read() as session:
        assert session.get(Household, household.id).notes == ""  # type: ignore[union-attr]


def test_rule10_a_soft_deleted_record_pulls_as_del(make: Factory, sync_phone: Any, db: Database) -> None:
    grid = make.grid()
    household = make.household(grid)
    a = sync_phone(make.user(grids=[grid]))
    a.pull()
    with db.write() as session:
        row = session.get(Household, household.id)
        assert row is not None
        row.deleted_at = row.updated_at
    a.pull()
    assert str(household.id) not in a.records("household")


def test_rule11_an_unknown_cursor_or_changed_scope_resets(
    make: Factory, sync_phone: Any, db: Database
) -> None:
    g1, g2 = make.grid(), make.grid()
    make.household(g1)
    h2 = make.household(g2)
    worker = make.user(grids=[g1])
    a = sync_phone(worker)
    a.pull()
    garbage = a.http.post(
        "/sync/pull", json={"protocol": 1, "client_id": a.client_id, "cursor": "v1.999999.zzz"}
    ).json()
    assert garbage["reset"] is True
    from server.commands.users import assign_grids

    with db.write() as session:
        assign_grids(session, actor=None, user_id=worker.id, grid_ids=[g1.id, g2.id])
    again = a.http.post(
        "/sync/pull", json={"protocol": 1, "client_id": a.client_id, "cursor": a.cursor}
    ).json()
    assert again["reset"] is True
    assert str(h2.id) in {c["id"] for c in again["changes"]}


def test_rule11_reset_keeps_the_outbox(make: Factory, sync_phone: Any) -> None:
    grid = make.grid()
    household = make.household(grid)
    a = sync_phone(make.user(grids=[grid]))
    a.queue("visit.record", visit_args(household))
    a.cursor = "v1.1.bogus"
    a.pull()
    assert a.pending == 1


def test_rule12_pages_are_cut_and_applying_all_of_them_gives_the_scope(
    make: Factory, sync_phone: Any, db: Database, monkeypatch: Any
) -> None:
    monkeypatch.setattr(pull_module, "PAGE_CHANGES", 7)
    grid = make.grid()
    ids = {str(make.household(grid).id) for _ in range(20)}
    a = sync_phone(make.user(grids=[grid]))
    first = a.http.post("/sync/pull", json={"protocol": 1, "client_id": a.client_id, "cursor": None}).json()
    assert first["more"] is True and len(first["changes"]) == 7
    a.pull()
    assert set(a.records("household")) == ids


def test_a_download_from_scratch_says_how_many_records_it_carries(
    make: Factory, sync_phone: Any, monkeypatch: Any
) -> None:
    # Optional field `total` (docs/sync.md "Download progress"): on reset pages only, and the
    # puts of every page of the download add up to it.
    monkeypatch.setattr(pull_module, "PAGE_CHANGES", 7)
    grid = make.grid()
    for _ in range(12):
        make.resident(make.household(grid))
    a = sync_phone(make.user(grids=[grid]))
    body = {"protocol": 1, "client_id": a.client_id, "cursor": None}
    pages = [a.http.post("/sync/pull", json=body).json()]
    while pages[-1]["more"]:
        pages.append(a.http.post("/sync/pull", json={**body, "cursor": pages[-1]["cursor"]}).json())
    puts = sum(1 for page in pages for change in page["changes"] if change["op"] == "put")
    assert len(pages) >= 4
    assert pages[0]["total"] == puts >= 24
    assert all("total" not in page for page in pages[1:])
    assert "total" not in a.http.post("/sync/pull", json={**body, "cursor": pages[-1]["cursor"]}).json()


def test_rule12_pages_stay_under_the_byte_limit(make: Factory, sync_phone: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(pull_module, "PAGE_BYTES", 2000)
    grid = make.grid()
    for _ in range(10):
        make.household(grid, notes="备注" * 200)
    a = sync_phone(make.user(grids=[grid]))
    first = a.http.post("/sync/pull", json={"protocol": 1, "client_id": a.client_id, "cursor": None})
    assert first.json()["more"] is True
    assert len(first.content) < 2000 + 3000  # one change may cross the limit, never many
    a.pull()
    assert len(a.records("household")) == 10


def test_rule13_last_mutation_id_reflects_the_returned_data(make: Factory, sync_phone: Any) -> None:
    grid = make.grid()
    household = make.household(grid)
    a = sync_phone(make.user(grids=[grid]))
    a.queue("visit.record", visit_args(household))
    a.queue("visit.record", visit_args(household))
    body = {"protocol": 1, "client_id": a.client_id, "mutations": a.outbox}
    a.http.post("/sync/push", json=body)  # the response is "lost": the outbox still holds both
    assert a.pending == 2
    a.pull()
    assert a.last_mutation_id == 2  # both are in the data the pull returned ...
    assert len(a.records("visit")) == 2
    a.push()  # ... and a resend learns their outcomes as replays
    assert a.pending == 0
    assert [(a.results[i]["status"], a.results[i]["replayed"]) for i in (1, 2)] == [("applied", True)] * 2


def test_pull_refuses_bad_envelopes(client: TestClient, make: Factory) -> None:
    login(client, make.user(grids=[make.grid()]))
    for bad, code in [
        ({"protocol": 2, "client_id": str(uuid.uuid4()), "cursor": None}, "unsupported_protocol"),
        ({"protocol": 1, "client_id": "nope", "cursor": None}, "invalid_envelope"),
        ({"protocol": 1, "client_id": str(uuid.uuid4()), "cursor": 5}, "invalid_envelope"),
    ]:
        response = client.post("/sync/pull", json=bad)
        assert response.status_code == 400 and response.json()["error"] == code


def test_pull_is_gzipped_when_asked(make: Factory, sync_phone: Any) -> None:
    grid = make.grid()
    for _ in range(30):
        make.household(grid)
    a = sync_phone(make.user(grids=[grid]))
    response = a.http.post(
        "/sync/pull",
        json={"protocol": 1, "client_id": a.client_id, "cursor": None},
        headers={"Accept-Encoding": "gzip"},
    )
    assert response.headers.get("content-encoding") == "gzip"


def test_department_pulls_only_transferred_demands(make: Factory, sync_phone: Any, db: Database) -> None:
    from server.models import Demand

    grid = make.grid()
    dept, other = make.department(), make.department()
    make.household(grid)
    mine = Demand(
        community_id=grid.community_id,
        department_id=dept.id,
        field="infrastructure",
        description="路灯",
        source="phone",
        status="transferred",
    )
    theirs = Demand(
        community_id=grid.community_id,
        department_id=other.id,
        field="infrastructure",
        description="井盖",
        source="phone",
        status="transferred",
    )
    make._save(mine)
    make._save(theirs)
    d = sync_phone(make.user("department", department=dept))
    d.pull()
    assert set(d.records("demand")) == {str(mine.id)}
    assert d.records("household") == {}


def test_rule12_the_head_of_a_page_comes_before_its_changes(
    make: Factory, sync_phone: Any, monkeypatch: Any
) -> None:
    """The field app asks for the next page as soon as it has read the cursor off the
    front of the body (static/app/sync.js askPage): everything but `changes` leads."""
    monkeypatch.setattr(pull_module, "PAGE_CHANGES", 3)
    grid = make.grid()
    for _ in range(5):
        make.household(grid)
    a = sync_phone(make.user(grids=[grid]))
    response = a.http.post("/sync/pull", json={"protocol": 1, "client_id": a.client_id, "cursor": None})
    text = response.content.decode()
    front = text[: text.index('"changes":[')]
    for key in ("protocol", "cursor", "reset", "last_mutation_id", "more"):
        assert f'"{key}":' in front
    body = response.json()
    assert body["more"] is True and len(body["changes"]) == 3


def pull_audits(db: Database) -> list[AuditLog]:
    with db.read() as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == "sync_pull_personal")))


def test_each_pull_page_with_phone_or_id_numbers_is_audited(
    make: Factory, sync_phone: Any, db: Database, monkeypatch: Any
) -> None:
    grid = make.grid()
    households = [make.household(grid, phone=f"1391111000{n}") for n in range(3)]
    make.household(grid)  # no phone
    make.resident(households[0], phone="13822220000")
    user = make.user(grids=[grid])
    a = sync_phone(user)
    a.pull()
    rows = pull_audits(db)
    assert [(r.actor_id, r.record_type, r.record_id) for r in rows] == [(user.id, "sync_client", a.client_id)]
    assert {k: rows[0].detail[k] for k in ("phones", "id_numbers")} == {"phones": 4, "id_numbers": 1}
    assert "13911110000" not in str(rows[0].detail)
    a.pull()  # nothing new: nothing personal went out
    make.household(grid, phone="13933330000")
    monkeypatch.setattr(pull_module, "PAGE_CHANGES", 1)
    make.household(grid, phone="13933330001")
    a.pull()  # two pages, each audited
    assert [r.detail["phones"] for r in pull_audits(db)] == [4, 1, 1]


def test_a_page_merges_the_record_types_in_version_order_each_with_its_own_fields(
    make: Factory, sync_phone: Any, db: Database, monkeypatch: Any
) -> None:
    # Rows are streamed from one result per record type and merged as they come (issue 23):
    # each change keeps its own type and fields, the page is cut after exactly PAGE_CHANGES,
    # and the pull audit counts the changes the page carried.
    monkeypatch.setattr(pull_module, "PAGE_CHANGES", 5)
    grid = make.grid()
    made: list[tuple[str, str]] = []
    for n in range(4):
        household = make.household(grid, phone=f"1391111000{n}")
        resident = make.resident(household, phone=f"1382222000{n}")
        made += [("household", str(household.id)), ("resident", str(resident.id))]
    a = sync_phone(make.user(grids=[grid]))
    body = {"protocol": 1, "client_id": a.client_id, "cursor": None}
    pages = [a.http.post("/sync/pull", json=body).json()]
    while pages[-1]["more"]:
        pages.append(a.http.post("/sync/pull", json={**body, "cursor": pages[-1]["cursor"]}).json())
    changes = [c for page in pages for c in page["changes"]]
    assert [len(page["changes"]) for page in pages[:-1]] == [5] * (len(pages) - 1)
    versions = [c["version"] for c in changes]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert [(c["type"], c["id"]) for c in changes if c["type"] in ("household", "resident")] == made
    for change in changes:
        if change["type"] == "household":
            assert change["data"]["grid_id"] == str(grid.id) and "household_id" not in change["data"]
        if change["type"] == "resident":
            assert change["data"]["id_masked"] and "household_id" in change["data"]
            assert not {"id_cipher", "id_hash", "field_versions"} & set(change["data"])
    carrying = [
        page for page in pages if any(c["type"] in ("household", "resident") for c in page["changes"])
    ]
    assert [r.detail["records"] for r in pull_audits(db)] == [len(page["changes"]) for page in carrying]


def test_a_department_pulls_only_the_requests_transferred_to_it(
    make: Factory, sync_phone: Any, db: Database
) -> None:
    world = build_world(make)
    make.resident(world.household, phone="13822220000")
    mine = put_demand(db, world, "transferred", "department", contact_phone="13900001111")
    put_demand(db, world, "in_progress", contact_phone="13900002222")  # the grid's own
    put_demand(db, world, "transferred", "department", department_id=world.other_department.id)
    department = sync_phone(world.users["department"])
    department.pull()
    assert not department.records("household") and not department.records("resident")
    demands = department.records("demand")
    assert {k: v["contact_phone"] for k, v in demands.items()} == {str(mine.id): "13900001111"}
    body = str(department.store)
    assert "13900002222" not in body and "13822220000" not in body


def test_an_incremental_pull_reads_rows_only_of_the_record_types_that_changed(
    make: Factory, sync_phone: Any, db: Database
) -> None:
    """Issue 23: one new visit costs one row read (visits), not one per record type."""
    grid = make.grid()
    home = make.household(grid)
    a = sync_phone(make.user(grids=[grid]))
    a.pull()
    a.queue("visit.record", visit_args(home))
    a.push()
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        a.pull()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    # Whole rows are read with the ORDER BY of a page; the version probes carry a LIMIT.
    row_reads = [s for s in statements if "ORDER BY" in s and "LIMIT" not in s]
    assert len(row_reads) == 1 and "FROM visit" in row_reads[0], row_reads
    assert [c for c in a.records("visit")] != []
