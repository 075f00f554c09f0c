"""Reads of assisted applications (代办件) for the office: the queue with its deadlines, one
application, and what people come for most (a count per item, never per worker)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from server import preferences
from server.access import Actor, get_visible, scope_filter
from server.models import AssistedApplication, Department, Grid, Resident
from server.workflows.assisted import OPEN, warning_level


@dataclass(frozen=True)
class Row:
    application: AssistedApplication
    resident: str
    grid: str
    warning: str  # ok | soon | overdue | "" (the clock does not run)


def _in_scope(actor: Actor) -> list[object]:
    return [scope_filter(actor, AssistedApplication), col(AssistedApplication.deleted_at).is_(None)]


def queue(session: Session, actor: Actor, *, status: str, now: datetime) -> list[Row]:
    """Applications of one status ("open": every one still owed), overdue first, then by deadline."""
    query = select(AssistedApplication, Resident.name, Grid.name).where(*_in_scope(actor))  # type: ignore[arg-type]
    query = query.join(Resident, Resident.id == AssistedApplication.resident_id)  # type: ignore[arg-type]
    query = query.join(Grid, Grid.id == AssistedApplication.grid_id)  # type: ignore[arg-type]
    statuses = OPEN if status == "open" else frozenset({status})
    query = query.where(col(AssistedApplication.status).in_(statuses))
    calendar = preferences.work_calendar(session)
    rows = [Row(a, name, grid, warning_level(calendar, a, now)) for a, name, grid in session.exec(query)]
    rank = {"overdue": 0, "soon": 1, "ok": 2, "": 3}
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(rows, key=lambda r: (rank[r.warning], r.application.deadline or far))


def item_counts(session: Session, actor: Actor) -> list[tuple[str, int]]:
    """How many applications each item has had (withdrawn ones left out), most first."""
    query = select(AssistedApplication.item_name).where(
        *_in_scope(actor),  # type: ignore[arg-type]
        AssistedApplication.status != "withdrawn",
    )
    return Counter(session.exec(query)).most_common()


@dataclass(frozen=True)
class Ratings:
    """The residents' ratings after 已送达, and the 差评 still waiting for their rectification."""

    rated: int
    dissatisfied: int
    to_rectify: list[AssistedApplication]


def ratings(session: Session, actor: Actor) -> Ratings:
    query = select(AssistedApplication).where(
        *_in_scope(actor),  # type: ignore[arg-type]
        col(AssistedApplication.rating).is_not(None),
    )
    rated = list(session.exec(query))
    bad = [a for a in rated if a.rating == "dissatisfied"]
    waiting = sorted((a for a in bad if a.rectified_at is None), key=lambda a: a.delivered_at or a.created_at)
    return Ratings(len(rated), len(bad), waiting)


@dataclass(frozen=True)
class Detail:
    application: AssistedApplication
    resident: Resident
    department: Department | None
    warning: str
    history: list[dict[str, Any]]  # as stored, with `at` as a datetime
    consented_at: datetime | None


def detail(session: Session, actor: Actor, application_id: uuid.UUID, now: datetime) -> Detail:
    application = get_visible(session, actor, AssistedApplication, application_id)
    resident = session.get(Resident, application.resident_id)
    assert resident is not None
    department = session.get(Department, application.department_id) if application.department_id else None
    calendar = preferences.work_calendar(session)
    history = [{**h, "at": datetime.fromisoformat(h["at"])} for h in application.history]
    consented = application.consent.get("consent_at")
    return Detail(
        application,
        resident,
        department,
        warning_level(calendar, application, now),
        history,
        datetime.fromisoformat(consented) if consented else None,
    )


def departments(session: Session) -> list[Department]:
    return list(
        session.exec(select(Department).where(col(Department.deleted_at).is_(None)).order_by(Department.name))
    )
