"""设备对账: each phone reconciled with the server (server/workflows/reconciliation.py,
server/queries/devices.py, `/devices`), the dashboard's figure and the new-phone warning."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.db import Database
from server.models import Household, SyncClient, utcnow
from server.queries import devices as queries
from server.workflows.reconciliation import Standing, balance
from tests.conftest import Factory, login
from tests.test_sync_push import visit_args

NOW = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)


def report(**kw: Any) -> dict[str, Any]:
    return {"pending": 0, "max_mutation_id": 5, "photos_waiting": 0, **kw}


def test_in_balance_when_the_server_holds_every_id_and_nothing_waits() -> None:
    found = balance(last_mutation_id=5, report=report(), last_contact=NOW, now=NOW)
    assert (found.standing, found.owed) == (Standing.in_balance, 0)


def test_owing_counts_the_ids_the_server_has_not_got_and_the_oldest() -> None:
    oldest = (NOW - timedelta(days=3, hours=2)).isoformat()
    found = balance(
        last_mutation_id=2,
        report=report(pending=3, oldest_pending_at=oldest),
        last_contact=NOW - timedelta(hours=1),
        now=NOW,
    )
    assert (found.standing, found.owed, found.oldest_days(NOW)) == (Standing.owing, 3, 3)
    assert found.owed_longer_than(timedelta(hours=24), NOW)


def test_entries_waiting_for_an_answer_owe_even_when_the_server_has_their_ids() -> None:
    found = balance(last_mutation_id=5, report=report(pending=2), last_contact=NOW, now=NOW)
    assert (found.standing, found.owed) == (Standing.owing, 2)


def test_photos_still_to_upload_are_not_in_balance() -> None:
    found = balance(last_mutation_id=5, report=report(photos_waiting=1), last_contact=NOW, now=NOW)
    assert (found.standing, found.owed, found.photos) == (Standing.owing, 0, 1)


def test_silent_after_three_days_without_contact_while_owing() -> None:
    last = NOW - timedelta(days=4)
    found = balance(last_mutation_id=1, report=report(pending=4), last_contact=last, now=NOW)
    assert (found.standing, found.owed, found.silent_for.days) == (Standing.silent, 4, 4)
    quiet = balance(last_mutation_id=5, report=report(), last_contact=last, now=NOW)
    assert quiet.standing == Standing.in_balance  # silence owes nothing when nothing waits


def test_a_client_without_a_report_is_unknown() -> None:
    assert balance(last_mutation_id=3, report=None, last_contact=NOW, now=NOW).standing == Standing.unknown


# -- through the real push and pull -------------------------------------------------------------


def push(
    http: TestClient, client_id: str, household: Household, ids: list[int], device: dict[str, Any]
) -> None:
    mutations = [{"id": i, "name": "visit.record", "args": visit_args(household), "at": None} for i in ids]
    body = {"protocol": 1, "client_id": client_id, "mutations": mutations, "device": device}
    response = http.post("/sync/push", json=body)
    assert response.status_code == 200, response.text


def pull(http: TestClient, client_id: str, device: dict[str, Any]) -> None:
    body = {"protocol": 1, "client_id": client_id, "cursor": None, "device": device}
    assert http.post("/sync/pull", json=body).status_code == 200


def age(db: Database, client_id: str, *, days: int) -> None:
    """The client was last heard of `days` ago (its rows as an older contact would have left them)."""
    with db.write() as s:
        row = s.get(SyncClient, uuid.UUID(client_id))
        assert row is not None
        then = utcnow() - timedelta(days=days)
        row.last_seen_at = row.device_at = row.created_at = then
        s.add(row)


@pytest.fixture
def scene(app: Any, make: Factory, db: Database) -> dict[str, Any]:
    """Three workers of one community: one phone in balance, one owing, one silent."""
    community = make.community()
    east, west = make.grid(community, name="东门网格"), make.grid(community, name="西门网格")
    home = make.household(east)
    far = make.household(west)
    calm, busy, quiet = (make.user(grids=[east]), make.user(grids=[east]), make.user(grids=[west]))
    ids = {"calm": str(uuid.uuid4()), "busy": str(uuid.uuid4()), "quiet": str(uuid.uuid4())}
    made = (utcnow() - timedelta(days=3, hours=1)).isoformat()
    with TestClient(app) as http:
        login(http, calm)
        push(http, ids["calm"], home, [1, 2], report(pending=2, max_mutation_id=2))
        pull(http, ids["calm"], report(pending=0, max_mutation_id=2, app_version="old000000000"))
    with TestClient(app) as http:
        login(http, busy)
        push(http, ids["busy"], home, [1], report(pending=1, max_mutation_id=1))
        # Offline since: three more made three days ago, still on the phone.
        pull(http, ids["busy"], report(pending=3, max_mutation_id=4, oldest_pending_at=made, persisted=False))
    with TestClient(app) as http:
        login(http, quiet)
        pull(http, ids["quiet"], report(pending=2, max_mutation_id=2, oldest_pending_at=made))
    age(db, ids["quiet"], days=5)
    staff = make.user("community_staff", community=community)
    return {
        "community": community,
        "east": east,
        "far": far,
        "ids": ids,
        "staff": staff,
        "users": (calm, busy, quiet),
    }


def row_of(page: str, client_id: str) -> str:
    found = re.search(rf'<tr id="client-{client_id}" data-standing="(\w+)">(.*?)</tr>', page, re.S)
    assert found is not None, client_id
    return f"{found.group(1)}|{re.sub(r'<[^>]+>', ' ', found.group(2))}"


def test_the_page_shows_each_phone_in_balance_owing_or_silent(
    client: TestClient, scene: dict[str, Any], make: Factory
) -> None:
    login(client, scene["staff"])
    page = client.get("/devices")
    assert page.status_code == 200
    assert "HX-Request" in page.headers["vary"]
    ids, calm = scene["ids"], scene["users"][0]
    calm_row, busy_row, quiet_row = (row_of(page.text, ids[k]) for k in ("calm", "busy", "quiet"))
    assert calm_row.startswith("in_balance|") and calm.display_name in calm_row and "已对齐" in calm_row
    assert "应用版本旧" in calm_row
    assert busy_row.startswith("owing|") and "欠 3 条（最早 3 天前）" in busy_row
    assert "存储未设为持久保存" in busy_row
    assert quiet_row.startswith("silent|") and "已 5 天没有联系，还有 2 条待同步" in quiet_row
    # The ones to call come first.
    order = re.findall(r'<tr id="client-([0-9a-f-]+)"', page.text)
    assert order == [ids["quiet"], ids["busy"], ids["calm"]]
    assert re.search(r'data-figure="owing">2<', page.text)
    assert 'data-version="old000000000"' in page.text

    one_grid = client.get(f"/devices?grid={scene['east'].id}", headers={"HX-Request": "true"})
    assert "<html" not in one_grid.text
    assert re.findall(r'<tr id="client-([0-9a-f-]+)"', one_grid.text) == [ids["busy"], ids["calm"]]


def test_staff_see_only_their_community_and_workers_none(
    client: TestClient, scene: dict[str, Any], make: Factory
) -> None:
    other = make.user("community_staff", community=make.community())
    login(client, other)
    page = client.get("/devices")
    assert page.status_code == 200
    assert scene["ids"]["busy"] not in page.text
    with TestClient(client.app) as worker:
        login(worker, scene["users"][0])
        assert worker.get("/devices").status_code == 403
    with TestClient(client.app) as department:
        login(department, make.user("department"))
        assert department.get("/devices").status_code == 403


def test_the_dashboard_counts_phones_owing_work_older_than_a_day(
    client: TestClient, scene: dict[str, Any]
) -> None:
    login(client, scene["staff"])
    page = client.get("/demands/dashboard")
    assert page.status_code == 200
    assert re.search(r'data-figure="phones-late">2<', page.text)


def test_signing_in_on_a_new_phone_while_the_old_one_owes_warns_phone_and_office(
    app: Any, scene: dict[str, Any], db: Database
) -> None:
    busy = scene["users"][1]
    old = scene["ids"]["busy"]
    with TestClient(app) as new_phone:
        answer = login(new_phone, busy)
        assert [(p["client_id"], p["owed"]) for p in answer["owing_phones"]] == [(old, 3)]
        pull(new_phone, str(uuid.uuid4()), report(pending=0, max_mutation_id=0))
    with TestClient(app) as office:
        login(office, scene["staff"])
        page = office.get("/devices").text
    assert f'data-replaced="{old}"' in page
    assert f"{busy.display_name} 已在新手机上登录，旧手机还有 3 条记录没有同步" in page
    assert "已换新手机" in row_of(page, old)
    # A worker whose phones are all in balance is told nothing.
    with TestClient(app) as again:
        assert login(again, scene["users"][0])["owing_phones"] == []


def test_a_phone_that_synced_everything_is_in_balance_again(
    app: Any, scene: dict[str, Any], db: Database
) -> None:
    busy, old = scene["users"][1], scene["ids"]["busy"]
    home = scene["east"]
    with db.read() as s:
        household = s.exec(select(Household).where(Household.grid_id == home.id)).one()
    with TestClient(app) as http:
        login(http, busy)
        push(http, old, household, [2, 3, 4], report(pending=3, max_mutation_id=4))
        pull(http, old, report(pending=0, max_mutation_id=4))
    with db.read() as s:
        found = queries.phones(s, community_id=scene["community"].id, now=utcnow())
    assert {str(p.client_id): p.balance.standing for p in found}[old] == Standing.in_balance


def test_versions_below_the_minimum_are_flagged_with_when_each_was_first_served(
    client: TestClient, scene: dict[str, Any], db: Database
) -> None:
    from server import preferences
    from server.commands import releases

    with db.write() as s:
        releases.record(s, "old000000000", datetime(2026, 11, 1, 2, 0, tzinfo=UTC))
        releases.record(s, "new000000000", datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
        preferences.set(s, "app.minimum_version", "new000000000", None)
    login(client, scene["staff"])
    page = client.get("/devices").text
    calm = row_of(page, scene["ids"]["calm"])
    assert "低于最低版本" in calm and "应用版本旧" not in calm
    version = re.search(r'<li data-version="old000000000">(.*?)</li>', page, re.S)
    assert version is not None
    assert "2026-11-01 10:00 起发布" in version.group(1)  # Asia/Shanghai
    assert 'data-flag="below-minimum"' in version.group(1)
    assert 'data-minimum="new000000000"' in page

    with db.write() as s:
        preferences.set(s, "app.minimum_version", "", None)
    calm = row_of(client.get("/devices").text, scene["ids"]["calm"])
    assert "低于最低版本" not in calm and "应用版本旧" in calm
