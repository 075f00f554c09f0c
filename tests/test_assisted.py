"""Assisted applications (帮代办, 代办件): the workflow table for every role, the item version kept,
deadlines in working days, refusals that change nothing, and the sync mutations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from server.access import Actor, Forbidden
from server.clock import LOCAL_TZ
from server.commands import assisted, service_items
from server.db import Database
from server.errors import InvalidInput, InvalidTransition
from server.models import AssistedApplication, AssistedStatus, AuditLog, Department, Resident, VersionCounter
from server.workflows.assisted import STEP_ROLES, TRANSITIONS
from tests.conftest import Factory, new_uuid

SHA = "a" * 64
STEP_DATA: dict[str, dict[str, Any]] = {
    "submit": {"note": "交到社保窗口"},
    "complete": {"result": "已参保，社保卡下月寄到社区"},
    "deliver": {"note": "送到家里"},
    "return": {"missing": "缺户口簿复印件"},
    "resupply": {"collected": [0, 1], "note": "补齐了"},
    "withdraw": {"reason": "居民自己去办了"},
}


@dataclass
class World:
    item_id: str
    resident: Resident
    department: Department
    actors: dict[str, Actor]  # by role; "stranger" is a worker of another grid


@pytest.fixture
def world(make: Factory, db: Database) -> World:
    community = make.community(name="乐安社区")
    grid, other = make.grid(community), make.grid(community)
    resident = make.resident(make.household(grid), name="罗桂英")
    department = make.department(name="人社局")
    with db.write() as s:
        item = service_items.create_service_item(
            s,
            actor=None,
            fields=service_items.ItemFields(
                name="城乡居民养老保险参保登记",
                category="social_security",
                materials="居民身份证｜原件\n户口簿｜复印件",
                time_limit_days="3",
            ),
        )
        item_id = str(item.id)
    users = {
        "grid_worker": make.user(grids=[grid]),
        "stranger": make.user(grids=[other]),
        "community_staff": make.user("community_staff", community=community),
        "department": make.user("department", department=department),
        "admin": make.user("admin"),
    }
    return World(item_id, resident, department, {role: make.actor(u) for role, u in users.items()})


def create(
    db: Database, world: World, actor: Actor | None = None, at: datetime | None = None, **change: Any
) -> uuid.UUID:
    data = {
        "application_id": new_uuid(),
        "item_id": world.item_id,
        "resident_id": str(world.resident.id),
        "collected": [0],
        "photos": [SHA],
        "notes": "身份证已核对",
        "consent": True,
        **change,
    }
    with db.write() as s:
        assisted.create_application(s, actor=actor or world.actors["grid_worker"], data=data, at=at)
    return uuid.UUID(str(data["application_id"]))


def state(db: Database) -> tuple[Any, ...]:
    with db.read() as s:
        rows = sorted(
            (str(a.id), a.status, a.history, a.collected) for a in s.exec(select(AssistedApplication))
        )
        audit = s.exec(select(func.count()).select_from(AuditLog)).one()
        return (s.get(VersionCounter, 1).value, audit, rows)  # type: ignore[union-attr]


def test_the_workflow_table_for_every_role_step_and_status(db: Database, world: World) -> None:
    application_id = create(db, world)
    for step, (sources, target) in TRANSITIONS.items():
        for status in AssistedStatus:
            for role, actor in world.actors.items():
                with db.write() as s:
                    row = s.get(AssistedApplication, application_id)
                    assert row is not None
                    row.status = status
                    row.department_id = world.department.id if role == "department" else None
                before = state(db)
                allowed_role = actor.role in STEP_ROLES[step] and role != "stranger"
                try:
                    with db.write() as s:
                        assisted.take_step(
                            s,
                            actor=actor,
                            step=step,
                            data={"application_id": str(application_id), **STEP_DATA[step]},
                        )
                except Forbidden:
                    outcome = "forbidden"
                except InvalidTransition as exc:
                    outcome = "invalid_transition"
                    assert "这件代办现在是" in str(exc)
                except Exception as exc:
                    outcome = type(exc).__name__
                else:
                    outcome = "applied"
                case = (step, status.value, role)
                if role == "stranger" and actor.role in STEP_ROLES[step]:
                    assert outcome == "OutOfScope", case
                elif not allowed_role:
                    assert outcome == "forbidden", case
                elif status not in sources:
                    assert outcome == "invalid_transition", case
                else:
                    assert outcome == "applied", case
                    with db.read() as s:
                        row = s.get(AssistedApplication, application_id)
                        assert row is not None and row.status == target, case
                        assert row.history[-1]["kind"] == step and row.history[-1]["from"] == status.value
                if outcome != "applied":
                    assert state(db) == before, case


def test_steps_that_need_a_note_or_other_arguments_are_refused_in_chinese(db: Database, world: World) -> None:
    application_id = create(db, world)
    staff = world.actors["community_staff"]
    before = state(db)
    for step, data, field, message in [
        ("return", {"missing": " "}, "missing", "退回补件时必须写明缺什么材料。"),
        ("withdraw", {}, "reason", "撤回时必须写明原因。"),
        ("submit", {"result": "x"}, "result", "这一步不接受这个参数。"),
        ("submit", {"department_id": new_uuid()}, "department_id", "部门：请选择一个部门。"),
    ]:
        with pytest.raises(InvalidInput) as refused, db.write() as s:
            assisted.take_step(
                s, actor=staff, step=step, data={"application_id": str(application_id), **data}
            )
        assert refused.value.errors[field] == message
        assert state(db) == before


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"consent": False}, "consent", "居民同意：代办前必须请居民阅读并同意委托代办告知。"),
        ({"consent_version": "aa-1999"}, "consent", "居民同意：不认识的告知书版本 aa-1999。"),
        ({"collected": [0, 5]}, "collected", "材料清单：有一项不在这个事项的材料里。"),
        ({"item_id": new_uuid()}, "item_id", "办事事项：不存在或已停用。"),
        ({"photos": ["not-a-hash"]}, "photos", "照片编号应为 64 位小写十六进制 SHA-256。"),
    ],
)
def test_a_bad_application_is_refused_and_changes_nothing(
    db: Database, world: World, change: dict[str, Any], field: str, message: str
) -> None:
    before = state(db)
    with pytest.raises(InvalidInput) as refused:
        create(db, world, **change)
    assert message in refused.value.errors[field]
    assert state(db) == before


def test_an_application_keeps_the_item_version_it_began_with(db: Database, world: World) -> None:
    application_id = create(db, world)
    with db.write() as s:
        service_items.update_service_item(
            s,
            actor=None,
            item_id=world.item_id,
            fields=service_items.ItemFields(
                name="参保登记（新）",
                category="social_security",
                materials="居民身份证｜原件",
                time_limit_days="5",
            ),
        )
    later = create(db, world)
    with db.read() as s:
        first, second = s.get(AssistedApplication, application_id), s.get(AssistedApplication, later)
        assert first is not None and second is not None
        assert (first.item_revision, first.item_name, len(first.materials), first.time_limit) == (
            1,
            "城乡居民养老保险参保登记",
            2,
            "3",
        )
        assert (second.item_revision, second.item_name, len(second.materials), second.time_limit) == (
            2,
            "参保登记（新）",
            1,
            "5",
        )
        assert first.consent["consent_version"] == "aa-2026-01"


def test_the_deadline_counts_working_days_on_the_holiday_calendar_and_restarts_after_resupply(
    db: Database, world: World
) -> None:
    friday = datetime(2025, 11, 14, 10, 0, tzinfo=LOCAL_TZ)
    before_national_day = datetime(2025, 9, 30, 10, 0, tzinfo=LOCAL_TZ)
    weekend = create(db, world, at=friday)
    holiday = create(db, world, at=before_national_day)
    with db.read() as s:
        a, b = s.get(AssistedApplication, weekend), s.get(AssistedApplication, holiday)
        assert a is not None and b is not None and a.deadline is not None and b.deadline is not None
        assert a.deadline.astimezone(LOCAL_TZ) == datetime(
            2025, 11, 19, 10, 0, tzinfo=LOCAL_TZ
        )  # Mon, Tue, Wed
        assert b.deadline.astimezone(LOCAL_TZ) == datetime(
            2025, 10, 11, 10, 0, tzinfo=LOCAL_TZ
        )  # 国庆, then 调休
    staff, worker = world.actors["community_staff"], world.actors["grid_worker"]
    with db.write() as s:
        assisted.take_step(
            s,
            actor=staff,
            step="return",
            data={"application_id": str(weekend), "missing": "缺户口簿"},
            at=friday,
        )
        assisted.take_step(
            s,
            actor=worker,
            step="resupply",
            data={"application_id": str(weekend), "collected": [0, 1], "photos": ["b" * 64]},
        )
    with db.read() as s:
        a = s.get(AssistedApplication, weekend)
        assert a is not None and a.deadline is not None and a.received_at is not None
        assert a.deadline > datetime(2025, 11, 19, 10, 0, tzinfo=LOCAL_TZ)
        assert (a.status, a.collected, a.photos, a.missing) == ("received", [0, 1], [SHA, "b" * 64], "")


def test_the_phone_pushes_an_application_with_photos_and_the_office_moves_it_on(
    make: Factory, db: Database, world: World, sync_phone: Any
) -> None:
    grid_worker = world.actors["grid_worker"]
    with db.read() as s:
        from server.models import User

        worker = s.get(User, grid_worker.id)
        staff_user = s.get(User, world.actors["community_staff"].id)
        department_user = s.get(User, world.actors["department"].id)
    assert worker is not None and staff_user is not None and department_user is not None
    phone, office, department = sync_phone(worker), sync_phone(staff_user), sync_phone(department_user)
    first = phone.upload(b"\xff\xd8\xff\xe0" + b"first paper" * 50)
    second = phone.upload(b"\xff\xd8\xff\xe0" + b"second paper" * 50)
    application_id = new_uuid()
    phone.queue(
        "assisted.create",
        {
            "application_id": application_id,
            "item_id": world.item_id,
            "resident_id": str(world.resident.id),
            "collected": [0, 1],
            "photos": [first, second],
            "consent": True,
            "consent_version": "aa-2026-01",
        },
    )
    phone.queue("assisted.deliver", {"application_id": application_id})
    result = phone.push()
    assert result is not None
    assert [(r["status"], r.get("code")) for r in result["results"]] == [
        ("applied", None),
        ("rejected", "invalid_transition"),
    ]
    office.queue(
        "assisted.submit", {"application_id": application_id, "department_id": str(world.department.id)}
    )
    assert office.push()["results"][0]["status"] == "applied"  # type: ignore[index]
    department.pull()
    assert department.records("assisted_application")[application_id]["status"] == "submitted"
    department.queue("assisted.complete", {"application_id": application_id, "result": "已参保"})
    assert department.push()["results"][0]["status"] == "applied"  # type: ignore[index]
    phone.queue("assisted.deliver", {"application_id": application_id, "note": "结果已送到家"})
    assert phone.push()["results"][0]["status"] == "applied"  # type: ignore[index]
    phone.pull()
    held = phone.records("assisted_application")[application_id]
    assert (held["status"], held["photos"], held["item_revision"]) == ("delivered", [first, second], 1)
    assert [h["kind"] for h in held["history"]] == ["create", "submit", "complete", "deliver"]


def test_the_office_queue_puts_overdue_first_counts_per_item_and_takes_the_steps(
    app: Any, db: Database, world: World, make: Factory
) -> None:
    from tests.test_admin_pages import signed_in

    late = create(db, world, at=datetime(2025, 11, 14, 10, 0, tzinfo=LOCAL_TZ))
    fresh = create(db, world)
    with db.read() as s:
        from server.models import User

        staff_user = s.get(User, world.actors["community_staff"].id)
        worker_user = s.get(User, world.actors["grid_worker"].id)
    assert staff_user is not None and worker_user is not None
    client, token = signed_in(app, staff_user)
    page = client.get("/assisted")
    assert page.status_code == 200
    order = [line.split('"')[1] for line in page.text.split("data-application=")[1:]]
    assert order == [str(late), str(fresh)]
    assert 'data-warning="overdue"' in page.text and "已超期" in page.text
    assert '城乡居民养老保险参保登记</td><td class="number">2' in page.text
    fragment = client.get("/assisted?status=received", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "HX-Request" in fragment.headers["vary"]

    refused = client.post(f"/assisted/{fresh}/complete", data={"csrf_token": token, "result": "x"})
    assert refused.status_code == 409 and "不能办结" in refused.text
    before = state(db)
    empty = client.post(f"/assisted/{fresh}/return", data={"csrf_token": token, "missing": ""})
    assert empty.status_code == 400 and "退回补件时必须写明缺什么材料。" in empty.text
    assert state(db) == before
    submitted = client.post(
        f"/assisted/{fresh}/submit",
        data={"csrf_token": token, "department_id": str(world.department.id)},
        follow_redirects=False,
    )
    assert (submitted.status_code, submitted.headers["location"]) == (303, f"/assisted/{fresh}?done=submit")
    shown = client.get(submitted.headers["location"]).text
    assert "已保存：递交窗口。" in shown and "人社局" in shown and 'data-step="complete"' in shown
    done = client.post(
        f"/assisted/{fresh}/complete", data={"csrf_token": token, "result": "已参保"}, follow_redirects=False
    )
    assert done.status_code == 303
    with db.read() as s:
        row = s.get(AssistedApplication, fresh)
        assert row is not None and (row.status, row.result) == ("completed", "已参保")
        actions = list(s.exec(select(AuditLog.action).where(AuditLog.record_id == str(fresh))))
        assert actions == ["assisted.submit", "assisted.complete"]
    client.close()
    worker, _token = signed_in(app, worker_user)
    assert worker.get("/assisted").status_code == 403
    worker.close()


def test_a_returned_application_and_a_result_to_deliver_are_the_workers_tasks(
    db: Database, world: World
) -> None:
    from datetime import UTC

    from server.queries.tasks import tasks_for
    from server.workflows.tasks import TaskKind

    returned, done, fresh = create(db, world), create(db, world), create(db, world)
    staff = world.actors["community_staff"]
    with db.write() as s:
        assisted.take_step(
            s, actor=staff, step="return", data={"application_id": str(returned), "missing": "缺户口簿"}
        )
        assisted.take_step(s, actor=staff, step="submit", data={"application_id": str(done)})
        assisted.take_step(
            s, actor=staff, step="complete", data={"application_id": str(done), "result": "已办结"}
        )

    def kinds(role: str) -> set[tuple[str, str]]:
        with db.read() as s:
            found = tasks_for(s, world.actors[role], datetime.now(UTC))
        return {(t.kind.value, t.record_id) for t in found if t.kind.startswith("assisted_")}

    assert kinds("grid_worker") == {
        (TaskKind.assisted_resupply.value, str(returned)),
        (TaskKind.assisted_deliver.value, str(done)),
    }
    assert str(fresh) not in {r for _, r in kinds("grid_worker")}
    assert kinds("stranger") == set()
