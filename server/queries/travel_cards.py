"""Travel card applications as the office sees them: queues, lists by stage, one application.

Every query is limited to the caller's scope (`server.access`): a worker sees
the applications of their grids, staff those of their community.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from server.access import Actor, get_visible, scope_filter
from server.clock import local_today
from server.models import (
    CardStatus,
    Community,
    Grid,
    Household,
    Resident,
    TravelCard,
    TravelCardEvent,
    User,
    Visit,
)
from server.people.idnumber import age_on
from server.workflows.travel_cards import CLOSED, CONSENTS, card_ages, missing_materials, steps_for

REVIEW_WINDOW_DAYS = 30
LIST_LIMIT = 200


@dataclass(frozen=True)
class CardRow:
    """An application with what every list shows of it: who, where, how old."""

    card: TravelCard
    resident: Resident
    household: Household
    grid: Grid
    age: int | None
    creator: str = ""

    @property
    def consent_at(self) -> datetime | None:
        text = (self.card.checklist or {}).get("consent_at")
        try:
            return datetime.fromisoformat(text) if text else None
        except ValueError:
            return None

    @property
    def checks(self) -> dict[str, bool]:
        checklist = self.card.checklist or {}
        return {key: bool(checklist.get(key)) for key in ("id_seen", "photo_taken", "consent")}

    @property
    def missing(self) -> list[str]:
        return missing_materials(self.card)


def _rows(
    session: Session, actor: Actor, *conditions: ColumnElement[bool] | bool, order: Iterable[Any] = ()
) -> list[CardRow]:
    query = (
        select(TravelCard, Resident, Household, Grid)
        .join(Resident, col(Resident.id) == TravelCard.resident_id)
        .join(Household, col(Household.id) == TravelCard.household_id)
        .join(Grid, col(Grid.id) == TravelCard.grid_id)
        .where(scope_filter(actor, TravelCard), col(TravelCard.deleted_at).is_(None), *conditions)
        .order_by(*order, col(TravelCard.created_at), col(TravelCard.id))
        .limit(LIST_LIMIT)
    )
    found = session.exec(query).all()
    creators = _names(session, {card.created_by for card, *_rest in found})
    today = local_today()
    return [
        CardRow(
            card=card,
            resident=resident,
            household=household,
            grid=grid,
            age=age_on(resident.birth_date, today) if resident.birth_date else None,
            creator=creators.get(card.created_by, "") if card.created_by else "",
        )
        for card, resident, household, grid in found
    ]


def _names(session: Session, user_ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = [u for u in user_ids if u is not None]
    if not wanted:
        return {}
    return {u.id: u.display_name for u in session.exec(select(User).where(col(User.id).in_(wanted)))}


def status_counts(session: Session, actor: Actor) -> dict[str, int]:
    rows = session.exec(
        select(TravelCard.status, func.count())
        .where(scope_filter(actor, TravelCard), col(TravelCard.deleted_at).is_(None))
        .group_by(col(TravelCard.status))
    ).all()
    counts = {str(status): 0 for status in CardStatus}
    counts.update({str(status): int(n) for status, n in rows})
    return counts


def applications(session: Session, actor: Actor, status: str | None) -> list[CardRow]:
    """The list page: one status, or every open application; newest change first."""
    if status in CardStatus.__members__:
        condition: ColumnElement[bool] = col(TravelCard.status) == status
    else:
        condition = col(TravelCard.status).not_in((*CLOSED, CardStatus.issued))
    return _rows(session, actor, condition, order=[col(TravelCard.updated_at).desc()])


def review_queue(session: Session, actor: Actor) -> list[CardRow]:
    """Submitted applications, the one waiting longest first."""
    return _rows(
        session,
        actor,
        col(TravelCard.status) == CardStatus.submitted,
        order=[col(TravelCard.submitted_at)],
    )


def in_stage(
    session: Session, actor: Actor, status: CardStatus, delivery: str | None = None
) -> list[CardRow]:
    """Applications waiting in one stage, the longest waiting first."""
    conditions = [col(TravelCard.status) == status]
    if delivery:
        conditions.append(col(TravelCard.delivery) == delivery)
    return _rows(session, actor, *conditions, order=[col(TravelCard.updated_at)])


@dataclass(frozen=True)
class GridGroup:
    grid: Grid
    rows: list[CardRow]


def by_grid(rows: list[CardRow]) -> list[GridGroup]:
    groups: dict[uuid.UUID, GridGroup] = {}
    for row in rows:
        groups.setdefault(row.grid.id, GridGroup(row.grid, [])).rows.append(row)
    return sorted(groups.values(), key=lambda g: (g.grid.code, g.grid.name))


def deliveries(session: Session, actor: Actor) -> list[GridGroup]:
    """Cards ready to be taken to the door, per grid."""
    return by_grid(in_stage(session, actor, CardStatus.ready, delivery="door"))


@dataclass(frozen=True)
class ReviewRow:
    row: CardRow
    overdue: bool
    planned: Visit | None


@dataclass(frozen=True)
class ReviewGroup:
    grid: Grid
    rows: list[ReviewRow]


def reviews_due(session: Session, actor: Actor, today: date | None = None) -> list[ReviewGroup]:
    """Issued cards whose yearly review is due within 30 days (or overdue), per grid, soonest first."""
    today = today or local_today()
    rows = _rows(
        session,
        actor,
        col(TravelCard.status) == CardStatus.issued,
        col(TravelCard.review_due) <= today + timedelta(days=REVIEW_WINDOW_DAYS),
        order=[col(TravelCard.review_due)],
    )
    visit_ids = [r.card.review_visit_id for r in rows if r.card.review_visit_id]
    visits = (
        {
            v.id: v
            for v in session.exec(
                select(Visit).where(col(Visit.id).in_(visit_ids), col(Visit.deleted_at).is_(None))
            )
        }
        if visit_ids
        else {}
    )
    return [
        ReviewGroup(
            group.grid,
            [
                ReviewRow(
                    row,
                    overdue=bool(row.card.review_due and row.card.review_due < today),
                    planned=visits.get(row.card.review_visit_id) if row.card.review_visit_id else None,
                )
                for row in group.rows
            ],
        )
        for group in by_grid(rows)
    ]


@dataclass(frozen=True)
class EventRow:
    event: TravelCardEvent
    actor: str


@dataclass(frozen=True)
class CardDetail:
    row: CardRow
    community: Community | None
    events: list[EventRow]
    steps: list[str]
    planned: Visit | None = None
    consent_text: str = ""

    @property
    def card(self) -> TravelCard:
        return self.row.card


def application(session: Session, actor: Actor, application_id: uuid.UUID | str) -> CardDetail:
    """One application (404 outside the caller's scope), its history oldest first, the steps open to the caller."""
    card = get_visible(session, actor, TravelCard, application_id)
    (row,) = _rows(session, actor, col(TravelCard.id) == card.id)
    events = list(
        session.exec(
            select(TravelCardEvent)
            .where(TravelCardEvent.application_id == card.id, col(TravelCardEvent.deleted_at).is_(None))
            .order_by(col(TravelCardEvent.version))
        )
    )
    names = _names(session, {e.actor_id for e in events})
    planned = session.get(Visit, card.review_visit_id) if card.review_visit_id else None
    version = (card.checklist or {}).get("consent_version")
    consent = CONSENTS.get(str(version)) if version else None
    return CardDetail(
        row=row,
        community=session.get(Community, card.community_id),
        events=[EventRow(e, names.get(e.actor_id, "") if e.actor_id else "") for e in events],
        steps=steps_for(actor, card),
        planned=planned if planned is not None and planned.deleted_at is None else None,
        consent_text=consent.text if consent else "",
    )


@dataclass(frozen=True)
class Applicant:
    """A resident as the new-application form shows them."""

    resident: Resident
    household: Household
    age: int | None
    open_application: TravelCard | None


def applicant(session: Session, actor: Actor, resident_id: uuid.UUID | str | None) -> Applicant:
    resident = get_visible(session, actor, Resident, resident_id)
    household = get_visible(session, actor, Household, resident.household_id)
    current = None
    if resident.id_hash:
        current = session.exec(
            select(TravelCard).where(
                TravelCard.applicant_hash == resident.id_hash,
                col(TravelCard.status).not_in(CLOSED),
                col(TravelCard.deleted_at).is_(None),
            )
        ).first()
    age = age_on(resident.birth_date, local_today()) if resident.birth_date else None
    return Applicant(resident, household, age, current)


def old_enough(session: Session, actor: Actor, q: str) -> list[Applicant]:
    """Residents in scope whose name contains `q` and who are old enough for some tier today."""
    youngest = card_ages(session).youngest
    today = local_today()
    latest_birth = date(today.year - youngest, 12, 31)
    found = session.exec(
        select(Resident, Household)
        .join(Household, col(Household.id) == Resident.household_id)
        .where(
            scope_filter(actor, Resident),
            col(Resident.deleted_at).is_(None),
            col(Resident.id_hash) != "",
            col(Resident.birth_date) <= latest_birth,
            col(Resident.name).icontains(q, autoescape=True),
        )
        .order_by(col(Resident.name), col(Resident.id))
        .limit(20)
    ).all()
    return [
        Applicant(r, h, age_on(r.birth_date, today) if r.birth_date else None, None)
        for r, h in found
        if r.birth_date and age_on(r.birth_date, today) >= youngest
    ]
