"""Domain command for visits: a worker records what happened at a door."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from server.access import Actor, Forbidden, can_hold, get_visible
from server.commands.errors import IdReused
from server.commands.photos import MAX_PHOTOS, attach, check_hashes
from server.commands.validation import validate
from server.i18n import gettext as _
from server.models import Household, Visit, utcnow

Purpose = Literal["routine", "care", "service", "follow_up"]
Outcome = Literal["completed", "nobody_home", "refused"]


class VisitRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    visit_id: uuid.UUID
    household_id: uuid.UUID
    purpose: Purpose
    outcome: Outcome
    notes: str = Field(default="", max_length=2000)
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)
    at: datetime | None = None


def record_visit(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Visit:
    """SYNC.md core mutation `visit.record`; the office form calls it too."""
    args = validate(VisitRecord, data)
    photos = check_hashes(args.photos)
    if not (actor.is_worker or actor.is_staff):
        raise Forbidden(actor.role)
    existing = session.get(Visit, args.visit_id)
    if existing is not None:
        same = (
            existing.household_id == args.household_id
            and existing.purpose == args.purpose
            and existing.outcome == args.outcome
            and existing.notes == args.notes
            and existing.photos == photos
        )
        if same and can_hold(actor, existing):
            return existing
        raise IdReused(_("这个走访编号已被另一条记录使用。"))
    household = get_visible(session, actor, Household, args.household_id)
    when = args.at or at or utcnow()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    visit = Visit(
        id=args.visit_id,
        household_id=household.id,
        community_id=household.community_id,
        grid_id=household.grid_id,
        worker_id=actor.id,
        purpose=args.purpose,
        outcome=args.outcome,
        notes=args.notes,
        photos=photos,
        at=when,
    )
    session.add(visit)
    attach(session, record_type="visit", record_id=visit.id, hashes=photos)
    return visit
