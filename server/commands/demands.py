"""Domain commands for residents' requests (微诉求): capture and accept.

The whole workflow (dispatch, progress, reply, resolve, transfer, return,
escalate, rate, close) builds on these; every step is a DemandEvent.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from server.access import Actor, Forbidden, NotFound, can_hold, get_visible
from server.commands.errors import IdReused, InvalidInput, InvalidTransition
from server.commands.households import check_phone
from server.commands.photos import MAX_PHOTOS, attach, check_hashes
from server.commands.validation import validate
from server.i18n import gettext as _
from server.models import Demand, DemandEvent, DemandStatus, Grid, Household, Role, utcnow

DemandField = Literal["property", "elderly_care", "infrastructure", "environment", "dispute"]
Source = Literal["visit", "phone", "hotline", "meeting", "public"]


class DemandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    demand_id: uuid.UUID
    household_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    field: DemandField
    description: str = Field(min_length=1, max_length=2000)
    source: Source
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)
    contact_name: str = Field(default="", max_length=40)
    contact_phone: str = Field(default="", max_length=30)
    address: str = Field(default="", max_length=200)


class DemandRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    demand_id: uuid.UUID


def add_event(
    session: Session,
    demand: Demand,
    *,
    actor: Actor | None,
    kind: str,
    from_status: str | None,
    note: str = "",
    photos: list[str] | None = None,
) -> DemandEvent:
    event = DemandEvent(
        demand_id=demand.id,
        community_id=demand.community_id,
        grid_id=demand.grid_id,
        department_id=demand.department_id,
        kind=kind,
        from_status=from_status,
        to_status=demand.status,
        actor_id=actor.id if actor else None,
        note=note,
        photos=list(photos or []),
    )
    session.add(event)
    if photos:
        attach(session, record_type="demand_event", record_id=event.id, hashes=photos)
    return event


def _grid_for(session: Session, actor: Actor, args: DemandCreate, household: Household | None) -> Grid | None:
    if household is not None:
        return session.get(Grid, household.grid_id)
    if args.grid_id is not None:
        grid = session.get(Grid, args.grid_id)
        if grid is None or not (
            actor.is_admin
            or grid.id in actor.grid_ids
            or (actor.role == Role.community_staff and grid.community_id == actor.community_id)
        ):
            raise NotFound("grid")
        return grid
    if actor.is_worker:
        if len(actor.grid_ids) != 1:
            raise InvalidInput({"grid_id": _("您负责多个网格，请选择网格。")})
        return session.get(Grid, next(iter(actor.grid_ids)))
    return None


def _same(existing: Demand, args: DemandCreate, photos: list[str]) -> bool:
    return (
        existing.household_id == args.household_id
        and existing.field == args.field
        and existing.description == args.description
        and existing.source == args.source
        and existing.photos == photos
    )


def create_demand(session: Session, *, actor: Actor, data: dict[str, Any]) -> Demand:
    """SYNC.md core mutation `demand.create`: a request lands as `submitted`."""
    if actor.is_department:
        raise Forbidden(actor.role)
    args = validate(DemandCreate, data)
    photos = check_hashes(args.photos)
    contact_phone = check_phone(args.contact_phone, "contact_phone")
    existing = session.get(Demand, args.demand_id)
    if existing is not None:
        if _same(existing, args, photos) and can_hold(actor, existing):
            return existing
        raise IdReused(_("这个诉求编号已被另一条诉求使用。"))
    household = get_visible(session, actor, Household, args.household_id) if args.household_id else None
    grid = _grid_for(session, actor, args, household)
    community_id = grid.community_id if grid else actor.community_id
    if community_id is None:
        raise InvalidInput({"grid_id": _("请选择网格。")})
    demand = Demand(
        id=args.demand_id,
        community_id=community_id,
        grid_id=grid.id if grid else None,
        household_id=household.id if household else None,
        field=args.field,
        description=args.description,
        source=args.source,
        status=DemandStatus.submitted,
        created_by=actor.id,
        contact_name=args.contact_name,
        contact_phone=contact_phone,
        address=args.address or (household.address if household else ""),
        photos=photos,
    )
    session.add(demand)
    attach(session, record_type="demand", record_id=demand.id, hashes=photos)
    add_event(session, demand, actor=actor, kind="created", from_status=None, note=args.description[:200])
    return demand


def accept_demand(session: Session, *, actor: Actor, data: dict[str, Any]) -> Demand:
    """SYNC.md core mutation `demand.accept`: a worker of the grid takes it; the first accept wins."""
    args = validate(DemandRef, data)
    demand = get_visible(session, actor, Demand, args.demand_id)
    if not actor.is_worker:
        raise Forbidden(actor.role)
    if demand.status != DemandStatus.dispatched or demand.grid_id not in actor.grid_ids:
        raise InvalidTransition(_("这条诉求已被接单，或没有派到您的网格。"))
    before = demand.status
    demand.status = DemandStatus.accepted
    demand.assignee_id = actor.id
    demand.accepted_at = utcnow()
    add_event(session, demand, actor=actor, kind="accepted", from_status=before)
    return demand
