"""The worker's tasks (issue 17): what the 工作台 lists, made by rule from the records a phone holds.

Pure functions over plain values. The phone runs the same rules over its
IndexedDB in `static/app/tasks.js`; `tests/test_tasks_crosscheck.py` feeds
both the same generated grids and requires the same list, dates included.

- care visits (`server.workflows.visit_tasks`): overdue, due today, and those
  due within the week ahead;
- travel cards: needing a supplement, ready to deliver to the door, an issued
  card whose yearly review (年审) falls within 30 days and is not planned yet;
- requests: dispatched to one of the worker's grids and not accepted yet,
  reopened for rectification after a 差评, and those the worker handles that
  are 即将超期 (75 % of their limit used, in working days) or overdue — within
  24 hours for a request dispatched before limits were kept; a stopped clock
  is neither;
- conflicts the worker's own edits met, still open (listed under the household they are
  about: its own record, or its resident's);
- assisted applications (代办件) of the worker's grids sent back for missing
  materials (退回补件) or done and waiting to be taken to the resident.

A task is due on a date (Asia/Shanghai). Care visits are due on the rule's
date; a step waiting for the worker (a supplement, a delivery, an acceptance)
is due today, and so is a request (on its deadline's date when that has
passed), overdue once the deadline has passed; a review to plan is overdue
once its date has passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from server.clock import aware
from server.workflows.demands import RUNNING
from server.workflows.visit_tasks import Home, Rule, care_visit, local_date
from server.workflows.workdays import BadLimit, TimeLimit, WorkCalendar, calendar_of, warning

WEEK = 7  # care visits due within this many days from today (today included) are listed
AHEAD = timedelta(days=30)  # a yearly review is planned within this many days of its date
DUE_SOON = timedelta(hours=24)


class TaskKind(StrEnum):
    care_visit = "care_visit"
    card_supplement = "card_supplement"
    card_deliver = "card_deliver"
    card_review = "card_review"
    demand_accept = "demand_accept"
    demand_rectify = "demand_rectify"
    demand_due = "demand_due"
    conflict = "conflict"
    assisted_resupply = "assisted_resupply"
    assisted_deliver = "assisted_deliver"


@dataclass(frozen=True)
class CardState:
    id: str
    household_id: str | None
    status: str
    delivery: str = "collect"
    review_due: date | None = None
    review_planned: bool = False


@dataclass(frozen=True)
class RequestState:
    id: str
    household_id: str | None
    grid_id: str | None
    status: str
    department_id: str | None = None
    assignee_id: str | None = None
    deadline: datetime | None = None
    time_limit: str = ""  # "3" working days, "4h"; "" for requests dispatched before limits were kept
    suspended: bool = False  # the clock stopped


@dataclass(frozen=True)
class ConflictState:
    id: str
    user_id: str | None
    status: str
    household_id: str | None = None


@dataclass(frozen=True)
class AssistedState:
    id: str
    household_id: str | None
    grid_id: str | None
    status: str


@dataclass(frozen=True)
class Worker:
    id: str
    grid_ids: frozenset[str]


@dataclass(frozen=True)
class Task:
    kind: TaskKind
    record_id: str  # the household for care visits, else the card, request or conflict
    household_id: str | None
    due: date
    overdue: bool

    def group(self, today: date) -> str:
        """overdue | today | week: the section of the 工作台 it shows in."""
        if self.overdue:
            return "overdue"
        return "today" if self.due <= today else "week"


def care_tasks(homes: Iterable[Home], rules: Sequence[Rule], today: date) -> list[Task]:
    horizon = today + timedelta(days=WEEK - 1)
    found = []
    for home in homes:
        visit = care_visit(home, rules, today)
        if visit is not None and visit.due <= horizon:
            found.append(Task(TaskKind.care_visit, home.id, home.id, visit.due, visit.is_overdue(today)))
    return found


def card_task(card: CardState, today: date) -> Task | None:
    if card.status == "needs_supplement":
        return Task(TaskKind.card_supplement, card.id, card.household_id, today, False)
    if card.status == "ready" and card.delivery == "door":
        return Task(TaskKind.card_deliver, card.id, card.household_id, today, False)
    review = card.review_due
    if card.status == "issued" and review is not None and not card.review_planned and review - today <= AHEAD:
        return Task(TaskKind.card_review, card.id, card.household_id, today, review < today)
    return None


def warned(request: RequestState, calendar: WorkCalendar, now: datetime) -> bool:
    """预警: 75 % of the limit used, or past it (within 24 hours for a request without a kept limit)."""
    if request.deadline is None or request.suspended:
        return False
    try:
        limit = TimeLimit.parse(request.time_limit)
    except BadLimit:
        return aware(request.deadline) <= now + DUE_SOON
    return warning(limit, calendar, request.deadline, now) != "ok"


def request_task(request: RequestState, worker: Worker, now: datetime, calendar: WorkCalendar) -> Task | None:
    if request.department_id is not None or request.status not in RUNNING:
        return None
    today = local_date(now)
    deadline = aware(request.deadline) if request.deadline is not None else None
    overdue = deadline is not None and deadline < now and not request.suspended
    due = min(today, local_date(deadline)) if deadline is not None else today
    on_grid = request.grid_id is not None and request.grid_id in worker.grid_ids
    if on_grid and request.status == "rectifying" and request.assignee_id is None:
        return Task(TaskKind.demand_rectify, request.id, request.household_id, due, overdue)
    if on_grid and request.status == "dispatched" and request.assignee_id is None:
        return Task(TaskKind.demand_accept, request.id, request.household_id, due, overdue)
    if request.assignee_id == worker.id and warned(request, calendar, now):
        return Task(TaskKind.demand_due, request.id, request.household_id, due, overdue)
    return None


def conflict_task(conflict: ConflictState, worker: Worker, today: date) -> Task | None:
    if conflict.status != "open" or conflict.user_id != worker.id:
        return None
    return Task(TaskKind.conflict, conflict.id, conflict.household_id, today, False)


ASSISTED_TASKS = {"returned": TaskKind.assisted_resupply, "completed": TaskKind.assisted_deliver}


def assisted_task(application: AssistedState, worker: Worker, today: date) -> Task | None:
    kind = ASSISTED_TASKS.get(application.status)
    if kind is None or application.grid_id not in worker.grid_ids:
        return None
    return Task(kind, application.id, application.household_id, today, False)


def tasks_of(
    worker: Worker,
    now: datetime,
    *,
    homes: Iterable[Home] = (),
    rules: Sequence[Rule] = (),
    cards: Iterable[CardState] = (),
    requests: Iterable[RequestState] = (),
    conflicts: Iterable[ConflictState] = (),
    assisted: Iterable[AssistedState] = (),
    calendar: WorkCalendar | None = None,
) -> list[Task]:
    """Every task of the worker at `now`, by due date, then kind, then record."""
    today = local_date(now)
    found = care_tasks(homes, rules, today)
    for card in cards:
        if task := card_task(card, today):
            found.append(task)
    calendar = calendar or calendar_of({})
    for request in requests:
        if task := request_task(request, worker, now, calendar):
            found.append(task)
    for conflict in conflicts:
        if task := conflict_task(conflict, worker, today):
            found.append(task)
    for application in assisted:
        if task := assisted_task(application, worker, today):
            found.append(task)
    return sorted(found, key=lambda task: (task.due, task.kind, task.record_id))
