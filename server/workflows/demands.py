"""The request (微诉求) workflow, once: which step leads from which status to which, who may
take it, who handles a request now, and its time limits.

`TRANSITIONS` (step → the statuses it may be taken from → the status it leads to) and
`STEP_ROLES` (who may take each step) are read by the commands, the sync catalogue, the
office pages, the docs and the tests. Time limits come from the setting
`demand.time_limits` (per handling type and priority, in working days or hours:
`server.workflows.workdays`) and start when the request is dispatched or transferred
(and again when a dissatisfied resident reopens it); a suspension stops the clock;
`overdue`, `due_soon` and `warning_level` say which ones stand out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, and_, col

from server import preferences
from server.access import Actor, can_hold
from server.clock import aware
from server.i18n import gettext as _
from server.models import Demand, DemandStatus, Role, utcnow
from server.workflows.base import Workflow
from server.workflows.workdays import BadLimit, TimeLimit, WorkCalendar, warning

S = DemandStatus

# step: (the statuses it may be taken from, the status it leads to). None: decided by the
# step's arguments — `decide` leads to dispatched | transferred | replied, `rate` to closed,
# or to rectifying when the resident is dissatisfied (差评).
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "dispatch": (frozenset({S.submitted, S.dispatched, S.rectifying}), S.dispatched),
    "accept": (frozenset({S.dispatched, S.rectifying}), S.accepted),
    "progress": (frozenset({S.accepted, S.in_progress, S.transferred, S.rectifying}), S.in_progress),
    "reply": (frozenset({S.accepted, S.in_progress, S.transferred, S.rectifying}), S.replied),
    "resolve": (frozenset({S.accepted, S.in_progress, S.transferred, S.rectifying}), S.resolved),
    "answer": (frozenset({S.submitted}), S.replied),
    "transfer": (
        frozenset({S.submitted, S.dispatched, S.accepted, S.in_progress, S.rectifying}),
        S.transferred,
    ),
    "return": (frozenset({S.transferred, S.in_progress, S.rectifying}), S.submitted),
    "escalate": (
        frozenset({S.submitted, S.dispatched, S.accepted, S.in_progress, S.transferred, S.rectifying}),
        S.escalated,
    ),
    "decide": (frozenset({S.escalated}), None),
    "rate": (frozenset({S.replied, S.resolved}), None),
    "close": (frozenset({S.submitted, S.replied, S.resolved}), S.closed),
    # The clock and 督办: the status stays as it is.
    "suspend": (frozenset({S.dispatched, S.accepted, S.in_progress, S.transferred, S.rectifying}), None),
    "resume": (frozenset({S.dispatched, S.accepted, S.in_progress, S.transferred, S.rectifying}), None),
    "urge": (
        frozenset({S.dispatched, S.accepted, S.in_progress, S.transferred, S.escalated, S.rectifying}),
        None,
    ),
}


OFFICE = frozenset({Role.community_staff, Role.admin})


WORKER = frozenset({Role.grid_worker})


HANDLERS = frozenset({Role.grid_worker, Role.department})


STEP_ROLES: dict[str, frozenset[str]] = {
    "create": WORKER | OFFICE,
    "dispatch": OFFICE,
    "accept": WORKER,
    "progress": HANDLERS,
    "reply": HANDLERS,
    "resolve": HANDLERS,
    "answer": OFFICE,  # the community answers directly, without dispatching
    "transfer": OFFICE,
    "return": frozenset({Role.department}),
    "escalate": OFFICE | {Role.department},
    "decide": OFFICE,  # the joint meeting's decision, recorded by the office
    "rate": WORKER | OFFICE,  # 入户代录 by the worker, 电话回访 by staff; residents rate through their link
    "close": OFFICE,
    # Stopping the clock while the request waits for the resident or a joint meeting: its
    # handler, or the office.
    "suspend": HANDLERS | OFFICE,
    "resume": HANDLERS | OFFICE,
    "urge": OFFICE,
}


# The steps only the one handling the request may take: the worker who accepted it
# (not while a department has it), or the department it was transferred to.
HANDLING_STEPS = frozenset({"progress", "reply", "resolve"})


# What each step is called in the request's history (the field app uses the same kinds).
EVENT_KINDS: dict[str, str] = {
    "dispatch": "dispatched",
    "accept": "accepted",
    "progress": "progress",
    "reply": "replied",
    "resolve": "resolved",
    "answer": "answered",
    "transfer": "transferred",
    "return": "returned",
    "escalate": "escalated",
    "decide": "decided",
    "rate": "rated",
    "close": "closed",
    "suspend": "suspended",
    "resume": "resumed",
    "urge": "urged",
}


STEPS = tuple(TRANSITIONS)


# Someone owes the resident an answer: past the deadline, these are overdue.
RUNNING = frozenset({S.dispatched, S.accepted, S.in_progress, S.transferred, S.escalated, S.rectifying})


DUE_SOON = timedelta(hours=24)


WORKFLOW = Workflow(
    Demand,
    TRANSITIONS,
    STEP_ROLES,
    "demand_status",
    "demand_step",
    lambda status, step: _("这条诉求现在是“%(status)s”，不能%(step)s。", status=status, step=step),
)


may = WORKFLOW.may


allowed = WORKFLOW.allowed


def handles(actor: Actor, demand: Demand) -> bool:
    """The actor is the one handling the request now."""
    if actor.is_worker:
        return demand.assignee_id == actor.id and demand.department_id is None
    if actor.is_department:
        return demand.department_id is not None and demand.department_id == actor.department_id
    return False


def may_accept(actor: Actor, demand: Demand) -> bool:
    """A worker of the request's grid may accept it while no department has it."""
    return actor.is_worker and demand.grid_id in actor.grid_ids and demand.department_id is None


CLOCK_STEPS = frozenset({"suspend", "resume"})


def may_stop_clock(actor: Actor, demand: Demand, step: str) -> bool:
    """`suspend` while the clock runs, `resume` while it stands, by the office or the handler."""
    if demand.deadline is None or (step == "suspend") != (demand.suspended_at is None):
        return False
    return actor.is_staff or handles(actor, demand)


def steps_for(actor: Actor, demand: Demand) -> list[str]:
    """The steps the actor may take on this request now (the buttons its page shows)."""
    if not can_hold(actor, demand):
        return []
    found = []
    for step in STEPS:
        if not (may(actor, step) and allowed(step, demand.status)):
            continue
        if step in HANDLING_STEPS and not handles(actor, demand):
            continue
        if step == "accept" and not may_accept(actor, demand):
            continue
        if step in CLOCK_STEPS and not may_stop_clock(actor, demand, step):
            continue
        found.append(step)
    return found


def deadline_for(
    session: Session, handling_type: str, priority: str, start: datetime
) -> tuple[datetime, str]:
    """The deadline the setting `demand.time_limits` gives this kind of request from `start`,
    and the limit itself ("3" working days, "4h"), kept on the request for its 预警."""
    limit = TimeLimit.parse(preferences.get(session, "demand.time_limits")[handling_type][priority])
    return limit.deadline(preferences.work_calendar(session), start), str(limit)


def resumed_deadline(session: Session, demand: Demand, now: datetime) -> datetime:
    """The deadline once a stopped clock runs again at `now`: what was left when it stopped is
    left now. A request dispatched before limits were kept moves on the wall clock."""
    assert demand.deadline is not None and demand.suspended_at is not None
    try:
        limit = TimeLimit.parse(demand.time_limit)
    except BadLimit:
        limit = TimeLimit(1, hours=True)
    return limit.resumed(preferences.work_calendar(session), demand.deadline, demand.suspended_at, now)


def limit_of(demand: Demand) -> TimeLimit | None:
    try:
        return TimeLimit.parse(demand.time_limit)
    except BadLimit:
        return None


def time_left(demand: Demand, calendar: WorkCalendar, now: datetime) -> tuple[float, bool] | None:
    """What is left of a running request's limit at `now` and whether in hours (else working days);
    frozen at the moment its clock stopped. None without a limit."""
    limit = limit_of(demand)
    if demand.deadline is None or demand.status not in RUNNING or limit is None:
        return None
    return limit.left(calendar, demand.deadline, demand.suspended_at or now), limit.hours


def warning_level(demand: Demand, calendar: WorkCalendar, now: datetime | None = None) -> str:
    """预警 of a running request: ok | soon (即将超期, 75 % of its limit used) | overdue (已超期);
    "" when it has no limit running (not running, no deadline, or its clock is stopped)."""
    if demand.deadline is None or demand.status not in RUNNING or demand.suspended_at is not None:
        return ""
    limit = limit_of(demand)
    if limit is None:  # dispatched before limits were kept: within 24 hours is soon, as it was
        return "overdue" if overdue(demand, now) else "soon" if due_soon(demand, now) else "ok"
    return warning(limit, calendar, demand.deadline, now or utcnow())


def overdue(demand: Demand, now: datetime | None = None) -> bool:
    """Past its deadline while someone still owes the resident an answer."""
    if demand.deadline is None or demand.status not in RUNNING or demand.suspended_at is not None:
        return False
    return aware(demand.deadline) < (now or utcnow())


def due_soon(demand: Demand, now: datetime | None = None) -> bool:
    """Not overdue yet, but due within `DUE_SOON` (24 hours)."""
    if demand.deadline is None or demand.status not in RUNNING:
        return False
    now = now or utcnow()
    return now <= aware(demand.deadline) <= now + DUE_SOON


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """`overdue` as a WHERE clause."""
    return and_(
        col(Demand.status).in_(RUNNING), col(Demand.deadline) < now, col(Demand.suspended_at).is_(None)
    )


def running_clause(now: datetime) -> ColumnElement[bool]:
    """Requests whose clock runs and has not run out: the candidates for 即将超期."""
    return and_(
        col(Demand.status).in_(RUNNING), col(Demand.suspended_at).is_(None), col(Demand.deadline) >= now
    )


def field_names(session: Session) -> dict[str, str]:
    """The request fields (领域) as configured: code → name, in their order."""
    return {item["code"]: item["name"] for item in preferences.get(session, "demand.fields")}
