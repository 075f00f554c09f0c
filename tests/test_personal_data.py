"""Personal data leaves a trace: every change of a phone or an ID number is audited, masked."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col, select
from starlette.testclient import TestClient

from server.db import Database
from server.models import AuditLog, Household
from server.people import idnumber
from tests.conftest import Factory, login
from tests.test_conflicts_pages import make_conflict


def changes(db: Database) -> list[tuple[str, str, str, str, str]]:
    with db.read() as s:
        rows = s.exec(select(AuditLog).where(AuditLog.action == "change_personal").order_by(col(AuditLog.id)))
        return [
            (r.record_id, r.detail["field"], r.detail["old"], r.detail["new"], str(r.actor_id)) for r in rows
        ]


def test_phone_and_id_number_changes_from_a_phone_are_audited_masked(
    make: Factory, sync_phone: Any, db: Database
) -> None:
    grid = make.grid()
    household = make.household(grid, phone="13911110000")
    old_id, new_id = (
        idnumber.make("360121", date(1950, 3, 1), 1),
        idnumber.make("360121", date(1951, 4, 2), 7),
    )
    resident = make.resident(household, id_number=old_id, phone="")
    user = make.user(grids=[grid])
    a = sync_phone(user)
    a.queue("household.update", {"household_id": str(household.id), "set": {"phone": "13822220000"}})
    a.queue("household.update", {"household_id": str(household.id), "set": {"notes": "独居"}})
    a.queue(
        "resident.update",
        {"resident_id": str(resident.id), "set": {"id_number": new_id, "phone": "13733330000"}},
    )
    a.push()
    assert {r["status"] for r in a.results.values()} == {"applied"}
    me = str(user.id)
    assert changes(db) == [
        (str(household.id), "phone", "139****0000", "138****0000", me),
        (str(resident.id), "phone", "", "137****0000", me),
        (str(resident.id), "id_number", idnumber.mask(old_id), idnumber.mask(new_id), me),
    ]
    with db.read() as s:
        details = str([r.detail for r in s.exec(select(AuditLog))])
    assert not any(n in details for n in ("13822220000", "13733330000", new_id, old_id))


def test_the_office_page_and_a_conflict_resolution_audit_phone_changes_too(
    client: TestClient, make: Factory, sync_phone: Any, db: Database
) -> None:
    _grid, household, conflict_id = make_conflict(make, sync_phone)
    before = len(changes(db))  # the two phones' own edits
    staff = make.user("community_staff")
    token = login(client, staff)["csrf_token"]
    client.post(f"/conflicts/{conflict_id}/resolve", data={"choice": "client", "csrf_token": token})
    with db.read() as s:
        version = s.get(Household, household.id).version  # type: ignore[union-attr]
    page = client.post(
        f"/households/{household.id}/edit",
        data={"csrf_token": token, "base_version": str(version), "phone": "13655550000"},
        follow_redirects=False,
    )
    assert page.status_code == 303
    assert [c[1:] for c in changes(db)[before:]] == [
        ("phone", "139****0000", "137****0000", str(staff.id)),
        ("phone", "137****0000", "136****0000", str(staff.id)),
    ]
