"""Households as the office sees them: the searchable list, one household's page, form choices."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from server.access import Actor, get_visible, scope_filter
from server.clock import local_today
from server.i18n import labels
from server.i18n.labels import field_label
from server.models import (
    Conflict,
    Grid,
    Household,
    HouseholdStatus,
    Resident,
    ResidentTag,
    Role,
    Tag,
    TravelCard,
    User,
    Visit,
)
from server.people import idnumber
from server.people import phone as phones
from server.workflows.travel_cards import CLOSED, card_ages

PER_PAGE = 20
PHONE_TAIL_MIN = 4


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(text)) if text else None
    except ValueError:
        return None


def _page_number(text: str | None) -> int:
    try:
        return max(1, int(text or 1))
    except ValueError:
        return 1


@dataclass(frozen=True)
class HouseholdFilters:
    """What the list was asked for; unusable values are dropped rather than refused."""

    q: str = ""
    grid_id: uuid.UUID | None = None
    tag: str = ""
    status: str = ""
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> HouseholdFilters:
        status = params.get("status", "")
        return cls(
            q=" ".join(params.get("q", "").split())[:60],
            grid_id=_uuid(params.get("grid")),
            tag=params.get("tag", "").strip()[:40],
            status=status if status in HouseholdStatus.__members__ else "",
            page=_page_number(params.get("page")),
        )

    def query(self, **overrides: Any) -> str:
        """The query string of this search, with `overrides` (e.g. another page)."""
        wanted = replace(self, **overrides)
        params = {
            "q": wanted.q,
            "grid": str(wanted.grid_id) if wanted.grid_id else "",
            "tag": wanted.tag,
            "status": wanted.status,
            "page": str(wanted.page) if wanted.page > 1 else "",
        }
        return urlencode({k: v for k, v in params.items() if v})


@dataclass(frozen=True)
class HouseholdRow:
    household: Household
    head: Resident | None
    phone: str  # shown masked only
    tags: list[Tag]


@dataclass(frozen=True)
class HouseholdPage:
    rows: list[HouseholdRow]
    total: int
    page: int
    filters: HouseholdFilters
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def prev_query(self) -> str | None:
        return self.filters.query(page=self.page - 1) if self.page > 1 else None

    @property
    def next_query(self) -> str | None:
        return self.filters.query(page=self.page + 1) if self.page < self.pages else None


def _term_matches(term: str) -> ColumnElement[bool]:
    """One search word: part of the address, part of a resident's name, or a phone's last digits."""
    resident = select(Resident.id).where(
        Resident.household_id == Household.id, col(Resident.deleted_at).is_(None)
    )
    options = [
        col(Household.address).icontains(term, autoescape=True),
        resident.where(col(Resident.name).icontains(term, autoescape=True)).exists(),
    ]
    if term.isdigit() and len(term) >= PHONE_TAIL_MIN:
        options.append(col(Household.phone).endswith(term, autoescape=True))
        options.append(resident.where(col(Resident.phone).endswith(term, autoescape=True)).exists())
    return or_(*options)


def _with_tag(code: str) -> ColumnElement[bool]:
    return (
        select(ResidentTag.resident_id)
        .join(Tag, col(Tag.id) == ResidentTag.tag_id)
        .join(Resident, col(Resident.id) == ResidentTag.resident_id)
        .where(Tag.code == code, Resident.household_id == Household.id, col(Resident.deleted_at).is_(None))
        .exists()
    )


def _conditions(actor: Actor, filters: HouseholdFilters) -> list[ColumnElement[bool]]:
    conditions = [scope_filter(actor, Household), col(Household.deleted_at).is_(None)]
    conditions += [_term_matches(term) for term in filters.q.split()]
    if filters.grid_id:
        conditions.append(col(Household.grid_id) == filters.grid_id)
    if filters.tag:
        conditions.append(_with_tag(filters.tag))
    if filters.status:
        conditions.append(col(Household.status) == filters.status)
    return conditions


def _live_residents(session: Session, household_ids: list[uuid.UUID]) -> list[Resident]:
    if not household_ids:
        return []
    return list(
        session.exec(
            select(Resident)
            .where(col(Resident.household_id).in_(household_ids), col(Resident.deleted_at).is_(None))
            .order_by(col(Resident.relation) != "head", col(Resident.created_at), col(Resident.id))
        )
    )


def tag_catalogue(session: Session) -> dict[str, Tag]:
    """Every tag by code, in catalogue order (inactive ones too: residents may still carry them)."""
    tags = session.exec(
        select(Tag).where(col(Tag.deleted_at).is_(None)).order_by(col(Tag.sort), col(Tag.name))
    )
    return {t.code: t for t in tags}


def _tags_of(codes: list[str], catalogue: dict[str, Tag]) -> list[Tag]:
    wanted = set(codes)
    return [t for code, t in catalogue.items() if code in wanted]


def search_households(session: Session, actor: Actor, filters: HouseholdFilters) -> HouseholdPage:
    conditions = _conditions(actor, filters)
    total = session.exec(select(func.count()).select_from(Household).where(*conditions)).one()
    page = min(filters.page, max(1, math.ceil(total / PER_PAGE)))
    households = session.exec(
        select(Household)
        .where(*conditions)
        .order_by(col(Household.address), col(Household.id))
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    residents = _live_residents(session, [h.id for h in households])
    catalogue = tag_catalogue(session)
    rows = []
    for household in households:
        members = [r for r in residents if r.household_id == household.id]
        head = members[0] if members else None
        rows.append(
            HouseholdRow(
                household=household,
                head=head,
                phone=household.phone or (head.phone if head else ""),
                tags=_tags_of([code for r in members for code in r.tags], catalogue),
            )
        )
    return HouseholdPage(rows=rows, total=total, page=page, filters=replace(filters, page=page))


def grid_choices(session: Session, actor: Actor) -> list[Grid]:
    """The grids the actor may file households under (as `commands.households.usable_grid`)."""
    query = select(Grid).where(col(Grid.deleted_at).is_(None)).order_by(col(Grid.code))
    if actor.role == Role.grid_worker:
        query = query.where(col(Grid.id).in_(actor.grid_ids))
    elif not actor.is_admin:
        query = query.where(col(Grid.community_id) == actor.community_id)
    return list(session.exec(query))


def active_tags(session: Session) -> list[Tag]:
    return [t for t in tag_catalogue(session).values() if t.active]


@dataclass(frozen=True)
class ListChoices:
    grids: list[Grid]
    tags: list[Tag]


def list_choices(session: Session, actor: Actor) -> ListChoices:
    return ListChoices(grids=grid_choices(session, actor), tags=active_tags(session))


@dataclass(frozen=True)
class ResidentView:
    resident: Resident
    age: int | None
    tags: list[Tag]
    card_tier: str | None = None  # the travel card they may apply for today, if any
    open_card: TravelCard | None = None  # their application not yet closed, or their card


@dataclass(frozen=True)
class VisitView:
    visit: Visit
    worker: str


@dataclass(frozen=True)
class ConflictView:
    """A kept conflict, with both values as people may see them (phones masked, ID numbers hidden)."""

    conflict: Conflict
    record: str
    field: str
    server_value: str
    client_value: str


@dataclass(frozen=True)
class HouseholdDetail:
    household: Household
    grid: Grid | None
    residents: list[ResidentView]
    visits: list[VisitView]
    conflicts: list[ConflictView] = field(default_factory=list)

    def resident(self, resident_id: uuid.UUID) -> ResidentView | None:
        return next((r for r in self.residents if r.resident.id == resident_id), None)


def _shown(column: str, value: Any, catalogue: dict[str, Tag]) -> str:
    if value is None or value == "":
        return "—"
    if column == "phone":
        return phones.mask(str(value))
    if column == "id_hash":
        return "••••"
    if column == "tags":
        return "、".join(t.name for t in _tags_of(list(value), catalogue)) or "—"
    kinds = {"kind": "household_kind", "status": "household_status", "relation": "relation", "sex": "sex"}
    if column in kinds:
        return labels.label(kinds[column], str(value))
    if column == "grid_id":
        return "—"
    return str(value)


def _conflict_views(
    session: Session, actor: Actor, household: Household, residents: list[Resident], catalogue: dict[str, Tag]
) -> list[ConflictView]:
    names = {household.id: household.address, **{r.id: r.name for r in residents}}
    conflicts = session.exec(
        select(Conflict)
        .where(
            scope_filter(actor, Conflict),
            col(Conflict.record_id).in_(list(names)),
            col(Conflict.status) == "open",
            col(Conflict.deleted_at).is_(None),
        )
        .order_by(col(Conflict.created_at))
    )
    return [
        ConflictView(
            conflict=c,
            record=names[c.record_id],
            field=field_label("id_number" if c.field == "id_hash" else c.field),
            server_value=_shown(c.field, c.server_value, catalogue),
            client_value=_shown(c.field, c.client_value, catalogue),
        )
        for c in conflicts
    ]


def _open_cards(session: Session, hashes: list[str]) -> dict[str, TravelCard]:
    """The application of each applicant (by ID hash) that is not closed: at most one each."""
    if not hashes:
        return {}
    found = session.exec(
        select(TravelCard).where(
            col(TravelCard.applicant_hash).in_(hashes),
            col(TravelCard.status).not_in(CLOSED),
            col(TravelCard.deleted_at).is_(None),
        )
    )
    return {card.applicant_hash: card for card in found}


def household_detail(session: Session, actor: Actor, household_id: uuid.UUID | str) -> HouseholdDetail:
    household = get_visible(session, actor, Household, household_id)
    residents = _live_residents(session, [household.id])
    visits = list(
        session.exec(
            select(Visit)
            .where(Visit.household_id == household.id, col(Visit.deleted_at).is_(None))
            .order_by(col(Visit.at).desc(), col(Visit.created_at).desc())
        )
    )
    worker_ids = {v.worker_id for v in visits if v.worker_id}
    workers = (
        {u.id: u.display_name for u in session.exec(select(User).where(col(User.id).in_(worker_ids)))}
        if worker_ids
        else {}
    )
    catalogue = tag_catalogue(session)
    today = local_today()
    ages = card_ages(session)
    cards = _open_cards(session, [r.id_hash for r in residents if r.id_hash])
    return HouseholdDetail(
        household=household,
        grid=session.get(Grid, household.grid_id),
        residents=[
            ResidentView(
                resident=r,
                age=idnumber.age_on(r.birth_date, today) if r.birth_date else None,
                tags=_tags_of(r.tags, catalogue),
                # The command's rule: an age known from a registered ID number.
                card_tier=ages.tier(r.birth_date if r.id_hash else None, today),
                open_card=cards.get(r.id_hash) if r.id_hash else None,
            )
            for r in residents
        ],
        visits=[
            VisitView(visit=v, worker=workers.get(v.worker_id, "") if v.worker_id else "") for v in visits
        ],
        conflicts=_conflict_views(session, actor, household, residents, catalogue),
    )


@dataclass(frozen=True)
class HouseholdForm:
    household: Household | None
    grids: list[Grid]


def household_form(session: Session, actor: Actor, household_id: uuid.UUID | None) -> HouseholdForm:
    household = get_visible(session, actor, Household, household_id) if household_id else None
    return HouseholdForm(household=household, grids=grid_choices(session, actor))


@dataclass(frozen=True)
class ResidentForm:
    household: Household
    resident: Resident | None
    tags: list[Tag]


def resident_form(
    session: Session,
    actor: Actor,
    *,
    household_id: uuid.UUID | None = None,
    resident_id: uuid.UUID | None = None,
) -> ResidentForm:
    """A new resident's household, or the resident being edited and their household.

    The tag choices are the active tags plus any retired tag the resident still
    carries: a tag without a checkbox would be dropped by saving the form."""
    resident = get_visible(session, actor, Resident, resident_id) if resident_id else None
    household = get_visible(session, actor, Household, resident.household_id if resident else household_id)
    held = set(resident.tags) if resident else set()
    tags = [t for t in tag_catalogue(session).values() if t.active or t.code in held]
    return ResidentForm(household=household, resident=resident, tags=tags)


def visible_household(session: Session, actor: Actor, household_id: uuid.UUID) -> Household:
    return get_visible(session, actor, Household, household_id)
