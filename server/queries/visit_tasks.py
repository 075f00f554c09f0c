"""What the rule of due care visits reads: households, their residents, last visits, rules.

The rule itself is `server.workflows.visit_tasks`; this module only gathers
its inputs for the caller's scope, in four reads whatever the size of the grid.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from server.access import Actor, scope_filter
from server.models import Household, Resident, Visit, VisitOutcome, VisitRule
from server.workflows.visit_tasks import CareVisit, Home, Person, Rule, due_care_visits


def rules_by_community(session: Session, community_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[Rule]]:
    """The live rules of these communities, active or not (the rule skips inactive ones)."""
    rows = session.execute(
        select(VisitRule).where(VisitRule.community_id.in_(community_ids), VisitRule.deleted_at.is_(None))  # type: ignore[attr-defined,union-attr]
    ).scalars()
    found: dict[uuid.UUID, list[Rule]] = defaultdict(list)
    for row in rows:
        found[row.community_id].append(
            Rule(
                id=str(row.id),
                subject=row.subject,
                interval_days=row.interval_days,
                priority=row.priority,
                tag_code=row.tag_code,
                min_age=row.min_age,
                household_status=row.household_status,
                active=row.active,
            )
        )
    return found


def homes(session: Session, actor: Actor) -> dict[uuid.UUID, list[Home]]:
    """The live households the actor holds, by community, with their live residents and last visits."""
    households: Any = Household.__table__  # type: ignore[attr-defined]
    residents: Any = Resident.__table__  # type: ignore[attr-defined]
    held = [scope_filter(actor, Household), households.c.deleted_at.is_(None)]
    rows = session.execute(
        select(
            households.c.id,
            households.c.community_id,
            households.c.grid_id,
            households.c.status,
            last_visit(households, VisitOutcome.completed),
            last_visit(households, VisitOutcome.nobody_home),
        ).where(*held)
    ).all()
    ids = select(households.c.id).where(*held)
    people: dict[uuid.UUID, list[Person]] = defaultdict(list)
    for household_id, tags, birth in session.execute(
        select(residents.c.household_id, residents.c.tags, residents.c.birth_date).where(
            residents.c.household_id.in_(ids), residents.c.deleted_at.is_(None)
        )
    ):
        people[household_id].append(Person(tags=frozenset(tags or ()), birth_date=birth))
    found: dict[uuid.UUID, list[Home]] = defaultdict(list)
    for household_id, community_id, grid_id, status, completed, nobody_home in rows:
        found[community_id].append(
            Home(
                id=str(household_id),
                grid_id=str(grid_id),
                status=status,
                people=tuple(people.get(household_id, ())),
                last_completed=completed,
                last_nobody_home=nobody_home,
            )
        )
    return found


def last_visit(households: Any, outcome: str) -> Any:
    """A column of the household's latest live visit with this outcome: a correlated subquery
    that is one backward seek of the index on (household_id, outcome, at, deleted_at), which
    holds all it reads, however many visits there are."""
    visits: Any = Visit.__table__  # type: ignore[attr-defined]
    return (
        select(visits.c.at)
        .where(
            visits.c.household_id == households.c.id,
            visits.c.outcome == outcome,
            visits.c.deleted_at.is_(None),
        )
        .order_by(visits.c.at.desc())
        .limit(1)
        .scalar_subquery()
        .label(f"last_{outcome}")
    )


def due_for(session: Session, actor: Actor, today: date) -> list[CareVisit]:
    """The care visits due or overdue today among the households the actor holds."""
    by_community = homes(session, actor)
    rules = rules_by_community(session, set(by_community))
    due: list[CareVisit] = []
    for community_id, community_homes in by_community.items():
        due.extend(due_care_visits(community_homes, rules.get(community_id, []), today))
    return sorted(due, key=lambda v: (v.due, v.household_id))
