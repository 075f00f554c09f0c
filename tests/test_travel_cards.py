"""Elderly travel card applications (老年出行卡): the workflow, eligibility, history, yearly review.

The transition table is tested exhaustively: every step, from every status,
by every role, pushed through `/sync/push` as a phone would.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, col, func, select

from server import preferences
from server.access import Actor
from server.clock import LOCAL_TZ, local_today
from server.commands import travel_cards as tc
from server.commands.residents import create_resident
from server.db import Database
from server.errors import DuplicateApplication, InvalidInput, NotEligible
from server.models import (
    AuditLog,
    CardStatus,
    Conflict,
    Grid,
    Household,
    Resident,
    TravelCard,
    TravelCardEvent,
    User,
    Visit,
)
from server.people import idnumber
from server.people.vault import Vault
from server.workflows import travel_cards as card_flow
from tests.conftest import Factory

JPEG = b"\xff\xd8\xff\xe0" + b"applicant-face" * 64
PHOTO = hashlib.sha256(JPEG).hexdigest()
COMPLETE = {"id_seen": True, "photo_taken": True, "consent": True}
ROLES = ("grid_worker", "community_staff", "department", "admin")
STATUSES = tuple(CardStatus)
STEPS = tuple(card_flow.TRANSITIONS)


@dataclass
class Street:
    grid: Grid
    other_grid: Grid
    household: Household
    resident: Resident  # 70 years old
    users: dict[str, User]
    stranger: User  # a worker of the other grid


@pytest.fixture
def street(make: Factory) -> Street:
    grid, other_grid = make.grid(name="一网格"), make.grid(name="二网格")
    household = make.household(grid)
    resident = make.resident(household, name="王桂英", born=date(1955, 6, 1))
    users = {
        "grid_worker": make.user("grid_worker", grids=[grid]),
        "community_staff": make.user("community_staff"),
        "department": make.user("department"),
        "admin": make.user("admin"),
    }
    return Street(grid, other_grid, household, resident, users, make.user("grid_worker", grids=[other_grid]))


def put_card(db: Database, resident: Resident, status: str, **kw: Any) -> TravelCard:
    """An application already in `status`, with complete materials (made straight in the table)."""
    fields: dict[str, Any] = {
        "resident_id": resident.id,
        "household_id": resident.household_id,
        "community_id": resident.community_id,
        "grid_id": resident.grid_id,
        "applicant_hash": resident.id_hash,
        "status": status,
        "delivery": "collect",
        "residence": "hukou",
        "checklist": dict(COMPLETE, consent_at="2026-01-05T01:00:00+00:00", consent_version="tc-2026-01"),
        "photo": PHOTO,
        "applied_on": date(2026, 1, 5),
    }
    if status == CardStatus.issued:
        fields |= {"issued_at": datetime(2026, 1, 20, 2, tzinfo=UTC), "review_due": local_today()}
    card = TravelCard(**(fields | kw))
    with db.write() as session:
        session.add(card)
    return card


def step_mutation(step: str, card: TravelCard) -> tuple[str, dict[str, Any]]:
    """The mutation a phone pushes to take `step` on `card`."""
    ref = {"application_id": str(card.id)}
    if step == "update":
        return "travel_card.update", ref | {"base_version": card.version, "set": {"delivery": "door"}}
    if step == "submit":
        return "travel_card.submit", ref
    if step in ("approve", "reject", "needs_supplement"):
        return "travel_card.review", ref | {"decision": step, "reason": "照片背景太暗，请重拍"}
    if step in ("in_production", "ready", "issued"):
        return "travel_card.advance", ref | {"to": step, "note": ""}
    if step == "cancel":
        return "travel_card.cancel", ref | {"reason": "本人不再需要"}
    assert step == "plan_review"
    return "travel_card.plan_review", ref | {"planned_for": local_today().isoformat()}


def reload(db: Database, card_id: uuid.UUID) -> TravelCard:
    with db.read() as session:
        card = session.get(TravelCard, card_id)
        assert card is not None
        return card


def events(db: Database, card_id: uuid.UUID) -> list[TravelCardEvent]:
    with db.read() as session:
        rows = session.exec(
            select(TravelCardEvent)
            .where(TravelCardEvent.application_id == card_id)
            .order_by(col(TravelCardEvent.version))
        )
        return list(rows)


def count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def apply_args(**kw: Any) -> dict[str, Any]:
    return {"application_id": str(uuid.uuid4()), "delivery": "collect", **kw}


# -- the table ---------------------------------------------------------------------------------


def test_the_transition_table_is_the_issue_s_workflow() -> None:
    S = CardStatus
    legal = {
        (step, source, target)
        for step, (sources, target) in card_flow.TRANSITIONS.items()
        for source in sources
    }
    assert legal == {
        ("update", S.draft, None),
        ("update", S.needs_supplement, None),
        ("submit", S.draft, S.submitted),
        ("submit", S.needs_supplement, S.submitted),
        ("approve", S.submitted, S.approved),
        ("reject", S.submitted, S.rejected),
        ("needs_supplement", S.submitted, S.needs_supplement),
        ("in_production", S.approved, S.in_production),
        ("ready", S.in_production, S.ready),
        ("issued", S.ready, S.issued),
        *(("cancel", s, S.cancelled) for s in (S.draft, S.submitted, S.needs_supplement)),
        *(("cancel", s, S.cancelled) for s in (S.approved, S.in_production, S.ready)),
        ("plan_review", S.issued, None),
    }
    worker, staff, admin = "grid_worker", "community_staff", "admin"
    office_only = {"approve", "reject", "needs_supplement", "in_production", "ready"}
    for step, roles in card_flow.STEP_ROLES.items():
        expected = {staff, admin} if step in office_only else {worker, staff, admin}
        assert set(roles) == expected, step
    assert set(card_flow.STEP_ROLES) == {"create", *card_flow.TRANSITIONS}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("step", STEPS)
def test_every_step_from_every_status_by_every_role(
    step: str, role: str, street: Street, db: Database, sync_phone: Any
) -> None:
    cards = {status: put_card(db, street.resident, status) for status in STATUSES}
    phone = sync_phone(street.users[role])
    sent = {status: phone.queue(*step_mutation(step, card)) for status, card in cards.items()}
    phone.push()
    sources, target = card_flow.TRANSITIONS[step]

    for status, card in cards.items():
        result = phone.results[sent[status]]
        after = reload(db, card.id)
        history = events(db, card.id)
        if role not in card_flow.STEP_ROLES[step]:
            assert (result["status"], result["code"]) == ("rejected", "forbidden"), status
        elif status not in sources:
            assert (result["status"], result["code"]) == ("rejected", "invalid_transition"), status
            assert "不能" in result["message"]
        else:
            assert result["status"] == "applied", (status, result)
            assert after.status == (target or status)
            (event,) = history
            assert event.kind == ("updated" if step == "update" else step)
            assert (event.from_status, event.to_status) == (status, target or status)
            assert event.actor_id == street.users[role].id
            continue
        # A refused step changes nothing.
        assert after.version == card.version and after.status == status
        assert history == []
    assert count(db, Visit) == (1 if step == "plan_review" and role != "department" else 0)


@pytest.mark.parametrize("step", STEPS)
def test_a_worker_of_another_grid_cannot_take_any_step(
    step: str, street: Street, db: Database, sync_phone: Any
) -> None:
    phone = sync_phone(street.stranger)
    cards = {status: put_card(db, street.resident, status) for status in STATUSES}
    sent = {status: phone.queue(*step_mutation(step, card)) for status, card in cards.items()}
    phone.push()
    # The role is checked first: a step no worker may take is `forbidden` in any grid.
    expected = "out_of_scope" if "grid_worker" in card_flow.STEP_ROLES[step] else "forbidden"
    for status, card in cards.items():
        assert phone.results[sent[status]]["code"] == expected, status
        assert reload(db, card.id).version == card.version


# -- the whole way, with its history ---------------------------------------------------------


def test_from_the_door_to_delivery_every_step_is_in_the_history_and_on_the_phone(
    street: Street, db: Database, sync_phone: Any
) -> None:
    worker, staff = sync_phone(street.users["grid_worker"]), sync_phone(street.users["community_staff"])
    card_id = str(uuid.uuid4())
    at = datetime(2026, 3, 2, 9, 31, 2, tzinfo=LOCAL_TZ)
    worker.queue(
        "travel_card.create",
        apply_args(
            application_id=card_id,
            resident_id=str(street.resident.id),
            delivery="door",
            residence="hukou",
            checklist={"id_seen": True, "photo_taken": False, "consent": True},
            proxy={"name": "王小明", "relation": "儿子", "phone": "13912345678"},
        ),
        at=at,
    )
    worker.queue("travel_card.submit", {"application_id": card_id})  # no photo yet: refused
    worker.push()
    assert worker.results[1]["status"] == "applied"
    assert worker.results[2]["code"] == "invalid_args"
    assert worker.results[2]["message"] == "材料不全，不能提交。还缺：申请人照片。"

    worker.upload(JPEG)
    card = reload(db, uuid.UUID(card_id))
    worker.queue(
        "travel_card.update",
        {
            "application_id": card_id,
            "base_version": card.version,
            "set": {"photo": PHOTO, "checklist": {"id_seen": True, "photo_taken": True, "consent": True}},
        },
    )
    worker.queue("travel_card.submit", {"application_id": card_id})
    worker.push()
    assert [worker.results[i]["status"] for i in (3, 4)] == ["applied", "applied"]
    # The office can see the applicant's photo.
    assert staff.http.get(f"/sync/blobs/{PHOTO}").content == JPEG

    staff.queue(
        "travel_card.review",
        {"application_id": card_id, "decision": "needs_supplement", "reason": "请补充居住证复印件"},
    )
    staff.push()
    worker.pull()
    on_phone = worker.records("travel_card")[card_id]
    assert on_phone["status"] == "needs_supplement" and on_phone["reason"] == "请补充居住证复印件"
    assert on_phone["proxy"] == {"name": "王小明", "relation": "儿子", "phone": "13912345678"}
    assert on_phone["photo"] == PHOTO and on_phone["tier"] == "free" and on_phone["residence"] == "hukou"
    assert on_phone["delivery"] == "door" and on_phone["checklist"]["consent"] is True
    assert on_phone["checklist"]["consent_version"] == card_flow.CONSENT.version
    assert datetime.fromisoformat(on_phone["checklist"]["consent_at"]) == at  # when the applicant agreed
    assert "applicant_hash" not in on_phone

    worker.queue(
        "travel_card.update",
        {"application_id": card_id, "base_version": on_phone["version"], "set": {"residence": "permit"}},
    )
    worker.queue("travel_card.submit", {"application_id": card_id})
    worker.push()
    staff.queue(
        "travel_card.review", {"application_id": card_id, "decision": "approve", "reason": "材料齐全"}
    )
    for step in ("in_production", "ready"):
        staff.queue("travel_card.advance", {"application_id": card_id, "to": step})
    staff.push()
    worker.queue("travel_card.advance", {"application_id": card_id, "to": "issued", "note": "已送到家中"})
    worker.push()

    card = reload(db, uuid.UUID(card_id))
    assert card.status == "issued" and card.reason == ""
    history = [(e.kind, e.from_status, e.to_status, e.note) for e in events(db, card.id)]
    assert history == [
        ("created", None, "draft", ""),
        ("updated", "draft", "draft", "修改了材料清单、照片"),
        ("submit", "draft", "submitted", ""),
        ("needs_supplement", "submitted", "needs_supplement", "请补充居住证复印件"),
        ("updated", "needs_supplement", "needs_supplement", "修改了居住证明"),
        ("submit", "needs_supplement", "submitted", ""),
        ("approve", "submitted", "approved", "材料齐全"),
        ("in_production", "approved", "in_production", ""),
        ("ready", "in_production", "ready", ""),
        ("issued", "ready", "issued", "已送到家中"),
    ]
    actors = [e.actor_id for e in events(db, card.id)]
    worker_id, staff_id = street.users["grid_worker"].id, street.users["community_staff"].id
    assert actors == [worker_id] * 3 + [staff_id] + [worker_id] * 2 + [staff_id] * 3 + [worker_id]
    assert events(db, card.id)[0].at == at  # the phone's time of the step
    with db.read() as session:
        audited = session.exec(
            select(AuditLog.action).where(AuditLog.record_id == card_id).order_by(col(AuditLog.id))
        ).all()
    assert audited == [
        "travel_card.needs_supplement",
        "travel_card.approve",
        "travel_card.in_production",
        "travel_card.ready",
        "travel_card.issued",
    ]
    worker.pull()
    assert len(worker.records("travel_card_event")) == 10


def test_issuing_sets_the_yearly_review_from_the_setting(street: Street, db: Database, make: Factory) -> None:
    staff = make.actor(street.users["community_staff"])
    first = put_card(db, street.resident, "ready")
    with db.write() as session:
        tc.advance_application(session, actor=staff, data={"application_id": str(first.id), "to": "issued"})
    card = reload(db, first.id)
    issued_on = card.issued_at.astimezone(LOCAL_TZ).date()  # type: ignore[union-attr]
    assert issued_on == local_today()
    assert card.review_due == card_flow.add_months(issued_on, 12)
    assert card.review_due.year == issued_on.year + 1  # type: ignore[union-attr]

    second = put_card(db, make.resident(street.household, born=date(1950, 3, 3)), "ready")
    with db.write() as session:
        preferences.set(session, "travel_card.review_months", 6, staff)
        tc.advance_application(session, actor=staff, data={"application_id": str(second.id), "to": "issued"})
    assert reload(db, second.id).review_due == card_flow.add_months(local_today(), 6)


def test_add_months_keeps_the_day_or_takes_the_month_s_last() -> None:
    assert card_flow.add_months(date(2026, 3, 15), 12) == date(2027, 3, 15)
    assert card_flow.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert card_flow.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert card_flow.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert card_flow.add_months(date(2026, 1, 31), -2) == date(2025, 11, 30)


def test_a_phone_clock_in_the_future_or_before_the_last_change_is_held_to_the_server_s(
    street: Street, db: Database, sync_phone: Any, make: Factory
) -> None:
    card = put_card(db, street.resident, "ready")
    worker = sync_phone(street.users["grid_worker"])
    worker.queue(
        "travel_card.advance",
        {"application_id": str(card.id), "to": "issued"},
        at=datetime.now(UTC) + timedelta(days=400),
    )
    worker.push()
    issued = reload(db, card.id)
    assert issued.issued_at is not None and issued.issued_at <= datetime.now(UTC)
    assert issued.review_due == card_flow.add_months(local_today(), 12)

    late = put_card(db, make.resident(street.household, born=date(1949, 9, 9)), "ready")
    worker.queue(
        "travel_card.advance",
        {"application_id": str(late.id), "to": "issued"},
        at=datetime(2019, 1, 1, tzinfo=UTC),
    )
    worker.push()
    assert reload(db, late.id).issued_at >= late.updated_at  # type: ignore[operator]


# -- one application per person -------------------------------------------------------------


def test_the_same_person_in_two_grids_gets_one_application(
    make: Factory, street: Street, db: Database, sync_phone: Any
) -> None:
    number = idnumber.make("360121", date(1952, 4, 18), 37)
    here = make.resident(street.household, name="刘福生", id_number=number)
    there = make.resident(make.household(street.other_grid), name="刘福生", id_number=number)
    mine, theirs = sync_phone(street.users["grid_worker"]), sync_phone(street.stranger)
    mine.queue("travel_card.create", apply_args(resident_id=str(here.id)))
    mine.push()
    theirs.queue("travel_card.create", apply_args(resident_id=str(there.id)))
    theirs.push()
    assert mine.results[1]["status"] == "applied"
    assert theirs.results[1]["code"] == "duplicate_application"
    assert count(db, TravelCard) == 1

    # Once closed, the person may apply again, in either grid.
    with db.write() as session:
        card = session.exec(select(TravelCard)).one()
        card.status = "rejected"
    theirs.queue("travel_card.create", apply_args(resident_id=str(there.id)))
    theirs.push()
    assert theirs.results[2]["status"] == "applied"


def test_an_id_reused_with_another_resident_is_refused_and_a_replay_is_applied(
    make: Factory, street: Street, db: Database, sync_phone: Any
) -> None:
    other = make.resident(street.household, born=date(1948, 1, 1))
    phone = sync_phone(street.users["grid_worker"])
    args = apply_args(resident_id=str(street.resident.id))
    phone.queue("travel_card.create", args)
    phone.queue("travel_card.create", args)
    phone.queue("travel_card.create", args | {"resident_id": str(other.id)})
    phone.push()
    assert [phone.results[i]["status"] for i in (1, 2)] == ["applied", "applied"]
    assert phone.results[3]["code"] == "id_reused"
    assert count(db, TravelCard) == 1 and count(db, TravelCardEvent) == 1


# -- eligibility -------------------------------------------------------------------------------


def apply_for(db: Database, actor: Actor, resident: Resident) -> TravelCard:
    with db.write() as session:
        return tc.create_application(session, actor=actor, data=apply_args(resident_id=str(resident.id)))


def test_sixty_five_today_is_eligible_and_sixty_five_tomorrow_is_not(
    make: Factory, street: Street, db: Database
) -> None:
    worker = make.actor(street.users["grid_worker"])
    born_today = card_flow.add_months(local_today(), -65 * 12)
    today = make.resident(street.household, born=born_today)
    tomorrow = make.resident(street.household, born=born_today + timedelta(days=1))
    assert apply_for(db, worker, today).tier == "free"
    with pytest.raises(NotEligible) as refused:
        apply_for(db, worker, tomorrow)
    assert refused.value.message == "申请人未满 65 周岁，不能办理老年出行卡。"
    assert count(db, TravelCard) == 1


def test_born_on_29_february_turns_65_on_1_march_in_a_common_year(db: Database) -> None:
    with db.read() as session:
        with pytest.raises(NotEligible):
            card_flow.eligible_tier(session, date(1960, 2, 29), date(2025, 2, 28))
        assert card_flow.eligible_tier(session, date(1960, 2, 29), date(2025, 3, 1)) == "free"
        assert card_flow.eligible_tier(session, date(1959, 2, 28), date(2024, 2, 28)) == "free"  # a leap year
        with pytest.raises(NotEligible):
            card_flow.eligible_tier(session, date(1959, 3, 1), date(2024, 2, 29))


def test_the_threshold_and_the_discount_tier_follow_the_settings(
    make: Factory, street: Street, db: Database
) -> None:
    worker = make.actor(street.users["grid_worker"])
    admin = make.actor(street.users["admin"])
    today = local_today()
    sixty_two = make.resident(street.household, born=card_flow.add_months(today, -62 * 12 - 1))
    fifty_eight = make.resident(street.household, born=card_flow.add_months(today, -58 * 12 - 1))
    with pytest.raises(NotEligible):
        apply_for(db, worker, sixty_two)

    with db.write() as session:
        preferences.set(session, "travel_card.discount_age", 60, admin)
    assert apply_for(db, worker, sixty_two).tier == "discount"
    with pytest.raises(NotEligible) as refused:
        apply_for(db, worker, fifty_eight)
    assert refused.value.message == "申请人未满 60 周岁，不能办理老年出行卡。"

    with db.write() as session:
        preferences.reset(session, "travel_card.discount_age", admin)
        preferences.set(session, "travel_card.age_threshold", 58, admin)
    assert apply_for(db, worker, fifty_eight).tier == "free"
    with db.read() as session:
        assert card_flow.eligible_tier(session, date(1960, 1, 1), date(2026, 1, 1)) == "free"


def x_number() -> str:
    """A valid 18-digit number whose check character is X."""
    for sequence in range(1000):
        number = idnumber.make("360121", date(1951, 7, 12), sequence)
        if number.endswith("X"):
            return number
    raise AssertionError("no X check digit in 1000 sequences")


def test_an_x_check_digit_and_a_15_digit_number_are_the_same_people_as_their_18_digit_forms(
    make: Factory, street: Street, db: Database, vault: Vault
) -> None:
    worker = make.actor(street.users["grid_worker"])
    stranger = make.actor(street.stranger)
    elsewhere = make.household(street.other_grid)
    legacy = "360121500101123"  # born 1950-01-01, before the 18-digit numbers
    with db.write() as session:
        lower_x = create_resident(
            session,
            actor=worker,
            vault=vault,
            data={
                "household_id": str(street.household.id),
                "name": "赵德明",
                "id_number": x_number().lower(),
            },
        )
        old = create_resident(
            session,
            actor=worker,
            vault=vault,
            data={"household_id": str(street.household.id), "name": "钱玉兰", "id_number": legacy},
        )
        upper_x = create_resident(
            session,
            actor=stranger,
            vault=vault,
            data={"household_id": str(elsewhere.id), "name": "赵德明", "id_number": x_number()},
        )
        modern = create_resident(
            session,
            actor=stranger,
            vault=vault,
            data={
                "household_id": str(elsewhere.id),
                "name": "钱玉兰",
                "id_number": idnumber.parse(legacy).number,
            },
        )
    assert lower_x.id_masked.endswith("X") and old.birth_date == date(1950, 1, 1)
    assert apply_for(db, worker, lower_x).tier == "free"
    assert apply_for(db, worker, old).tier == "free"
    for twin in (upper_x, modern):
        with pytest.raises(DuplicateApplication):
            apply_for(db, stranger, twin)


def test_a_resident_without_an_id_number_cannot_apply(
    make: Factory, street: Street, db: Database, vault: Vault
) -> None:
    worker = make.actor(street.users["grid_worker"])
    with db.write() as session:
        nobody = create_resident(
            session,
            actor=worker,
            vault=vault,
            data={"household_id": str(street.household.id), "name": "无证"},
        )
    with pytest.raises(NotEligible) as refused:
        apply_for(db, worker, nobody)
    assert "身份证号" in refused.value.message


# -- materials and door details ---------------------------------------------------------------


def test_submit_names_every_missing_material_in_chinese_and_changes_nothing(
    street: Street, db: Database, sync_phone: Any
) -> None:
    bare = put_card(db, street.resident, "draft", checklist={}, photo=None, residence="")
    phone = sync_phone(street.users["grid_worker"])
    phone.queue("travel_card.submit", {"application_id": str(bare.id)})
    phone.push()
    result = phone.results[1]
    assert (result["status"], result["code"]) == ("rejected", "invalid_args")
    assert result["message"] == (
        "材料不全，不能提交。还缺：核验身份证原件、本人同意使用个人信息、申请人照片、户籍或居住证信息。"
    )
    assert reload(db, bare.id).version == bare.version and events(db, bare.id) == []


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"delivery": "post"}, "delivery", "领卡方式：不是可选的值。"),
        ({"residence": "visa"}, "residence", "居住证明：不是可选的值。"),
        ({"photo": "abc"}, "photo", "照片：编号应为 64 位小写十六进制 SHA-256。"),
        ({"proxy": {"name": "", "relation": "儿子"}}, "proxy", "代办人：必须填写。"),
        ({"proxy": {"name": "王", "relation": "儿子", "phone": "123"}}, "proxy", "电话号码格式不对"),
        ({"checklist": {"consent": True, "consent_version": "v0"}}, "checklist", "不认识的同意书版本 v0"),
        ({"checklist": {"signed": True}}, "checklist", "材料清单：不认识这个字段。"),
    ],
)
def test_bad_door_details_are_refused_per_field(
    args: dict[str, Any], field: str, message: str, street: Street, db: Database, make: Factory
) -> None:
    worker = make.actor(street.users["grid_worker"])
    with pytest.raises(InvalidInput) as refused, db.write() as session:
        tc.create_application(
            session, actor=worker, data=apply_args(resident_id=str(street.resident.id), **args)
        )
    assert message in refused.value.errors[field]
    assert count(db, TravelCard) == 0


def test_decisions_that_send_back_or_end_an_application_need_a_reason(
    street: Street, db: Database, sync_phone: Any
) -> None:
    submitted, draft = put_card(db, street.resident, "submitted"), put_card(db, street.resident, "draft")
    staff = sync_phone(street.users["community_staff"])
    for decision in ("reject", "needs_supplement"):
        staff.queue(
            "travel_card.review", {"application_id": str(submitted.id), "decision": decision, "reason": " "}
        )
    staff.queue("travel_card.cancel", {"application_id": str(draft.id), "reason": ""})
    staff.push()
    assert [staff.results[i]["message"] for i in (1, 2, 3)] == [
        "不予通过时必须写明原因。",
        "退回补充时必须写明要补充什么。",
        "撤销申请时必须写明原因。",
    ]
    assert reload(db, submitted.id).status == "submitted" and reload(db, draft.id).status == "draft"


def test_two_phones_editing_the_same_draft_keep_both_values_as_a_conflict(
    street: Street, db: Database, sync_phone: Any
) -> None:
    card = put_card(db, street.resident, "draft")
    worker, staff = sync_phone(street.users["grid_worker"]), sync_phone(street.users["community_staff"])
    staff.queue(
        "travel_card.update",
        {
            "application_id": str(card.id),
            "base_version": card.version,
            "set": {"proxy": {"name": "李梅", "relation": "女儿"}},
        },
    )
    staff.push()
    worker.queue(
        "travel_card.update",
        {
            "application_id": str(card.id),
            "base_version": card.version,
            "set": {"proxy": {"name": "李强", "relation": "儿子"}, "delivery": "door"},
        },
    )
    worker.push()
    assert worker.results[1]["status"] == "conflict" and worker.results[1]["conflicts"] == ["proxy"]
    after = reload(db, card.id)
    assert after.proxy == {"name": "李梅", "relation": "女儿", "phone": ""} and after.delivery == "door"
    with db.read() as session:
        conflict = session.exec(select(Conflict)).one()
    assert conflict.client_value == {"name": "李强", "relation": "儿子", "phone": ""}
    assert events(db, card.id)[-1].note == "修改了领卡方式；代办人与别人的修改冲突，未覆盖"


def test_an_old_conflict_cannot_change_an_application_past_editing(
    street: Street, db: Database, sync_phone: Any
) -> None:
    card = put_card(db, street.resident, "draft")
    worker, staff = sync_phone(street.users["grid_worker"]), sync_phone(street.users["community_staff"])
    for phone, name in ((staff, "李梅"), (worker, "李强")):
        phone.queue(
            "travel_card.update",
            {
                "application_id": str(card.id),
                "base_version": card.version,
                "set": {"proxy": {"name": name, "relation": "子女"}},
            },
        )
        phone.push()
    with db.write() as session:
        conflict = session.exec(select(Conflict)).one()
        approved = session.get(TravelCard, card.id)
        assert approved is not None
        approved.status = CardStatus.approved
    staff.queue("conflict.resolve", {"conflict_id": str(conflict.id), "choice": "client"})
    staff.queue("conflict.resolve", {"conflict_id": str(conflict.id), "choice": "server"})
    staff.push()
    refused, kept = staff.results[2], staff.results[3]
    assert refused["status"] == "rejected" and refused["code"] == "invalid_transition"
    assert "后续流程" in refused["message"]
    assert kept["status"] == "applied"
    assert reload(db, card.id).proxy == {"name": "李梅", "relation": "子女", "phone": ""}
    with db.read() as session:
        assert session.get(Conflict, conflict.id).resolution == "server"  # type: ignore[union-attr]
        audited = session.exec(select(AuditLog).where(AuditLog.action == "resolve_conflict")).all()
    assert [(row.record_id, row.detail["choice"]) for row in audited] == [(str(card.id), "server")]


def test_consent_keeps_its_first_time_and_records_the_text_version(
    street: Street, db: Database, make: Factory
) -> None:
    worker = make.actor(street.users["grid_worker"])
    agreed = datetime(2026, 2, 1, 10, 0, tzinfo=LOCAL_TZ)
    with db.write() as session:
        card = tc.create_application(
            session,
            actor=worker,
            data=apply_args(resident_id=str(street.resident.id), checklist={"consent": True}),
            at=agreed,
        )
    with db.write() as session:
        tc.update_application(
            session,
            actor=worker,
            data={"application_id": str(card.id), "set": {"checklist": {"consent": True, "id_seen": True}}},
        )
    checklist = reload(db, card.id).checklist
    assert checklist["id_seen"] is True and checklist["consent_version"] == "tc-2026-01"
    assert datetime.fromisoformat(checklist["consent_at"]) == agreed
    assert "个人信息" in card_flow.CONSENT.text
    with db.write() as session:
        tc.update_application(
            session,
            actor=worker,
            data={"application_id": str(card.id), "set": {"checklist": {"consent": False}}},
        )
    assert reload(db, card.id).checklist == {"id_seen": False, "photo_taken": False, "consent": False}


# -- the yearly review: planned visits -------------------------------------------------------


def test_planning_a_review_visit_twice_makes_one_visit_that_reaches_the_worker(
    street: Street, db: Database, sync_phone: Any
) -> None:
    card = put_card(db, street.resident, "issued")
    worker, staff = sync_phone(street.users["grid_worker"]), sync_phone(street.users["community_staff"])
    day = (local_today() + timedelta(days=3)).isoformat()
    staff.queue("travel_card.plan_review", {"application_id": str(card.id), "planned_for": day})
    staff.queue("travel_card.plan_review", {"application_id": str(card.id), "planned_for": day})
    staff.push()
    worker.queue("travel_card.plan_review", {"application_id": str(card.id), "planned_for": day})
    worker.push()
    assert [r["status"] for r in (*staff.results.values(), *worker.results.values())] == ["applied"] * 3
    assert count(db, Visit) == 1
    with db.read() as session:
        visit = session.exec(select(Visit)).one()
    assert reload(db, card.id).review_visit_id == visit.id == tc.review_visit_id(card)
    assert [e.kind for e in events(db, card.id)] == ["plan_review"]
    worker.pull()
    planned = worker.records("visit")[str(visit.id)]
    assert planned["outcome"] == "planned" and planned["planned_for"] == day
    assert planned["household_id"] == str(street.household.id)
    assert planned["notes"] == f"老年出行卡年审：王桂英，{local_today().isoformat()} 到期。"
    assert worker.records("travel_card")[str(card.id)]["review_visit_id"] == str(visit.id)


def test_a_review_visit_can_be_planned_with_the_phone_s_own_id(
    street: Street, db: Database, sync_phone: Any
) -> None:
    card = put_card(db, street.resident, "issued")
    worker = sync_phone(street.users["grid_worker"])
    visit_id = str(uuid.uuid4())
    args = {"application_id": str(card.id), "planned_for": local_today().isoformat(), "visit_id": visit_id}
    worker.queue("travel_card.plan_review", args)
    worker.push()
    assert reload(db, card.id).review_visit_id == uuid.UUID(visit_id)


# -- the schema --------------------------------------------------------------------------------


def test_the_migrations_build_the_travel_card_tables_of_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert [d for d in differences if "travel_card" in repr(d)] == []


def test_every_non_private_column_reaches_the_phone() -> None:
    from sync.records import DATA_COLUMNS

    wanted = {
        "status",
        "reason",
        "checklist",
        "photo",
        "proxy",
        "delivery",
        "tier",
        "residence",
        "review_due",
    }
    assert wanted | {"review_visit_id", "submitted_at", "issued_at", "applied_on"} <= set(
        DATA_COLUMNS["travel_card"]
    )
    assert "applicant_hash" not in DATA_COLUMNS["travel_card"]
    assert {"kind", "from_status", "to_status", "actor_id", "note", "at"} <= set(
        DATA_COLUMNS["travel_card_event"]
    )
