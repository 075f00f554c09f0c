"""Care-visit coverage per grid (issue 17): the office's view of the rule the phones run.

For each grid of the caller's scope: the households a care rule names ("under
care"), how many of them were visited within their interval (not overdue
today), the overdue care visits (where, for whom, how late) and how many care
visits the phones will show tomorrow. The rule is `server.workflows.visit_tasks`
(the same functions `server.queries.visit_tasks` feeds for the phones); this
module reads only what a rule can name — residents carrying a rule's tag or
old enough for an age rule, households of a rule's status — so a county of
40,000 households costs a few thousand rows, not all of them.

Coverage is counted per grid and per household, never per worker: no ranking,
no league table (docs/principles.md).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from server.access import Actor, NotFound, scope_filter
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
from server.queries.visit_tasks import last_visits, rules_by_community
from server.workflows.visit_tasks import (
    Home,
    Person,
    Rule,
    age_on,
    born_by,
    care_visit,
    rules_naming,
)


@dataclass(frozen=True)
class OverdueVisit:
    household_id: uuid.UUID
    address: str
    who: tuple[str, ...]  # the residents a rule names, each with why ("王芳（独居老人）")
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
    def tomorrow(self) -> date:
        return self.today + timedelta(days=1)

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
    their own), or only of `community_id` / `grid_id` among them."""
    grids = _grids(session, actor, community_id, grid_id)
    by_id = {g.grid_id: g for g in grids}
    if not by_id:
        return Coverage(today=today, grids=[])
    households: Any = Household.__table__  # type: ignore[attr-defined]
    held = [
        scope_filter(actor, Household),
        households.c.deleted_at.is_(None),
        households.c.grid_id.in_(by_id),
    ]
    for grid, n in session.execute(
        select(households.c.grid_id, func.count()).where(*held).group_by(households.c.grid_id)
    ):
        by_id[grid].households = n
    rules = rules_by_community(session, {g.community_id for g in grids})
    tomorrow = today + timedelta(days=1)
    homes, addresses, people = _cared_homes(session, held, [r for rs in rules.values() for r in rs], tomorrow)
    why = _Reasons(session, rules.values(), today)
    for community, home in homes:
        grid = by_id[uuid.UUID(home.grid_id)]
        community_rules = rules.get(community, [])
        now = care_visit(home, community_rules, today)
        if now is not None:
            grid.under_care += 1
            if now.is_overdue(today):
                household_id = uuid.UUID(home.id)
                grid.overdue.append(
                    OverdueVisit(
                        household_id=household_id,
                        address=addresses[household_id],
                        who=why.of(home, people[household_id], community_rules),
                        due=now.due,
                        days_overdue=(today - now.due).days,
                        interval_days=now.interval_days,
                        priority=now.priority,
                    )
                )
            else:
                grid.within += 1
        later = care_visit(home, community_rules, tomorrow)
        if later is not None and later.is_due(tomorrow):
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
    session: Session, held: list[Any], rules: Sequence[Rule], tomorrow: date
) -> tuple[list[tuple[uuid.UUID, Home]], dict[uuid.UUID, str], dict[uuid.UUID, list[tuple[str, Person]]]]:
    """The held households some active rule of some community might name by tomorrow, with only
    the residents such a rule might name (the rule itself decides, per community)."""
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
    if not named and not statuses:
        return [], {}, {}
    live_held = select(households.c.id).where(*held)
    cared = (
        select(residents.c.household_id, residents.c.name, residents.c.tags, residents.c.birth_date).where(
            residents.c.deleted_at.is_(None), residents.c.household_id.in_(live_held), or_(*named)
        )
        if named
        else None
    )
    people: dict[uuid.UUID, list[tuple[str, Person]]] = defaultdict(list)
    if cared is not None:
        for household_id, name, tags, birth in session.execute(cared):
            people[household_id].append((name, Person(tags=frozenset(tags or ()), birth_date=birth)))
    which = [households.c.status.in_(statuses)] if statuses else []
    if cared is not None:
        which.append(households.c.id.in_(select(cared.subquery().c.household_id)))
    picked = select(households.c.id).where(*held, or_(*which))
    last = last_visits(session, picked)
    homes: list[tuple[uuid.UUID, Home]] = []
    addresses: dict[uuid.UUID, str] = {}
    for household_id, community_id, grid_id, status, address in session.execute(
        select(
            households.c.id,
            households.c.community_id,
            households.c.grid_id,
            households.c.status,
            households.c.address,
        ).where(*held, or_(*which))
    ):
        addresses[household_id] = address
        home = Home(
            id=str(household_id),
            grid_id=str(grid_id),
            status=status,
            people=tuple(p for _, p in people.get(household_id, ())),
            last_completed=last.get((household_id, VisitOutcome.completed)),
            last_nobody_home=last.get((household_id, VisitOutcome.nobody_home)),
        )
        homes.append((community_id, home))
    return homes, addresses, people


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

    def of(self, home: Home, people: list[tuple[str, Person]], rules: Sequence[Rule]) -> tuple[str, ...]:
        found: list[str] = []
        for name, person in people:
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
