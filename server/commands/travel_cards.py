"""Domain commands for elderly travel card applications (老年出行卡).

The workflow itself (steps, roles, eligibility, consent) is
`server.workflows.travel_cards`. A step the current status does not allow is
`invalid_transition`; a role that may not take it, `forbidden`. One open application
or active card per person, across grids, found by the keyed hash of the ID
number. Every step writes a TravelCardEvent (who, when, from/to, note); the
decisions (review, advance, cancel) also go to the audit log.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, func, select

from server import audit, preferences
from server.access import Actor, Forbidden, can_hold, get_visible
from server.blobs import attach, check_hashes, claim
from server.clock import LOCAL_TZ, local_today, step_time
from server.commands.households import check_phone
from server.commands.updates import UpdateResult, apply_changes
from server.commands.validation import validate
from server.errors import (
    DuplicateApplication,
    IdReused,
    InvalidInput,
)
from server.i18n import _l
from server.i18n import gettext as _
from server.models import CardStatus, Resident, TravelCard, TravelCardEvent, Visit, utcnow
from server.workflows.travel_cards import (
    CLOSED,
    CONSENT,
    CONSENTS,
    NEEDS_REASON,
    TRANSITIONS,
    WORKFLOW,
    add_months,
    eligible_tier,
    may,
    missing_materials,
)

M = TypeVar("M", bound=BaseModel)
S = CardStatus
Delivery = Literal["collect", "door"]
Residence = Literal["hukou", "permit", ""]  # "": not recorded yet
Decision = Literal["approve", "reject", "needs_supplement"]
Stage = Literal["in_production", "ready", "issued"]


# -- argument shapes -------------------------------------------------------------------------

FIELD_LABELS = {
    "application_id": _l("申请编号"),
    "delivery": _l("领卡方式"),
    "residence": _l("居住证明"),
    "checklist": _l("材料清单"),
    "photo": _l("照片"),
    "proxy": _l("代办人"),
    "decision": _l("审核结果"),
    "reason": _l("原因"),
    "to": _l("下一步"),
    "note": _l("备注"),
    "planned_for": _l("计划走访日期"),
    "visit_id": _l("走访编号"),
}


class Checklist(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_seen: bool = False
    photo_taken: bool = False
    consent: bool = False
    consent_at: datetime | None = None  # when the applicant agreed; else the mutation's `at`
    consent_version: str | None = Field(default=None, max_length=40)


class Proxy(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=40)
    relation: str = Field(default="", max_length=20)
    phone: str = Field(default="", max_length=30)


class TravelCardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: uuid.UUID
    resident_id: uuid.UUID
    delivery: Delivery = "collect"
    residence: Residence | None = None
    checklist: Checklist | None = None
    photo: str | None = None
    proxy: Proxy | None = None


class TravelCardChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delivery: Delivery | None = None
    residence: Residence | None = None
    checklist: Checklist | None = None
    photo: str | None = None
    proxy: Proxy | None = None


class TravelCardUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: uuid.UUID
    base_version: int | None = Field(default=None, ge=0)
    set: dict[str, Any]


class ApplicationRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: uuid.UUID


class TravelCardReview(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    application_id: uuid.UUID
    decision: Decision
    reason: str = Field(default="", max_length=500)


class TravelCardAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    application_id: uuid.UUID
    to: Stage
    note: str = Field(default="", max_length=500)


class TravelCardCancel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    application_id: uuid.UUID
    reason: str = Field(default="", max_length=500)


class ReviewVisitPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: uuid.UUID
    planned_for: date
    visit_id: uuid.UUID | None = None


def _validate(schema: type[M], data: Any) -> M:
    """`validate`, with this module's field names in the messages."""
    try:
        return validate(schema, data)
    except InvalidInput as exc:
        errors = {}
        for name, message in exc.errors.items():
            if name in FIELD_LABELS and message.startswith(f"{name}："):
                message = str(FIELD_LABELS[name]) + message[len(name) :]
            errors[name] = message
        raise InvalidInput(errors) from None


# -- small rules -----------------------------------------------------------------------------


def _names(fields: list[str]) -> str:
    return "、".join(str(FIELD_LABELS.get(f, f)) for f in fields)


def _photo(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_hashes([value])[0]
    except InvalidInput:
        raise InvalidInput({"photo": _("照片：编号应为 64 位小写十六进制 SHA-256。")}) from None


def _proxy(value: Proxy | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"name": value.name, "relation": value.relation, "phone": check_phone(value.phone, "proxy")}


def _checklist(given: Checklist, before: dict[str, Any], at: datetime | None) -> dict[str, Any]:
    """The checklist to store: the answers, and for consent the time and the text version."""
    result: dict[str, Any] = {
        "id_seen": given.id_seen,
        "photo_taken": given.photo_taken,
        "consent": given.consent,
    }
    if not given.consent:
        return result
    agreed_before = bool(before.get("consent"))
    version = given.consent_version or (before.get("consent_version") if agreed_before else None)
    version = version or CONSENT.version
    if version not in CONSENTS:
        raise InvalidInput({"checklist": _("材料清单：不认识的同意书版本 %(v)s。", v=version)})
    if given.consent_at is not None:
        when = step_time(given.consent_at).isoformat()
    elif agreed_before and before.get("consent_at"):
        when = str(before["consent_at"])
    else:
        when = step_time(at).isoformat()
    return result | {"consent_at": when, "consent_version": version}


def add_event(
    session: Session,
    card: TravelCard,
    *,
    actor: Actor | None,
    kind: str,
    from_status: str | None,
    note: str = "",
    at: datetime | None = None,
) -> TravelCardEvent:
    event = TravelCardEvent(
        application_id=card.id,
        community_id=card.community_id,
        grid_id=card.grid_id,
        kind=kind,
        from_status=from_status,
        to_status=card.status,
        actor_id=actor.id if actor else None,
        note=note,
        at=at or utcnow(),
    )
    session.add(event)
    return event


_open = WORKFLOW.open


def _last_step(session: Session, card: TravelCard) -> datetime:
    """When the application's latest step happened, as its history says: a floor for the next.
    Not `updated_at`, the server's write time: a card made and submitted offline reaches the
    server in one push, and its submission keeps the moment the worker submitted it."""
    latest = session.exec(
        select(func.max(TravelCardEvent.at)).where(TravelCardEvent.application_id == card.id)
    ).one()
    return latest or card.updated_at


def _step(
    session: Session, actor: Actor, card: TravelCard, step: str, *, note: str, at: datetime | None
) -> datetime:
    """Move the card along `step`, with its event and an audit row; returns when it happened."""
    target = TRANSITIONS[step][1]
    assert target is not None
    when = step_time(at, floor=_last_step(session, card))
    before = card.status
    card.status = target
    add_event(session, card, actor=actor, kind=step, from_status=before, note=note, at=when)
    if step != "submit":  # the office's decisions, and a worker's delivery or cancellation
        audit.record(
            session,
            actor=actor,
            action=f"travel_card.{step}",
            record_type="travel_card",
            record_id=card.id,
            from_status=before,
            to_status=target,
            note=note,
        )
    return when


# -- the commands ----------------------------------------------------------------------------


def create_application(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> TravelCard:
    """SYNC.md core mutation `travel_card.create`: a draft application at the door."""
    if not may(actor, "create"):
        raise Forbidden(actor.role)
    args = _validate(TravelCardCreate, data)
    existing = session.get(TravelCard, args.application_id)
    if existing is not None:
        # SYNC.md rule 8: the same application again is a replay.
        if (
            existing.resident_id == args.resident_id
            and existing.delivery == args.delivery
            and can_hold(actor, existing)
        ):
            return existing
        raise IdReused(_("这个申请编号已被另一份申请使用。"))
    resident = get_visible(session, actor, Resident, args.resident_id)
    photo = _photo(args.photo)
    claim(session, actor=actor, hashes=[photo] if photo else [], field="photo")
    proxy = _proxy(args.proxy)
    checklist = _checklist(args.checklist or Checklist(), {}, at)
    applied_on = local_today()
    tier = eligible_tier(session, resident.birth_date if resident.id_hash else None, applied_on)
    clash = session.exec(
        select(TravelCard.id).where(
            TravelCard.applicant_hash == resident.id_hash,
            col(TravelCard.status).not_in(CLOSED),
            col(TravelCard.deleted_at).is_(None),
        )
    ).first()
    if clash is not None:
        raise DuplicateApplication(_("此人已有一份未结束的申请或有效的出行卡。"))
    card = TravelCard(
        id=args.application_id,
        resident_id=resident.id,
        household_id=resident.household_id,
        community_id=resident.community_id,
        grid_id=resident.grid_id,
        applicant_hash=resident.id_hash,
        status=S.draft,
        delivery=args.delivery,
        tier=tier,
        residence=args.residence or "",
        checklist=checklist,
        photo=photo,
        proxy=proxy,
        created_by=actor.id,
        applied_on=applied_on,
    )
    session.add(card)
    if photo:
        attach(session, actor=actor, record_type="travel_card", record_id=card.id, hashes=[photo])
    add_event(session, card, actor=actor, kind="created", from_status=None, at=step_time(at))
    session.flush()
    return card


def update_application(
    session: Session,
    *,
    actor: Actor,
    data: dict[str, Any],
    client_id: str | None = None,
    at: datetime | None = None,
) -> tuple[TravelCard, UpdateResult]:
    """`travel_card.update`: fields of a draft or of one sent back for supplement (SYNC.md rule 8)."""
    args = _validate(TravelCardUpdate, data)
    card = _open(session, actor, "update", args.application_id)
    given = _validate(TravelCardChanges, args.set)
    if not given.model_fields_set:
        raise InvalidInput({"set": _("没有要修改的内容。")})
    changes: dict[str, Any] = {}
    for name in (n for n in TravelCardChanges.model_fields if n in given.model_fields_set):
        if name == "delivery":
            if given.delivery is None:
                raise InvalidInput({"delivery": _("领卡方式：必须填写。")})
            changes["delivery"] = given.delivery
        elif name == "residence":
            changes["residence"] = given.residence or ""
        elif name == "checklist":
            changes["checklist"] = _checklist(given.checklist or Checklist(), card.checklist or {}, at)
        elif name == "photo":
            changes["photo"] = _photo(given.photo)
        elif name == "proxy":
            changes["proxy"] = _proxy(given.proxy)
    if changes.get("photo"):
        claim(session, actor=actor, hashes=[changes["photo"]], field="photo")
        # Attached even if the field conflicts: whoever resolves it must be able to see both.
        attach(session, actor=actor, record_type="travel_card", record_id=card.id, hashes=[changes["photo"]])
    result = apply_changes(
        session,
        actor=actor,
        record=card,
        changes=changes,
        base_version=args.base_version,
        client_id=client_id,
        at=at,
    )
    if result.applied or result.conflicts:
        parts = []
        if result.applied:
            parts.append(_("修改了%(fields)s", fields=_names(result.applied)))
        if result.conflicts:
            parts.append(_("%(fields)s与别人的修改冲突，未覆盖", fields=_names(result.conflict_fields)))
        add_event(
            session,
            card,
            actor=actor,
            kind="updated",
            from_status=card.status,
            note="；".join(parts),
            at=step_time(at, floor=_last_step(session, card)),
        )
    session.flush()
    return card, result


def submit_application(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> TravelCard:
    """`travel_card.submit`: to the office's review queue, once the materials are complete."""
    args = _validate(ApplicationRef, data)
    card = _open(session, actor, "submit", args.application_id)
    missing = missing_materials(card)
    if missing:
        raise InvalidInput(
            {"materials": _("材料不全，不能提交。还缺：%(items)s。", items="、".join(missing))}
        )
    when = _step(session, actor, card, "submit", note="", at=at)
    card.submitted_at = card.submitted_at or when  # a resubmission keeps its place in the queue
    card.reason = ""
    session.flush()
    return card


def review_application(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> TravelCard:
    """`travel_card.review`: the community's decision on a submitted application."""
    args = _validate(TravelCardReview, data)
    card = _open(session, actor, args.decision, args.application_id)
    if args.decision in NEEDS_REASON and not args.reason:
        message = {
            "reject": _("不予通过时必须写明原因。"),
            "needs_supplement": _("退回补充时必须写明要补充什么。"),
        }[args.decision]
        raise InvalidInput({"reason": message})
    _step(session, actor, card, args.decision, note=args.reason, at=at)
    card.reason = args.reason if args.decision in NEEDS_REASON else ""
    session.flush()
    return card


def advance_application(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> TravelCard:
    """`travel_card.advance`: production, ready, issued. Issuing sets the yearly review due date."""
    args = _validate(TravelCardAdvance, data)
    card = _open(session, actor, args.to, args.application_id)
    when = _step(session, actor, card, args.to, note=args.note, at=at)
    if args.to == "issued":
        months = int(preferences.get(session, "travel_card.review_months"))
        card.issued_at = when
        card.review_due = add_months(when.astimezone(LOCAL_TZ).date(), months)
        card.review_visit_id = None
    session.flush()
    return card


def cancel_application(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> TravelCard:
    """`travel_card.cancel`: the application ends (the person may apply again)."""
    args = _validate(TravelCardCancel, data)
    card = _open(session, actor, "cancel", args.application_id)
    if not args.reason:
        raise InvalidInput({"reason": _("撤销申请时必须写明原因。")})
    _step(session, actor, card, "cancel", note=args.reason, at=at)
    card.reason = args.reason
    session.flush()
    return card


# -- the yearly review -----------------------------------------------------------------------

REVIEW_VISITS = uuid.UUID("8f1d6a52-3c1e-4f7b-9a4e-2b7c5d0e6f13")


def review_visit_id(card: TravelCard) -> uuid.UUID:
    """The same id for the same card's same review, so planning it twice cannot make two visits."""
    return uuid.uuid5(REVIEW_VISITS, f"{card.id}/{card.review_due}")


def plan_review_visit(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> tuple[Visit, bool]:
    """`travel_card.plan_review`: a planned visit for an issued card's yearly review, at its
    household; once per review (the planned visit again, and False, when it exists)."""
    args = _validate(ReviewVisitPlan, data)
    card = _open(session, actor, "plan_review", args.application_id)
    if card.review_due is None:
        raise WORKFLOW.refuse(card, "plan_review")
    if card.review_visit_id is not None:
        planned = session.get(Visit, card.review_visit_id)
        if planned is not None and planned.deleted_at is None:
            return planned, False
    visit_id = args.visit_id or review_visit_id(card)
    existing = session.get(Visit, visit_id)
    if existing is not None:
        if existing.household_id != card.household_id or existing.outcome != "planned":
            raise IdReused(_("这个走访编号已被另一次走访使用。"))
        card.review_visit_id = existing.id
        return existing, False
    resident = session.get(Resident, card.resident_id)
    visit = Visit(
        id=visit_id,
        household_id=card.household_id,
        community_id=card.community_id,
        grid_id=card.grid_id,
        worker_id=actor.id if actor.is_worker else None,
        purpose="service",
        outcome="planned",
        planned_for=args.planned_for,
        notes=_(
            "老年出行卡年审：%(name)s，%(due)s 到期。",
            name=resident.name if resident else "",
            due=card.review_due.isoformat(),
        ),
        at=step_time(at),
    )
    session.add(visit)
    card.review_visit_id = visit.id
    add_event(
        session,
        card,
        actor=actor,
        kind="plan_review",
        from_status=card.status,
        note=_("计划 %(day)s 上门年审", day=args.planned_for.isoformat()),
        at=step_time(at, floor=_last_step(session, card)),
    )
    session.flush()
    return visit, True


# -- the one step table ------------------------------------------------------------------------
# Step → its command, read by the office routes (`/travel-cards/{id}/{step}`) and the sync
# catalogue (`travel_card.{step}`), so both paths take a step through the same function.
STEP_COMMANDS: dict[str, Callable[..., Any]] = {
    "submit": submit_application,
    "review": review_application,
    "advance": advance_application,
    "cancel": cancel_application,
    "plan_review": plan_review_visit,
}
