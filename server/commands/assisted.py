"""Domain commands for assisted applications (帮代办, 代办件): one write path for phones and office.

The workflow (steps, roles, consent, deadline) is `server.workflows.assisted`. An
application keeps the revision of the service item it began with (its name and
materials), whatever the guide says later; its checklist counts those materials. A step
the status does not allow is `invalid_transition`, a role that may not take it
`forbidden`; every step lands in the application's `history` and, from the office,
in the audit log. A refused command changes nothing.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from server import audit, preferences
from server.access import Actor, Forbidden, NotFound, can_hold, get_visible, live
from server.blobs import MAX_PHOTOS, attach, check_hashes, claim
from server.clock import step_time
from server.commands.demands import CHANNEL_NOTES, Rating
from server.commands.validation import validate
from server.errors import IdReused, InvalidInput, InvalidTransition
from server.i18n import gettext as _
from server.i18n import labels
from server.models import AssistedApplication, AssistedStatus, Department, Resident, ServiceItem
from server.workflows.assisted import (
    CONSENT,
    CONSENTS,
    NEEDS,
    OFFICE,
    TRANSITIONS,
    WORKFLOW,
    deadline_from,
    limit_of,
    may,
)

MAX_MATERIALS = 40


class AssistedCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    application_id: uuid.UUID
    item_id: uuid.UUID
    resident_id: uuid.UUID
    collected: list[int] = Field(default_factory=list, max_length=MAX_MATERIALS)
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)
    notes: str = Field(default="", max_length=2000)
    consent: bool = False
    consent_version: str | None = Field(default=None, max_length=40)
    consent_at: datetime | None = None


class AssistedStep(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    application_id: uuid.UUID
    note: str = Field(default="", max_length=2000)
    result: str = Field(default="", max_length=2000)
    missing: str = Field(default="", max_length=2000)
    reason: str = Field(default="", max_length=2000)
    department_id: uuid.UUID | None = None
    collected: list[int] | None = Field(default=None, max_length=MAX_MATERIALS)
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)


# The arguments each step takes besides `application_id` (the mutation's and the form's).
STEP_ARGS: dict[str, frozenset[str]] = {
    "submit": frozenset({"note", "department_id"}),
    "complete": frozenset({"result"}),
    "deliver": frozenset({"note"}),
    "return": frozenset({"missing"}),
    "resupply": frozenset({"note", "collected", "photos"}),
    "withdraw": frozenset({"reason"}),
}

NEED_MESSAGES = {
    "result": lambda: _("办结时必须写明办理结果。"),
    "missing": lambda: _("退回补件时必须写明缺什么材料。"),
    "reason": lambda: _("撤回时必须写明原因。"),
}


def _collected(indexes: list[int], materials: list[dict[str, Any]]) -> list[int]:
    if any(not 0 <= i < len(materials) for i in indexes):
        raise InvalidInput({"collected": _("材料清单：有一项不在这个事项的材料里。")})
    return sorted(set(indexes))


def _consent(args: AssistedCreate, at: datetime | None) -> dict[str, Any]:
    if not args.consent:
        raise InvalidInput({"consent": _("居民同意：代办前必须请居民阅读并同意委托代办告知。")})
    version = args.consent_version or CONSENT.version
    if version not in CONSENTS:
        raise InvalidInput({"consent": _("居民同意：不认识的告知书版本 %(v)s。", v=version)})
    return {"consent_at": step_time(args.consent_at or at).isoformat(), "consent_version": version}


def _entry(
    actor: Actor | None, kind: str, before: str | None, after: str, when: datetime, note: str
) -> dict[str, Any]:
    return {
        "kind": kind,
        "from": before,
        "to": after,
        "at": when.isoformat(),
        "actor_id": str(actor.id) if actor else None,
        "note": note,
    }


def create_application(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> AssistedApplication:
    """`assisted.create` (收件): at the door, from an item of the guide, with the resident's consent."""
    if not may(actor, "create"):
        raise Forbidden(actor.role)
    args = validate(AssistedCreate, data)
    existing = session.get(AssistedApplication, args.application_id)
    if existing is not None:
        # SYNC.md rule 8: the same application again is a replay.
        if (
            existing.item_id == args.item_id
            and existing.resident_id == args.resident_id
            and can_hold(actor, existing)
        ):
            return existing
        raise IdReused(_("这个代办件编号已被另一件使用。"))
    resident = get_visible(session, actor, Resident, args.resident_id)
    try:
        item = live(session, ServiceItem, args.item_id)
    except NotFound:
        item = None
    if item is None or not item.active:
        raise InvalidInput({"item_id": _("办事事项：不存在或已停用。")})
    collected = _collected(args.collected, item.materials)
    consent = _consent(args, at)
    photos = check_hashes(args.photos)
    claim(session, actor=actor, hashes=photos)
    when = step_time(at)
    limit = str(limit_of(item.time_limit_days))
    application = AssistedApplication(
        id=args.application_id,
        item_id=item.id,
        item_revision=item.revision,
        item_name=item.name,
        materials=item.materials,
        resident_id=resident.id,
        household_id=resident.household_id,
        community_id=resident.community_id,
        grid_id=resident.grid_id,
        status=AssistedStatus.received,
        collected=collected,
        photos=photos,
        notes=args.notes,
        consent=consent,
        time_limit=limit,
        received_at=when,
        deadline=deadline_from(preferences.work_calendar(session), limit, when),
        created_by=actor.id,
        history=[_entry(actor, "create", None, AssistedStatus.received, when, args.notes)],
    )
    session.add(application)
    session.flush()
    if photos:
        attach(
            session, actor=actor, record_type="assisted_application", record_id=application.id, hashes=photos
        )
    return application


def take_step(
    session: Session, *, actor: Actor, step: str, data: dict[str, Any], at: datetime | None = None
) -> AssistedApplication:
    """`assisted.{step}`: one step of the workflow, checked against the current status."""
    unexpected = set(data) - STEP_ARGS[step] - {"application_id"}
    if unexpected:
        raise InvalidInput({name: _("这一步不接受这个参数。") for name in sorted(unexpected)})
    args = validate(AssistedStep, data)
    application = WORKFLOW.open(session, actor, step, args.application_id)
    needed = NEEDS.get(step)
    if needed and not getattr(args, needed):
        raise InvalidInput({needed: NEED_MESSAGES[needed]()})
    last = application.history[-1]["at"] if application.history else None
    when = step_time(at, floor=datetime.fromisoformat(last) if last else None)
    EFFECTS[step](session, actor, application, args, when)
    before, target = application.status, TRANSITIONS[step][1]
    assert target is not None
    application.status = target
    note = getattr(args, needed) if needed else args.note
    application.history = [*application.history, _entry(actor, step, before, target, when, note)]
    if not actor.is_worker:
        audit.record(
            session,
            actor=actor,
            action=f"assisted.{step}",
            record_type="assisted_application",
            record_id=application.id,
            from_status=before,
            to_status=target,
            note=note,
        )
    session.flush()
    return application


Effect = Callable[[Session, Actor, AssistedApplication, AssistedStep, datetime], None]


def _submit(
    session: Session, actor: Actor, a: AssistedApplication, args: AssistedStep, when: datetime
) -> None:
    if args.department_id is not None:
        try:
            a.department_id = live(session, Department, args.department_id).id
        except NotFound:
            raise InvalidInput({"department_id": _("部门：请选择一个部门。")}) from None


def _complete(
    session: Session, actor: Actor, a: AssistedApplication, args: AssistedStep, when: datetime
) -> None:
    a.result = args.result
    a.completed_at = when


def _deliver(
    session: Session, actor: Actor, a: AssistedApplication, args: AssistedStep, when: datetime
) -> None:
    a.delivered_at = when
    a.rating_token = secrets.token_urlsafe(24)  # the resident's single-use rating link


def _return(
    session: Session, actor: Actor, a: AssistedApplication, args: AssistedStep, when: datetime
) -> None:
    a.missing = args.missing


def _resupply(
    session: Session, actor: Actor, a: AssistedApplication, args: AssistedStep, when: datetime
) -> None:
    """The missing materials brought: received again, and the time limit counts from now."""
    if args.collected is not None:
        a.collected = _collected(args.collected, a.materials)
    photos = [p for p in check_hashes(args.photos) if p not in a.photos]
    claim(session, actor=actor, hashes=photos)
    if photos:
        a.photos = [*a.photos, *photos]
        attach(session, actor=actor, record_type="assisted_application", record_id=a.id, hashes=photos)
    a.missing = ""
    a.received_at = when
    a.deadline = deadline_from(preferences.work_calendar(session), a.time_limit, when)


def _withdraw(
    session: Session, actor: Actor, a: AssistedApplication, args: AssistedStep, when: datetime
) -> None:
    a.reason = args.reason


EFFECTS: dict[str, Effect] = {
    "submit": _submit,
    "complete": _complete,
    "deliver": _deliver,
    "return": _return,
    "resupply": _resupply,
    "withdraw": _withdraw,
}


# -- the resident's rating and the rectification of a 差评 ----------------------------------------


class AssistedRating(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rating: Rating
    comment: str = Field(default="", max_length=500)


class AssistedRectify(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    application_id: uuid.UUID
    answer: str = Field(min_length=1, max_length=2000)


def _noted(a: AssistedApplication, actor: Actor | None, kind: str, note: str) -> datetime:
    """An entry on the history that leaves the status as it is; answers its time."""
    last = a.history[-1]["at"] if a.history else None
    when = step_time(None, floor=datetime.fromisoformat(last) if last else None)
    a.history = [*a.history, _entry(actor, kind, a.status, a.status, when, note)]
    return when


def _rate(
    session: Session, a: AssistedApplication, *, actor: Actor | None, args: AssistedRating, channel: str
) -> AssistedApplication:
    """After 已送达, once. The channel says honestly how it reached us: a rating recorded by
    anyone signed in to Doorstep is never the resident's own."""
    if a.status != AssistedStatus.delivered or a.rating is not None:
        raise InvalidTransition(_("这件代办还没有送达，或已经评价过了。"))
    note = _("居民评价：%(rating)s。", rating=labels.label("rating", args.rating)) + str(
        CHANNEL_NOTES[channel]
    )
    a.rating, a.rating_comment, a.rating_channel = args.rating, args.comment, channel
    a.rated_by = actor.id if actor else None
    a.rating_token = ""  # nosec B105
    _noted(a, actor, "rate", note + args.comment)
    session.flush()
    return a


def rate_by_phone(session: Session, *, actor: Actor, data: dict[str, Any]) -> AssistedApplication:
    """Staff calling the resident back (电话回访) record the rating the resident gives them."""
    if actor.role not in OFFICE:
        raise Forbidden(actor.role)
    application = get_visible(session, actor, AssistedApplication, data.get("application_id"))
    args = validate(AssistedRating, {k: v for k, v in data.items() if k != "application_id"})
    _rate(session, application, actor=actor, args=args, channel="phone")
    audit.record(
        session,
        actor=actor,
        action="assisted.rate",
        record_type="assisted_application",
        record_id=application.id,
        rating=args.rating,
        channel="phone",
    )
    return application


class RatingLinkUsed(NotFound):
    """No delivered application waits for a rating under this link."""


def application_by_token(session: Session, token: str) -> AssistedApplication:
    if not token or len(token) > 64:
        raise RatingLinkUsed("assisted_application")
    found = session.exec(select(AssistedApplication).where(AssistedApplication.rating_token == token)).first()
    if found is None or found.deleted_at is not None or found.status != AssistedStatus.delivered:
        raise RatingLinkUsed("assisted_application")
    return found


def rate_by_token(
    session: Session, *, token: str, data: dict[str, Any], ip: str = "", viewer: Actor | None = None
) -> AssistedApplication:
    """The resident rates through their own link, once. Opened where Doorstep is signed in
    (`viewer`: the worker who delivered it, anyone), it is recorded as that person's 代录."""
    args = validate(AssistedRating, data)
    application = application_by_token(session, token)
    channel = "resident" if viewer is None else "proxy"
    _rate(session, application, actor=viewer, args=args, channel=channel)
    audit.record(
        session,
        actor=viewer,
        action="assisted.rate_link",
        record_type="assisted_application",
        record_id=application.id,
        ip=ip,
        rating=args.rating,
        channel=channel,
    )
    return application


def needs_rectification(a: AssistedApplication) -> bool:
    return a.rating == "dissatisfied" and a.rectified_at is None


def answer_rectification(session: Session, *, actor: Actor, data: dict[str, Any]) -> AssistedApplication:
    """差评件件有回复、件件有整改: staff write what was done about a 不满意; once, kept on the
    application's history and in the audit log."""
    if actor.role not in OFFICE:
        raise Forbidden(actor.role)
    args = validate(AssistedRectify, data)
    application = get_visible(session, actor, AssistedApplication, args.application_id)
    if not needs_rectification(application):
        raise InvalidTransition(_("这件代办没有待整改的差评。"))
    application.rectification = args.answer
    application.rectified_at = _noted(application, actor, "rectify", args.answer)
    application.rectified_by = actor.id
    audit.record(
        session,
        actor=actor,
        action="assisted.rectify",
        record_type="assisted_application",
        record_id=application.id,
        answer=args.answer,
    )
    session.flush()
    return application
