"""Care-visit coverage per grid (issue 17): the office's view of the rule the phones run.

For each grid of the caller's scope: the households a care rule names ("under
care"), how many of them were visited within their interval (not overdue
today), the overdue care visits (where, for whom, how late) and how many care
visits the phones will show tomorrow. The rule is `server.workflows.visit_tasks`
(the same functions `server.queries.visit_tasks` feeds for the phones); this
module reads only what a rule can name — residents carrying a rule's tag or
old enough for an age rule, households of a rule's status — so a county of
40,000 households costs the rows of the quarter of them under care, not all.

Coverage is counted per grid and per household, never per worker: no ranking,
no league table (docs/principles.md).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import String, func, or_, select, type_coerce
from sqlmodel import Session, col

from server.access import Actor, NotFound, can_hold_row, scope_filter
from server.i18n import gettext as _
from server.i18n import labels
from server.models import (
    Community,
    Grid,
    Household,
    Resident,
    ResidentTag,
    Role,
    Tag,
    VisitOutcome,
    VisitRuleSubject,
)
from server.queries.visit_tasks import last_visit, rules_by_community
from server.workflows.visit_tasks import (
    Home,
    Person,
    Rule,
    age_on,
    born_by,
    care_visit,
    due_tomorrow,
    rules_naming,
)

FEW_GRIDS = 5
ID_CHUNK = 20_000  # households read by id per statement: a bound parameter each (SQLite allows 32,766)


@dataclass(frozen=True)
class OverdueVisit:
    household_id: uuid.UUID
    address: str
    who: tuple[str, ...]  # the residents a rule names, each with why ("王芳（独居老人）"); one grid's only
    due: date
    days_overdue: int
    interval_days: int
    priority: str


@dataclass
class GridCoverage:
    grid_id: uuid.UUID
    name: str
    community_id: uuid.UUID
    households: int = 0  # live households of the grid
    under_care: int = 0  # households an active rule names
    within: int = 0  # of those, visited within their interval (not overdue today)
    due_tomorrow: int = 0  # care visits the phones will show tomorrow (due on or before it)
    overdue: list[OverdueVisit] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return self.within / self.under_care if self.under_care else None

    @property
    def percent(self) -> int | None:
        share = self.share
        return None if share is None else int(share * 100)  # floored: 99.6 % is not 100 %


@dataclass(frozen=True)
class Coverage:
    today: date
    grids: list[GridCoverage]

    @property
    def total(self) -> GridCoverage:
        """The grids added up (a community's or the whole scope's figures)."""
        sum_ = GridCoverage(grid_id=uuid.UUID(int=0), name="", community_id=uuid.UUID(int=0))
        for grid in self.grids:
            sum_.households += grid.households
            sum_.under_care += grid.under_care
            sum_.within += grid.within
            sum_.due_tomorrow += grid.due_tomorrow
            sum_.overdue.extend(grid.overdue)
        return sum_


def coverage(
    session: Session,
    actor: Actor,
    today: date,
    *,
    community_id: uuid.UUID | None = None,
    grid_id: uuid.UUID | None = None,
) -> Coverage:
    """Coverage of every grid the actor may see (staff their community's, an admin all, a worker
    their own), or only of `community_id` / `grid_id` among them; who each overdue visit is for
    only for one grid (its page lists them; the others show counts)."""
    grids = _grids(session, actor, community_id, grid_id)
    by_id = {g.grid_id: g for g in grids}
    if not by_id:
        return Coverage(today=today, grids=[])
    households: Any = Household.__table__  # type: ignore[attr-defined]
    # A few grids by their index; a community's many in one pass over the households, each
    # grid's count kept when the actor holds it: SQLite would walk the community index instead.
    held = (
        [scope_filter(actor, Household), households.c.grid_id.in_(by_id)] if len(by_id) <= FEW_GRIDS else []
    )
    for counted, n in session.execute(
        select(households.c.grid_id, func.count())
        .where(households.c.deleted_at.is_(None), *held)
        .group_by(households.c.grid_id)
    ):
        grid = by_id.get(counted)
        if grid is not None and can_hold_row(
            actor, Household, {"community_id": grid.community_id, "grid_id": counted}
        ):
            grid.households = n
    rules = rules_by_community(session, {g.community_id for g in grids})
    tomorrow = today + timedelta(days=1)
    every_rule = [r for rs in rules.values() for r in rs]
    why = _Reasons(session, rules.values(), today) if grid_id is not None else None
    for cared in _cared_homes(session, actor, grids, every_rule, tomorrow):
        grid, home = cared.grid, cared.home
        community_rules = rules.get(grid.community_id, [])
        now = care_visit(home, community_rules, today)
        if now is not None:
            grid.under_care += 1
            if now.is_overdue(today):
                grid.overdue.append(
                    OverdueVisit(
                        household_id=uuid.UUID(home.id),
                        address=cared.address,
                        who=why.of(home, cared.names, community_rules) if why else (),
                        due=now.due,
                        days_overdue=(today - now.due).days,
                        interval_days=now.interval_days,
                        priority=now.priority,
                    )
                )
            else:
                grid.within += 1
        if due_tomorrow(home, community_rules, today, now):
            grid.due_tomorrow += 1
    for grid in grids:
        grid.overdue.sort(key=lambda v: (-v.days_overdue, v.address))
    return Coverage(today=today, grids=grids)


@dataclass(frozen=True)
class CoveragePage:
    communities: list[Community]  # to choose from (an admin's); empty for everybody else
    community: Community | None  # the one shown, when a choice was made
    coverage: Coverage


def coverage_page(session: Session, actor: Actor, today: date, wanted: str = "") -> CoveragePage:
    """The coverage page: an admin sees one community at a time (`wanted`, else the first),
    staff their community, a worker their grids."""
    if not actor.is_admin:
        return CoveragePage(communities=[], community=None, coverage=coverage(session, actor, today))
    communities = list(
        session.execute(
            select(Community).where(col(Community.deleted_at).is_(None)).order_by(col(Community.code))
        ).scalars()
    )
    chosen = next((c for c in communities if str(c.id) == wanted), communities[0] if communities else None)
    found = (
        coverage(session, actor, today, community_id=chosen.id) if chosen else Coverage(today=today, grids=[])
    )
    return CoveragePage(communities=communities, community=chosen, coverage=found)


def grid_coverage(session: Session, actor: Actor, grid_id: uuid.UUID, today: date) -> GridCoverage:
    """One grid's coverage with its overdue households, or NotFound outside the actor's grids."""
    found = coverage(session, actor, today, grid_id=grid_id).grids
    if not found:
        raise NotFound("grid")
    return found[0]


def _grids(
    session: Session, actor: Actor, community_id: uuid.UUID | None, grid_id: uuid.UUID | None
) -> list[GridCoverage]:
    """The grids whose coverage the actor may see: grids are everybody's reference data, but
    their households are not, so the scope is decided here as `scope_filter` decides it."""
    grids: Any = Grid.__table__  # type: ignore[attr-defined]
    where = [grids.c.deleted_at.is_(None)]
    if actor.is_admin:
        pass
    elif actor.role == Role.community_staff and actor.community_id:
        where.append(grids.c.community_id == actor.community_id)
    elif actor.role == Role.grid_worker and actor.grid_ids:
        where.append(grids.c.id.in_(actor.grid_ids))
    else:
        return []
    if community_id is not None:
        where.append(grids.c.community_id == community_id)
    if grid_id is not None:
        where.append(grids.c.id == grid_id)
    rows = session.execute(
        select(grids.c.id, grids.c.name, grids.c.community_id).where(*where).order_by(grids.c.code)
    )
    return [GridCoverage(grid_id=i, name=name, community_id=c) for i, name, c in rows]


def _cared_homes(
    session: Session, actor: Actor, grids: Sequence[GridCoverage], rules: Sequence[Rule], tomorrow: date
) -> list[CaredHome]:
    """The live households of these grids that some active rule might name by tomorrow, with only
    the residents such a rule might name; the rule itself then decides, per community.

    The residents are read by the indexes of their tags and birth dates, and their households
    then by primary key (`id IN` those residents), the scope checked per grid (`can_hold_row`):
    with the scope's `community_id = ?` in the statement, SQLite (which has no statistics)
    would walk every household of the community by that index instead."""
    households: Any = Household.__table__  # type: ignore[attr-defined]
    residents: Any = Resident.__table__  # type: ignore[attr-defined]
    active = [r for r in rules if r.active]
    codes = {r.tag_code for r in active if r.subject == VisitRuleSubject.tag and r.tag_code}
    ages = [r.min_age for r in active if r.subject == VisitRuleSubject.age and r.min_age is not None]
    statuses = {
        r.household_status
        for r in active
        if r.subject == VisitRuleSubject.household_status and r.household_status
    }
    named = []
    if codes:
        links: Any = ResidentTag.__table__  # type: ignore[attr-defined]
        tags: Any = Tag.__table__  # type: ignore[attr-defined]
        tagged = (
            select(links.c.resident_id).join(tags, tags.c.id == links.c.tag_id).where(tags.c.code.in_(codes))
        )
        named.append(residents.c.id.in_(tagged))
    if ages:
        named.append(residents.c.birth_date <= born_by(tomorrow, min(ages)))
    # Ids, dates and tags as the database gives them (text on SQLite; psycopg's own types),
    # turned into Python values by hand where needed: SQLAlchemy's conversions of ten thousand
    # UUIDs, datetimes and JSON lists would cost more than reading them (as in sync/records.py).
    people: dict[Any, list[Person]] = defaultdict(list)
    names: dict[Any, list[str]] = defaultdict(list)
    # One grid, or a worker's few: their residents by the grid index (a resident's grid is its
    # household's, as phones hold them); a community's many: the named ones by their indexes.
    few = [residents.c.grid_id.in_([g.grid_id for g in grids])] if len(grids) <= FEW_GRIDS else []
    cared = (
        select(_raw(residents.c.household_id)).where(residents.c.deleted_at.is_(None), or_(*named), *few)
        if named
        else None
    )
    if cared is not None:
        for household_id, name, tags_, birth in session.execute(
            cared.with_only_columns(
                _raw(residents.c.household_id),
                residents.c.name,
                _raw(residents.c.tags),
                _raw(residents.c.birth_date),
            )
        ).all():
            people[household_id].append(Person(tags=frozenset(_codes(tags_)), birth_date=_day(birth)))
            names[household_id].append(name)
    columns = (
        _raw(households.c.id),
        _raw(households.c.grid_id),
        households.c.status,
        households.c.address,
        _raw(last_visit(households, VisitOutcome.completed)),
        _raw(last_visit(households, VisitOutcome.nobody_home)),
    )
    live = households.c.deleted_at.is_(None)
    rows: list[Any] = []
    # Their households by primary key, the ids as just read: the residents' conditions are not
    # run a second time as a subquery (SQLite: ~40 % of this statement's time).
    named_homes = list(people)
    for start in range(0, len(named_homes), ID_CHUNK):
        chunk = named_homes[start : start + ID_CHUNK]
        rows += session.execute(select(*columns).where(_raw(households.c.id).in_(chunk), live)).all()
    if statuses:
        held = (scope_filter(actor, Household), households.c.grid_id.in_([g.grid_id for g in grids]))
        rows += session.execute(select(*columns).where(*held, live, households.c.status.in_(statuses))).all()
    by_raw: dict[Any, tuple[GridCoverage, str] | None] = {}
    found: dict[str, CaredHome] = {}
    for raw_id, raw_grid, status, address, completed, nobody_home in rows:
        if raw_grid not in by_raw:
            held_grid = _held_grid(actor, grids, uuid.UUID(str(raw_grid)))
            by_raw[raw_grid] = None if held_grid is None else (held_grid, str(held_grid.grid_id))
        seen = by_raw[raw_grid]
        if seen is None:
            continue
        grid, grid_text = seen
        home = Home(
            id=str(raw_id),
            grid_id=grid_text,
            status=status,
            people=tuple(people.get(raw_id, ())),
            last_completed=_moment(completed),
            last_nobody_home=_moment(nobody_home),
        )
        found[home.id] = CaredHome(grid, address, home, names.get(raw_id, []))
    return list(found.values())


def _held_grid(actor: Actor, grids: Sequence[GridCoverage], grid_id: uuid.UUID) -> GridCoverage | None:
    """The grid of a household read by id, when it is one of `grids` and the actor holds its households."""
    for grid in grids:
        if grid.grid_id == grid_id:
            row = {"community_id": grid.community_id, "grid_id": grid_id}
            return grid if can_hold_row(actor, Household, row) else None
    return None


def _moment(value: Any) -> datetime | None:
    return value if value is None or isinstance(value, datetime) else datetime.fromisoformat(value)


def _day(value: Any) -> date | None:
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


def _codes(value: Any) -> list[str]:
    if isinstance(value, str):
        return orjson.loads(value)  # type: ignore[no-any-return]
    return value or []


def _raw(column: Any) -> Any:
    return type_coerce(column, String)


@dataclass(frozen=True)
class CaredHome:
    grid: GridCoverage
    address: str
    home: Home
    names: list[str]  # of home.people, in their order


class _Reasons:
    """Why a household is under care, in words: each named resident with the tags (or age) the
    rules name, and the household's status when a status rule names it."""

    def __init__(self, session: Session, rules: Iterable[list[Rule]], today: date) -> None:
        codes = {r.tag_code for rs in rules for r in rs if r.tag_code}
        tags: Any = Tag.__table__  # type: ignore[attr-defined]
        rows = (
            session.execute(select(tags.c.code, tags.c.name).where(tags.c.code.in_(codes))) if codes else ()
        )
        self.tags: dict[str, str] = {code: name for code, name in rows}
        self.today = today

    def of(self, home: Home, names: list[str], rules: Sequence[Rule]) -> tuple[str, ...]:
        """`names` are those of `home.people`, in their order."""
        found: list[str] = []
        for name, person in zip(names, home.people, strict=True):
            matching = rules_naming(person, rules, self.today)
            if not matching:
                continue
            reasons: list[str] = []
            for rule in matching:
                if rule.subject == VisitRuleSubject.age and person.birth_date is not None:
                    reason = _("%(age)s 岁") % {"age": age_on(person.birth_date, self.today)}
                else:
                    reason = self.tags.get(rule.tag_code, rule.tag_code)
                if reason not in reasons:
                    reasons.append(reason)
            found.append(_("%(name)s（%(why)s）") % {"name": name, "why": "、".join(reasons)})
        if any(
            r.active and r.subject == VisitRuleSubject.household_status and r.household_status == home.status
            for r in rules
        ):
            found.append(labels.label("household_status", home.status))
        return tuple(found)
