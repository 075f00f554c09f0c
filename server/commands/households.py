"""Domain commands for households: create, update (with conflicts), move between grids."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from server.access import Actor, Forbidden, NotFound, can_hold, get_visible
from server.commands.personal_data import record_phone_change
from server.commands.updates import UpdateResult, apply_changes, jsonable
from server.commands.validation import validate
from server.errors import IdReused, InvalidInput
from server.i18n import gettext as _
from server.models import (
    Conflict,
    Grid,
    Household,
    Resident,
    Role,
    TravelCard,
    TravelCardEvent,
    Visit,
    utcnow,
)
from server.people import phone as phones

Kind = Literal["registered", "resident", "floating", "rental"]
Status = Literal["active", "vacant", "moved_out"]


class HouseholdFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    estate: str = Field(min_length=1, max_length=60)
    building: str = Field(default="", max_length=20)
    unit: str = Field(default="", max_length=20)
    room: str = Field(default="", max_length=20)
    kind: Kind = "registered"
    status: Status = "active"
    phone: str = Field(default="", max_length=30)
    notes: str = Field(default="", max_length=2000)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)


class HouseholdCreate(HouseholdFields):
    household_id: uuid.UUID | None = None
    grid_id: uuid.UUID


class HouseholdChanges(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    estate: str | None = Field(default=None, min_length=1, max_length=60)
    building: str | None = Field(default=None, max_length=20)
    unit: str | None = Field(default=None, max_length=20)
    room: str | None = Field(default=None, max_length=20)
    kind: Kind | None = None
    status: Status | None = None
    phone: str | None = Field(default=None, max_length=30)
    notes: str | None = Field(default=None, max_length=2000)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    grid_id: uuid.UUID | None = None


class HouseholdUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    household_id: uuid.UUID
    base_version: int | None = Field(default=None, ge=0)
    set: dict[str, Any]


def join_address(estate: str, building: str = "", unit: str = "", room: str = "") -> str:
    return " ".join(part for part in (estate, building, unit, room) if part)


def check_phone(value: str, field: str = "phone") -> str:
    try:
        return phones.normalise(value)
    except phones.InvalidPhone:
        raise InvalidInput(
            {field: _("电话号码格式不对：手机号为 1 开头的 11 位数字，座机请带区号（如 0794-1234567）。")}
        ) from None


def usable_grid(session: Session, actor: Actor, grid_id: uuid.UUID) -> Grid:
    """A grid the actor may put households in; NotFound otherwise."""
    grid = session.get(Grid, grid_id)
    if grid is None or grid.deleted_at is not None:
        raise NotFound("grid")
    if actor.is_admin:
        return grid
    if actor.role == Role.community_staff and grid.community_id == actor.community_id:
        return grid
    if actor.role == Role.grid_worker and grid.id in actor.grid_ids:
        return grid
    raise NotFound("grid")


def _same_content(existing: Household, data: HouseholdCreate) -> bool:
    fields = data.model_dump(exclude={"household_id"})
    return all(jsonable(getattr(existing, k)) == jsonable(v) for k, v in fields.items())


def create_household(session: Session, *, actor: Actor, data: dict[str, Any]) -> Household:
    if actor.is_department:
        raise Forbidden(actor.role)
    args = validate(HouseholdCreate, data)
    args.phone = check_phone(args.phone)
    if args.household_id is not None:
        existing = session.get(Household, args.household_id)
        if existing is not None:
            # SYNC.md rule 8: the same content again is a replay, other content a reused id.
            if _same_content(existing, args) and can_hold(actor, existing):
                return existing
            raise IdReused(_("这个编号已被另一户使用。"))
    household = _new_household(session, actor, args)
    session.flush()
    return household


def add_household(session: Session, *, actor: Actor, data: dict[str, Any]) -> Household:
    """A new household added to the session, checked as `create_household` checks it, for a
    caller that flushes many at once (the ledger import); no client id, so no replay."""
    if actor.is_department:
        raise Forbidden(actor.role)
    args = validate(HouseholdCreate, data)
    args.phone = check_phone(args.phone)
    return _new_household(session, actor, args)


def _new_household(session: Session, actor: Actor, args: HouseholdCreate) -> Household:
    grid = usable_grid(session, actor, args.grid_id)
    fields = args.model_dump(exclude={"household_id", "grid_id"})
    household = Household(
        id=args.household_id or uuid.uuid4(),
        community_id=grid.community_id,
        grid_id=grid.id,
        address=join_address(args.estate, args.building, args.unit, args.room),
        created_at=(now := utcnow()),  # given: see `_new_resident`
        updated_at=now,
        field_versions={},
        **fields,
    )
    session.add(household)
    return household


def update_household(
    session: Session,
    *,
    actor: Actor,
    data: dict[str, Any],
    client_id: str | None = None,
    at: datetime | None = None,
) -> tuple[Household, UpdateResult]:
    args = validate(HouseholdUpdate, data)
    household = get_visible(session, actor, Household, args.household_id)
    changes_model = validate(HouseholdChanges, args.set)
    changes = {k: getattr(changes_model, k) for k in changes_model.model_fields_set}
    if not changes:
        raise InvalidInput({"set": _("没有要修改的内容。")})
    if "phone" in changes:
        changes["phone"] = check_phone(changes["phone"] or "")
    for text_field in ("building", "unit", "room", "notes"):
        if text_field in changes and changes[text_field] is None:
            changes[text_field] = ""
    for required in ("estate", "kind", "status"):
        if required in changes and changes[required] is None:
            raise InvalidInput({required: _("必须填写。")})
    new_grid = changes.pop("grid_id", None)
    phone_before = household.phone
    result = apply_changes(
        session,
        actor=actor,
        record=household,
        changes=changes,
        base_version=args.base_version,
        client_id=client_id,
        at=at,
    )
    record_phone_change(session, actor=actor, record=household, old=phone_before)
    if set(result.applied) & {"estate", "building", "unit", "room"}:
        household.address = join_address(household.estate, household.building, household.unit, household.room)
    if new_grid is not None and new_grid != household.grid_id:
        move_household(session, actor=actor, household=household, grid_id=new_grid)
    session.flush()
    return household, result


def move_household(session: Session, *, actor: Actor, household: Household, grid_id: uuid.UUID) -> None:
    """Move a household and everything recorded at its door to another grid (SYNC.md rule 10).

    The versions hook leaves a tombstone for the old grid for each moved row,
    so the old grid's phones get `del` and the new grid's phones `put`.
    """
    if not actor.is_staff:
        raise Forbidden(actor.role)
    grid = usable_grid(session, actor, grid_id)
    household.grid_id = grid.id
    household.community_id = grid.community_id
    residents = list(session.exec(select(Resident).where(Resident.household_id == household.id)))
    cards = list(session.exec(select(TravelCard).where(TravelCard.household_id == household.id)))
    card_ids = [c.id for c in cards]
    record_ids = [household.id, *(r.id for r in residents)]
    moved: list[Any] = [*residents, *cards]
    moved += session.exec(select(Visit).where(Visit.household_id == household.id))
    if card_ids:
        moved += session.exec(
            select(TravelCardEvent).where(col(TravelCardEvent.application_id).in_(card_ids))
        )
    moved += session.exec(select(Conflict).where(col(Conflict.record_id).in_(record_ids)))
    for row in moved:
        row.grid_id = grid.id
        row.community_id = grid.community_id
    session.flush()
