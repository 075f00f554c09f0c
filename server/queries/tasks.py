"""What the worker's tasks are made of, read for the caller's scope (the rules: `server.workflows.tasks`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from server import preferences
from server.access import Actor, scope_filter
from server.models import AssistedApplication, Conflict, Demand, Resident, TravelCard
from server.queries.visit_tasks import homes, rules_by_community
from server.workflows.tasks import (
    ASSISTED_TASKS,
    AssistedState,
    CardState,
    ConflictState,
    RequestState,
    Task,
    Worker,
    tasks_of,
)

CARD_STATUSES = ("needs_supplement", "ready", "issued")


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _conflict_home(conflict: Conflict, home_of: dict[str, str]) -> str | None:
    """The household a conflict is about: its own record, or its resident's (as the phone holds it)."""
    if conflict.record_type == "household":
        return str(conflict.record_id)
    if conflict.record_type == "resident":
        return home_of.get(str(conflict.record_id))
    return None


def tasks_for(session: Session, actor: Actor, now: datetime) -> list[Task]:
    """The tasks the actor's phone shows at `now`, from the records it holds."""
    by_community = homes(session, actor)
    rules = rules_by_community(session, set(by_community))
    cards = session.execute(
        select(TravelCard).where(
            scope_filter(actor, TravelCard),
            TravelCard.deleted_at.is_(None),  # type: ignore[union-attr]
            TravelCard.status.in_(CARD_STATUSES),  # type: ignore[attr-defined]
        )
    ).scalars()
    requests = session.execute(
        select(Demand).where(scope_filter(actor, Demand), Demand.deleted_at.is_(None))  # type: ignore[union-attr]
    ).scalars()
    conflicts = list(
        session.execute(
            select(Conflict).where(
                scope_filter(actor, Conflict),
                Conflict.deleted_at.is_(None),  # type: ignore[union-attr]
                col(Conflict.user_id) == actor.id,
            )
        ).scalars()
    )
    about = [c.record_id for c in conflicts if c.record_type == "resident"]
    home_of = {
        str(resident): str(household)
        for resident, household in session.execute(
            select(col(Resident.id), col(Resident.household_id)).where(
                scope_filter(actor, Resident),
                col(Resident.id).in_(about),
                Resident.deleted_at.is_(None),  # type: ignore[union-attr]
            )
        )
    }
    applications = session.execute(
        select(AssistedApplication).where(
            scope_filter(actor, AssistedApplication),
            AssistedApplication.deleted_at.is_(None),  # type: ignore[union-attr]
            col(AssistedApplication.status).in_(ASSISTED_TASKS),
        )
    ).scalars()
    worker = Worker(id=str(actor.id), grid_ids=frozenset(str(g) for g in actor.grid_ids))
    found: list[Task] = []
    for community_id, community_homes in by_community.items():
        found += tasks_of(worker, now, homes=community_homes, rules=rules.get(community_id, []))
    found += tasks_of(
        worker,
        now,
        cards=[
            CardState(
                id=str(c.id),
                household_id=str(c.household_id),
                status=c.status,
                delivery=c.delivery,
                review_due=c.review_due,
                review_planned=c.review_visit_id is not None,
            )
            for c in cards
        ],
        requests=[
            RequestState(
                id=str(d.id),
                household_id=_text(d.household_id),
                grid_id=_text(d.grid_id),
                status=d.status,
                department_id=_text(d.department_id),
                assignee_id=_text(d.assignee_id),
                deadline=d.deadline,
                time_limit=d.time_limit,
                suspended=d.suspended_at is not None,
            )
            for d in requests
        ],
        calendar=preferences.work_calendar(session),
        conflicts=[
            ConflictState(
                id=str(c.id),
                user_id=_text(c.user_id),
                status=c.status,
                household_id=_conflict_home(c, home_of),
            )
            for c in conflicts
        ],
        assisted=[
            AssistedState(str(a.id), str(a.household_id), str(a.grid_id), a.status) for a in applications
        ],
    )
    return sorted(found, key=lambda task: (task.due, task.kind, task.record_id))
