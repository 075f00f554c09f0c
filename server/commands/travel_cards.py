"""Domain commands for elderly travel card applications (老年出行卡).

Eligibility is decided from the ID number's birth date on the application
date; one open application or active card per person, across grids, found by
the keyed hash of the ID number.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from server.access import Actor, Forbidden, can_hold, get_visible
from server.clock import local_today
from server.commands.errors import DuplicateApplication, IdReused, NotEligible
from server.commands.validation import validate
from server.i18n import gettext as _
from server.idnumber import age_on
from server.models import CardStatus, Resident, TravelCard, TravelCardEvent

Delivery = Literal["collect", "door"]
CLOSED = (CardStatus.rejected, CardStatus.cancelled)
DEFAULT_AGE_THRESHOLD = 65


class TravelCardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: uuid.UUID
    resident_id: uuid.UUID
    delivery: Delivery = "collect"


def add_event(
    session: Session,
    card: TravelCard,
    *,
    actor: Actor | None,
    kind: str,
    from_status: str | None,
    note: str = "",
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
    )
    session.add(event)
    return event


def create_application(
    session: Session, *, actor: Actor, data: dict[str, Any], threshold: int = DEFAULT_AGE_THRESHOLD
) -> TravelCard:
    """SYNC.md core mutation `travel_card.create`: a draft application at the door."""
    if not (actor.is_worker or actor.is_staff):
        raise Forbidden(actor.role)
    args = validate(TravelCardCreate, data)
    existing = session.get(TravelCard, args.application_id)
    if existing is not None:
        if (
            existing.resident_id == args.resident_id
            and existing.delivery == args.delivery
            and can_hold(actor, existing)
        ):
            return existing
        raise IdReused(_("这个申请编号已被另一份申请使用。"))
    resident = get_visible(session, actor, Resident, args.resident_id)
    applied_on = local_today()
    if resident.birth_date is None or age_on(resident.birth_date, applied_on) < threshold:
        raise NotEligible(_("申请人未满 %(age)s 周岁，不能办理老年出行卡。", age=threshold))
    if resident.id_hash:
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
        status=CardStatus.draft,
        delivery=args.delivery,
        created_by=actor.id,
        applied_on=applied_on,
    )
    session.add(card)
    add_event(session, card, actor=actor, kind="created", from_status=None)
    return card
