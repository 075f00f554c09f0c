"""Residents' requests as the office sees them: lists per role, one request's page, the dashboard."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from server import preferences
from server.access import Actor, get_visible, scope_filter
from server.clock import LOCAL_TZ
from server.i18n import gettext as _
from server.models import (
    Community,
    Demand,
    DemandEvent,
    DemandStatus,
    Department,
    Grid,
    Household,
    Role,
    User,
    utcnow,
)
from server.queries import grid_suggestion
from server.workflows import demands as demand_flow
from server.workflows.workdays import WorkCalendar

S = DemandStatus
LIST_LIMIT = 100
WEEKS = 12
# Which requests each list shows; `overdue` is RUNNING past the deadline.
VIEWS: dict[str, frozenset[str] | None] = {
    "triage": frozenset({S.submitted}),
    "open": demand_flow.RUNNING,
    "overdue": demand_flow.RUNNING,
    "answered": frozenset({S.replied, S.resolved}),
    "closed": frozenset({S.closed}),
    "all": None,
}


def views_for(actor: Actor) -> tuple[str, ...]:
    if actor.role in (Role.community_staff, Role.admin):
        return tuple(VIEWS)
    return ("open", "overdue", "answered", "closed", "all")


# -- lists -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemandRow:
    demand: Demand
    field_name: str
    grid: str
    department: str
    overdue: bool
    due_soon: bool  # 即将超期: past 75 % of its limit
    left: str = ""  # "剩 1.5 个工作日", "剩 3 小时", "超期 0.5 个工作日"
    suspended: bool = False
    suggestion: grid_suggestion.Suggestion | None = None


@dataclass(frozen=True)
class DemandList:
    view: str
    views: tuple[str, ...]
    counts: dict[str, int]
    rows: list[DemandRow]
    total: int


def _names(
    session: Session, model: type[Grid] | type[Department], ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows: Any = session.exec(select(model.id, model.name).where(col(model.id).in_(ids)))
    return {row_id: name for row_id, name in rows}


def _view_clause(view: str, now: datetime) -> ColumnElement[bool] | None:
    if view == "overdue":
        return demand_flow.overdue_clause(now)
    statuses = VIEWS[view]
    return col(Demand.status).in_(statuses) if statuses is not None else None


def _order(view: str) -> list[object]:
    if view == "triage":
        return [col(Demand.created_at)]
    if view in ("open", "overdue"):
        return [col(Demand.deadline).is_(None), col(Demand.deadline), col(Demand.created_at)]
    return [col(Demand.updated_at).desc()]


def rows_for(
    session: Session, demands: list[Demand], *, now: datetime, suggest: bool = False
) -> list[DemandRow]:
    grids = _names(session, Grid, {d.grid_id for d in demands if d.grid_id})
    departments = _names(session, Department, {d.department_id for d in demands if d.department_id})
    fields = demand_flow.field_names(session)
    calendar = preferences.work_calendar(session)
    suggesters: dict[uuid.UUID, grid_suggestion.GridSuggester] = {}

    def suggestion(demand: Demand) -> grid_suggestion.Suggestion | None:
        if not suggest:
            return None
        if demand.community_id not in suggesters:
            suggesters[demand.community_id] = grid_suggestion.GridSuggester(session, demand.community_id)
        return suggesters[demand.community_id].suggest(demand)

    return [
        DemandRow(
            demand=d,
            field_name=fields.get(d.field, d.field),
            grid=grids.get(d.grid_id, "") if d.grid_id else "",
            department=departments.get(d.department_id, "") if d.department_id else "",
            overdue=demand_flow.overdue(d, now),
            due_soon=demand_flow.warning_level(d, calendar, now) == "soon",
            left=left_text(demand_flow.time_left(d, calendar, now)),
            suspended=d.suspended_at is not None and d.status in demand_flow.RUNNING,
            suggestion=suggestion(d),
        )
        for d in demands
    ]


def left_text(left: tuple[float, bool] | None) -> str:
    """What is left of a limit, for people: 剩 1.5 个工作日, 剩 3 小时, 超期 0.5 个工作日."""
    if left is None:
        return ""
    amount, hours = left
    number = f"{abs(amount):.1f}".removesuffix(".0")
    if amount < 0:
        return _("超期 %(n)s 小时", n=number) if hours else _("超期 %(n)s 个工作日", n=number)
    return _("剩 %(n)s 小时", n=number) if hours else _("剩 %(n)s 个工作日", n=number)


def _live(actor: Actor) -> list[ColumnElement[bool]]:
    return [scope_filter(actor, Demand), col(Demand.deleted_at).is_(None)]


def demand_list(
    session: Session, actor: Actor, view: str | None, *, now: datetime | None = None
) -> DemandList:
    now = now or utcnow()
    views = views_for(actor)
    view = view if view in views else views[0]
    counts = {}
    for name in views:
        clause = _view_clause(name, now)
        counting = select(func.count()).select_from(Demand).where(*_live(actor))
        counts[name] = int(session.exec(counting.where(clause) if clause is not None else counting).one())
    clause = _view_clause(view, now)
    query = select(Demand).where(*_live(actor))
    if clause is not None:
        query = query.where(clause)
    demands = list(session.exec(query.order_by(*_order(view)).limit(LIST_LIMIT)))  # type: ignore[arg-type]
    rows = rows_for(session, demands, now=now, suggest=view == "triage")
    return DemandList(view=view, views=views, counts=counts, rows=rows, total=counts[view])


# -- one request -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    event: DemandEvent
    actor: str


@dataclass(frozen=True)
class DemandDetail:
    row: DemandRow
    household: Household | None
    events: list[EventView]
    steps: list[str]
    grids: list[Grid]
    departments: list[Department]
    suggestion: grid_suggestion.Suggestion | None
    fields: dict[str, str]
    rated_by: str = ""  # who recorded the rating, when not the resident

    @property
    def demand(self) -> Demand:
        return self.row.demand


def demand_detail(
    session: Session, actor: Actor, demand_id: uuid.UUID | str, *, now: datetime | None = None
) -> DemandDetail:
    demand = get_visible(session, actor, Demand, demand_id)
    now = now or utcnow()
    (row,) = rows_for(session, [demand], now=now)
    events = list(
        session.exec(
            select(DemandEvent)
            .where(DemandEvent.demand_id == demand.id)
            .order_by(col(DemandEvent.at), col(DemandEvent.created_at))
        )
    )
    actor_ids = {e.actor_id for e in events if e.actor_id} | ({demand.rated_by} if demand.rated_by else set())
    people = (
        {u.id: u.display_name for u in session.exec(select(User).where(col(User.id).in_(actor_ids)))}
        if actor_ids
        else {}
    )
    steps = demand_flow.steps_for(actor, demand)
    routing = bool({"dispatch", "transfer", "decide"} & set(steps))
    grids = (
        list(
            session.exec(
                select(Grid)
                .where(Grid.community_id == demand.community_id, col(Grid.deleted_at).is_(None))
                .order_by(col(Grid.code))
            )
        )
        if routing
        else []
    )
    departments = (
        list(
            session.exec(
                select(Department).where(col(Department.deleted_at).is_(None)).order_by(col(Department.code))
            )
        )
        if routing
        else []
    )
    household = session.get(Household, demand.household_id) if demand.household_id else None
    return DemandDetail(
        row=row,
        household=household if household is not None and household.deleted_at is None else None,
        events=[EventView(e, people.get(e.actor_id, "") if e.actor_id else "") for e in events],
        steps=steps,
        grids=grids,
        departments=departments,
        suggestion=grid_suggestion.suggest_grid(session, demand) if routing else None,
        fields=demand_flow.field_names(session),
        rated_by=people.get(demand.rated_by, "") if demand.rated_by else "",
    )


def capture_choices(session: Session, actor: Actor) -> tuple[list[Grid], dict[str, str]]:
    """The grids a request may be captured in, and the fields."""
    grids = list(
        session.exec(
            select(Grid)
            .where(scope_filter(actor, Grid) if actor.is_admin else _grid_scope(actor))
            .order_by(col(Grid.code))
        )
    )
    return grids, demand_flow.field_names(session)


def _grid_scope(actor: Actor) -> ColumnElement[bool]:
    if actor.is_worker:
        return col(Grid.id).in_(actor.grid_ids)
    return Grid.community_id == actor.community_id  # type: ignore[return-value]


# -- the community's dashboard -------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    key: str
    name: str
    total: int
    open: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class Week:
    start: date
    received: int
    resolved: int

    @property
    def label(self) -> str:
        return f"{self.start.month}/{self.start.day}"


@dataclass(frozen=True)
class Dashboard:
    community: Community
    total: int
    by_status: list[Count]
    by_field: list[Count]
    by_grid: list[Count]
    by_department: list[Count]
    overdue: int
    due_soon: int  # 即将超期: past 75 % of the limit
    suspended: int  # the clock stopped
    urged: int  # running requests the office has urged (督办)
    unknown_year: int | None  # next year, when its holidays are not known yet
    open: int
    median_accept_hours: float | None
    median_resolve_hours: float | None
    ratings: dict[str, int]
    weeks: list[Week] = field(default_factory=list)
    # How the current ratings reached us (resident, visit, phone, proxy; "" before channels were kept).
    rating_channels: dict[str, int] = field(default_factory=dict)
    # Handlers' own 满意 held for the office's 电话回访 (setting `demand.callback`).
    awaiting_callback: int = 0

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: satisfied and basically satisfied among the rated requests."""
        if not self.rated:
            return None
        return (self.ratings["satisfied"] + self.ratings["basically_satisfied"]) / self.rated


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def week_start(moment: datetime) -> date:
    """The Monday (in Asia/Shanghai) of the week `moment` falls in."""
    day = moment.astimezone(LOCAL_TZ).date()
    return day - timedelta(days=day.weekday())


def dashboard_communities(session: Session, actor: Actor) -> list[Community]:
    if actor.is_admin:
        return list(
            session.exec(
                select(Community).where(col(Community.deleted_at).is_(None)).order_by(col(Community.code))
            )
        )
    community = session.get(Community, actor.community_id) if actor.community_id else None
    return [community] if community is not None else []


def dashboard(session: Session, community: Community, *, now: datetime | None = None) -> Dashboard:
    """Every figure of the community's dashboard, from its live requests and their history.

    Time to accept: from the dispatch that led to the first acceptance to that acceptance.
    Time to resolve: from when the request was made (its `created` step) to its latest
    answer (`resolved_at`: resolved, replied or answered). Satisfaction: the requests'
    current ratings. Weeks run Monday to Sunday in Asia/Shanghai; the last is this week.
    """
    now = now or utcnow()
    demands = list(
        session.exec(
            select(Demand).where(Demand.community_id == community.id, col(Demand.deleted_at).is_(None))
        )
    )
    events: dict[uuid.UUID, list[DemandEvent]] = defaultdict(list)
    for event in session.exec(
        select(DemandEvent).where(
            DemandEvent.community_id == community.id,
            col(DemandEvent.kind).in_(("created", "dispatched", "decided", "urged")),
        )
    ):
        events[event.demand_id].append(event)
    calendar = preferences.work_calendar(session)
    fields = demand_flow.field_names(session)
    grids = {
        g.id: g
        for g in session.exec(select(Grid).where(Grid.community_id == community.id).order_by(col(Grid.code)))
    }
    departments = _names(session, Department, {d.department_id for d in demands if d.department_id})

    statuses = Counter(d.status for d in demands)
    field_counts = Counter(d.field for d in demands)

    def tally(key_of: object) -> dict[uuid.UUID | None, list[int]]:
        table: dict[uuid.UUID | None, list[int]] = defaultdict(lambda: [0, 0, 0])
        for d in demands:
            key = key_of(d)  # type: ignore[operator]
            table[key][0] += 1
            table[key][1] += d.status in demand_flow.RUNNING or d.status == S.submitted
            table[key][2] += demand_flow.overdue(d, now)
        return table

    by_grid = tally(lambda d: d.grid_id)
    by_department = tally(lambda d: d.department_id)
    accept_hours: list[float] = []
    resolve_hours: list[float] = []
    received_at: list[datetime] = []
    for d in demands:
        history = events.get(d.id, [])
        created = min((e.at for e in history if e.kind == "created"), default=d.created_at)
        received_at.append(created)
        if d.accepted_at is not None:
            routed = sorted(
                e.at for e in history if e.kind in ("dispatched", "decided") and e.at <= d.accepted_at
            )
            if routed:
                accept_hours.append(_hours(d.accepted_at - routed[-1]))
        if d.resolved_at is not None:
            resolve_hours.append(_hours(d.resolved_at - created))
    this_week = week_start(now)
    starts = [this_week - timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
    received = Counter(week_start(t) for t in received_at)
    resolved = Counter(week_start(d.resolved_at) for d in demands if d.resolved_at is not None)
    return Dashboard(
        community=community,
        total=len(demands),
        by_status=[Count(s.value, s.value, statuses.get(s, 0)) for s in S],
        by_field=[Count(code, name, field_counts.get(code, 0)) for code, name in fields.items()]
        + [Count(code, code, n) for code, n in field_counts.items() if code not in fields],
        by_grid=[
            Count(str(k) if k else "", grids[k].name if k in grids else "", *v)
            for k, v in sorted(by_grid.items(), key=lambda kv: _grid_order(grids, kv[0]))
        ],
        by_department=[
            Count(str(k), departments.get(k, ""), *v)
            for k, v in sorted(by_department.items(), key=lambda kv: -kv[1][0])
            if k is not None
        ],
        overdue=sum(demand_flow.overdue(d, now) for d in demands),
        due_soon=sum(demand_flow.warning_level(d, calendar, now) == "soon" for d in demands),
        suspended=sum(d.suspended_at is not None and d.status in demand_flow.RUNNING for d in demands),
        urged=sum(
            d.status in demand_flow.RUNNING and any(e.kind == "urged" for e in events[d.id]) for d in demands
        ),
        unknown_year=_unknown_next_year(calendar, now),
        open=sum(d.status in demand_flow.RUNNING or d.status == S.submitted for d in demands),
        median_accept_hours=_median(accept_hours),
        median_resolve_hours=_median(resolve_hours),
        ratings={
            r: sum(d.rating == r for d in demands)
            for r in ("satisfied", "basically_satisfied", "dissatisfied")
        },
        weeks=[Week(s, received.get(s, 0), resolved.get(s, 0)) for s in starts],
        rating_channels=dict(Counter(d.rating_channel for d in demands if d.rating)),
        awaiting_callback=sum(bool(d.rating) and d.status in (S.replied, S.resolved) for d in demands),
    )


def _unknown_next_year(calendar: WorkCalendar, now: datetime) -> int | None:
    """Next year, when the calendar does not know its holidays yet (they are announced each November)."""
    year = now.astimezone(LOCAL_TZ).year + 1
    return None if year in calendar.known_years else year


def _grid_order(grids: dict[uuid.UUID, Grid], key: uuid.UUID | None) -> tuple[int, str]:
    if key is None:
        return (1, "")
    return (0, grids[key].code if key in grids else "")
