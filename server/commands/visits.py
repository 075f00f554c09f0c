"""Domain command for visits: a worker records what happened at a door.

`record_visits` takes a whole run of visits at once — a phone back from a
day in the stairwells pushes dozens — and writes them with one insert; the
office form records one through the same function.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert
from sqlmodel import Session, col, select

from server import versions
from server.access import Actor, Forbidden, NotFound, OutOfScope, can_hold_row
from server.blobs import MAX_PHOTOS, check_hashes, claim, references
from server.clock import step_time
from server.commands.validation import validate
from server.errors import DomainError, IdReused, InvalidInput
from server.i18n import gettext as _
from server.models import BlobRef, Household, ServiceItem, Visit, utcnow

MAX_EXPLAINED = 20
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
    explained_items: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_EXPLAINED)
    at: datetime | None = None


@dataclass(frozen=True)
class VisitRequest:
    data: dict[str, Any]
    at: datetime | None = None  # when the worker acted (the mutation's `at`)


Refusal = DomainError | NotFound | Forbidden


def _same(existing: Mapping[str, Any], args: VisitRecord, photos: list[str]) -> bool:
    return bool(
        existing["household_id"] == args.household_id
        and existing["purpose"] == args.purpose
        and existing["outcome"] == args.outcome
        and existing["notes"] == args.notes
        and existing["photos"] == photos
        and list(existing.get("explained_items") or []) == _explained(args)
    )


def _explained(args: VisitRecord) -> list[str]:
    return list(dict.fromkeys(str(item) for item in args.explained_items))


def _check_items(session: Session, args: VisitRecord) -> None:
    """The explained items must be live service items (a query only when some are named)."""
    named = {uuid.UUID(i) for i in _explained(args)}
    if not named:
        return
    query = select(ServiceItem.id).where(
        col(ServiceItem.id).in_(named), col(ServiceItem.deleted_at).is_(None)
    )
    found: set[uuid.UUID] = set(session.exec(query).all())
    if named - found:
        raise InvalidInput({"explained_items": _("讲解的办事事项：有事项不存在或已删除。")})


def record_visits(
    session: Session, *, actor: Actor, requests: list[VisitRequest]
) -> list[uuid.UUID | Refusal]:
    """Record each visit, or say why not; one refusal never stops the others."""
    if not (actor.is_worker or actor.is_staff):
        return [Forbidden(actor.role) for _ in requests]
    parsed: list[tuple[VisitRecord, list[str]] | Refusal] = []
    for request in requests:
        try:
            args = validate(VisitRecord, request.data)
            photos = check_hashes(args.photos)
            _check_items(session, args)
            claim(session, actor=actor, hashes=photos)
            parsed.append((args, photos))
        except DomainError as exc:
            parsed.append(exc)
    valid = [p for p in parsed if isinstance(p, tuple)]
    households = _households(session, {args.household_id for args, _ in valid})
    existing = _visits(session, {args.visit_id for args, _ in valid})

    now = utcnow()
    results: list[uuid.UUID | Refusal] = []
    rows: list[dict[str, Any]] = []
    refs: list[dict[str, Any]] = []
    for request, item in zip(requests, parsed, strict=True):
        if not isinstance(item, tuple):
            results.append(item)
            continue
        args, photos = item
        before = existing.get(args.visit_id)
        if before is not None:
            # SYNC.md rule 8: the same visit again is a replay; other content under its id is refused.
            if _same(before, args, photos) and can_hold_row(actor, Visit, before):
                results.append(args.visit_id)
            else:
                results.append(IdReused(_("这个走访编号已被另一条记录使用。")))
            continue
        household = households.get(args.household_id)
        refusal = _household_refusal(actor, household)
        if refusal is not None or household is None:
            results.append(refusal or NotFound("household"))
            continue
        # A new visit has no earlier change to follow; it is only never in the future.
        when = step_time(args.at or request.at)
        values = {
            "id": args.visit_id,
            "household_id": household["id"],
            "community_id": household["community_id"],
            "grid_id": household["grid_id"],
            "worker_id": actor.id,
            "purpose": args.purpose,
            "outcome": args.outcome,
            "notes": args.notes,
            "photos": photos,
            "explained_items": _explained(args),
            "at": when,
            "created_at": now,
            "updated_at": now,
            "field_versions": {},
        }
        rows.append(values)
        existing[args.visit_id] = values
        new_refs = references(
            session, actor=actor, record_type="visit", record_id=args.visit_id, hashes=photos
        )
        refs.extend(ref.model_dump() for ref in new_refs)
        results.append(args.visit_id)
    if rows:
        for new, version in zip(rows, versions.allocate(session, len(rows)), strict=True):
            new["version"] = version
        session.execute(insert(Visit.__table__), rows)  # type: ignore[attr-defined]
        if refs:
            session.execute(insert(BlobRef.__table__), refs)  # type: ignore[attr-defined]
    return results


def _households(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The visited households' scope columns, by id, in one query."""
    if not ids:
        return {}
    table = Household.__table__  # type: ignore[attr-defined]
    columns = select(table.c.id, table.c.community_id, table.c.grid_id, table.c.deleted_at)
    rows = session.execute(columns.where(table.c.id.in_(ids))).mappings()
    return {row["id"]: dict(row) for row in rows}


def _visits(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The visits already stored under these ids (replays), by id."""
    if not ids:
        return {}
    table = Visit.__table__  # type: ignore[attr-defined]
    return {
        row["id"]: dict(row) for row in session.execute(select(table).where(table.c.id.in_(ids))).mappings()
    }


def _household_refusal(actor: Actor, household: dict[str, Any] | None) -> Refusal | None:
    if household is None or household["deleted_at"] is not None:
        return NotFound("household")
    if not can_hold_row(actor, Household, household):
        return OutOfScope("household")
    return None


def record_visit(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Visit:
    """SYNC.md core mutation `visit.record` for one visit (the office form)."""
    (result,) = record_visits(session, actor=actor, requests=[VisitRequest(data, at)])
    if isinstance(result, Exception):
        raise result
    visit = session.get(Visit, result)
    assert visit is not None
    return visit
