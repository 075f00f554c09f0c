"""What tells whom: news written into the outbox in the same transaction as the change itself.

A flush hook, installed with the push tables (`server.models.push`) for every
ORM session like `server.versions`, hands every flush that adds a
`DemandEvent`, `TravelCardEvent` or `Conflict`, whatever code path wrote it
(office page, sync mutation, CLI, job), to `write_news`, which finds its line in
`EVENTS` (keyed on the event kinds and statuses that `server.commands.demands`
and `server.commands.travel_cards` write), and writes one `Notice` (the in-app inbox, `server.push.inbox`) and one
`PushNotification` (the Web Push outbox) per person who should hear of it —
never the person who made the change.
`NOTICES` says, per notification, who hears it, what it says (in the
listener's language) and how urgent it is. The reminders of requests due
within 24 hours and overdue come from a periodic job, `remind()`, once per
request, deadline and person.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from babel.support import LazyProxy
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlmodel import Session, col, select

from server import i18n, preferences
from server.clock import aware, in_local
from server.i18n import _l, labels
from server.models import (
    Conflict,
    Demand,
    DemandEvent,
    Department,
    Handover,
    PushNotification,
    Resident,
    Role,
    TravelCard,
    TravelCardEvent,
    User,
    UserGrid,
    utcnow,
)
from server.people.masking import mask_numbers
from server.push.inbox import post
from server.push.outbox import enqueue
from server.workflows.demands import field_names, overdue_clause, running_clause, warning_level

# An event older than this (a phone that was offline for days) is history, not news.
NEWS_WINDOW = timedelta(hours=24)
# Overdue reminders look back this far: older ones were told of (or predate push).
OVERDUE_WINDOW = timedelta(days=7)
SUMMARY_CHARS = 40
MUTE = "push_muted"


@dataclass
class Facts:
    """What a notification needs to know about the record it tells of."""

    record_type: str  # demand | travel_card | conflict
    record_id: uuid.UUID
    community_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None  # the one person it concerns: applicant's worker, conflict's author
    priority: str = "normal"
    source: str = ""
    status: str = ""
    params: dict[str, Any] = field(default_factory=dict)  # str, or lazy text read in the listener's language


Audience = Callable[[Session, Facts], list[User]]


def _active(session: Session, *where: Any) -> list[User]:
    return list(session.exec(select(User).where(col(User.active).is_(True), *where)))


def grid_workers(session: Session, facts: Facts) -> list[User]:
    if facts.grid_id is None:
        return []
    grid_users = select(UserGrid.user_id).where(UserGrid.grid_id == facts.grid_id)
    return _active(session, User.role == Role.grid_worker, col(User.id).in_(grid_users))


def community_staff(session: Session, facts: Facts) -> list[User]:
    return _active(session, User.role == Role.community_staff, User.community_id == facts.community_id)


def department_users(session: Session, facts: Facts) -> list[User]:
    if facts.department_id is None:
        return []
    return _active(session, User.role == Role.department, User.department_id == facts.department_id)


def the_person(session: Session, facts: Facts) -> list[User]:
    return _active(session, User.id == facts.person_id) if facts.person_id else []


def holders(session: Session, facts: Facts) -> list[User]:
    """Who owes the resident an answer now: the meeting's office, the department, the worker
    who accepted it, or else the workers of its grid."""
    if facts.status == "escalated":
        return community_staff(session, facts)
    if facts.department_id is not None:
        return department_users(session, facts)
    if facts.person_id is not None:
        return the_person(session, facts)
    return grid_workers(session, facts)


def _by_priority(facts: Facts) -> str:
    return "high" if facts.priority == "urgent" else "normal"


def _normal(facts: Facts) -> str:
    return "normal"


@dataclass(frozen=True)
class Notice:
    audience: Audience
    title: LazyProxy
    body: LazyProxy  # %(name)s placeholders filled from Facts.params
    urgency: Callable[[Facts], str] = _normal
    when: Callable[[Facts], bool] = lambda facts: True


# -- the one table: which change tells whom what --------------------------------------------------

# (record, event kind, status it led to — None: any) → notification
EVENTS: dict[tuple[str, str, str | None], str] = {
    ("demand_event", "dispatched", None): "demand_dispatched",
    ("demand_event", "decided", "dispatched"): "demand_dispatched",
    ("demand_event", "rated", "rectifying"): "demand_reopened",
    ("demand_event", "created", None): "demand_submitted",
    ("demand_event", "returned", None): "demand_returned",
    ("demand_event", "urged", None): "demand_urged",
    ("demand_event", "transferred", None): "demand_transferred",
    ("demand_event", "decided", "transferred"): "demand_transferred",
    ("travel_card_event", "approve", None): "card_approved",
    ("travel_card_event", "needs_supplement", None): "card_needs_supplement",
    ("travel_card_event", "reject", None): "card_rejected",
    ("travel_card_event", "ready", None): "card_ready",
    ("conflict", "open", None): "conflict_waiting",
}

NOTICES: dict[str, Notice] = {
    "demand_dispatched": Notice(
        grid_workers,
        _l("新诉求派到您的网格"),
        _l("%(field)s：%(summary)s。请接单，%(deadline)s前办结。"),
        _by_priority,
    ),
    "demand_reopened": Notice(
        grid_workers, _l("居民不满意，诉求要整改"), _l("%(field)s：%(summary)s。请重新接单整改。")
    ),
    "demand_submitted": Notice(
        community_staff,
        _l("居民提交了新诉求"),
        _l("%(field)s：%(summary)s。请分派。"),
        when=lambda facts: facts.source == "public",
    ),
    "demand_returned": Notice(community_staff, _l("部门退回了一条诉求"), _l("%(department)s：%(note)s")),
    "demand_transferred": Notice(
        department_users,
        _l("新诉求转交到您的部门"),
        _l("%(field)s：%(summary)s。请在%(deadline)s前办结。"),
        _by_priority,
    ),
    "demand_due_soon": Notice(
        holders,
        _l("诉求快到期了"),
        _l("%(field)s：%(summary)s。期限%(deadline)s，请抓紧办理。"),
        _by_priority,
    ),
    "demand_overdue": Notice(
        holders,
        _l("诉求已超期"),
        _l("%(field)s：%(summary)s。期限%(deadline)s已过，请尽快办理。"),
        _by_priority,
    ),
    "demand_urged": Notice(
        holders, _l("社区督办了一条诉求"), _l("%(field)s：%(summary)s。督办意见：%(note)s"), _by_priority
    ),
    "card_approved": Notice(
        the_person, _l("出行卡申请已通过"), _l("%(name)s的老年出行卡申请已审核通过，等待制卡。")
    ),
    "card_needs_supplement": Notice(the_person, _l("出行卡申请要补充材料"), _l("%(name)s：%(note)s")),
    "card_rejected": Notice(the_person, _l("出行卡申请未通过"), _l("%(name)s：%(note)s")),
    "card_ready": Notice(the_person, _l("出行卡已制好"), _l("%(name)s的出行卡已制好，%(handover)s。")),
    "conflict_waiting": Notice(
        the_person,
        _l("有同步冲突等您处理"),
        _l("%(record)s的“%(column)s”在您之前已被别人改过，请选择保留哪个值。"),
    ),
    "handover_waiting": Notice(
        lambda session, facts: grid_workers(session, facts) or community_staff(session, facts),
        _l("有一条修改转交给您处理"),
        _l("%(from)s在%(at)s对%(record)s的修改：记录已调整到您这里，请采用或驳回。"),
    ),
}


def page(facts: Facts, user: User) -> str:
    """The page that opens when the notification is tapped: the field app for workers, else the office."""
    field_app = user.role == Role.grid_worker
    if facts.record_type == "demand":
        return f"/app/#/d/{facts.record_id}" if field_app else f"/demands/{facts.record_id}"
    if facts.record_type == "travel_card":
        return f"/app/#/card/{facts.record_id}" if field_app else f"/travel-cards/{facts.record_id}"
    if facts.record_type == "handover":
        return "/handovers"  # applied or dismissed on the office page, on the phone's browser too
    return "/app/#/outbox" if field_app else "/conflicts"


def tag(facts: Facts) -> str:
    """Notifications about one record replace each other on the phone; conflicts share one, and
    so do handovers."""
    if facts.record_type in ("conflict", "handover"):
        return f"{facts.record_type}s"
    return f"{facts.record_type}-{facts.record_id}"


def notify(
    session: Session,
    kind: str,
    facts: Facts,
    *,
    now: datetime | None = None,
    dedupe: str | None = None,
    told: frozenset[str] = frozenset(),
) -> int:
    """Write the notification `kind` for everyone its audience names; how many were written.
    With `dedupe`, each person's copy is keyed `dedupe + user id`, and keys in `told` are skipped."""
    notice = NOTICES[kind]
    if not notice.when(facts):
        return 0
    written = 0
    for user in notice.audience(session, facts):
        key = f"{dedupe}{user.id}" if dedupe else None
        if user.id == facts.actor_id or key in told:
            continue
        with i18n.language(user.locale):
            title = str(notice.title)
            body = str(notice.body) % {k: str(v) for k, v in facts.params.items()}
        push = enqueue(
            session,
            user_id=user.id,
            kind=kind,
            title=title,
            body=body,
            url=page(facts, user),
            tag=tag(facts),
            urgency=notice.urgency(facts),
            record_type=facts.record_type,
            record_id=facts.record_id,
            dedupe_key=key,
            now=now,
        )
        post(session, push)
        written += 1
    return written


# -- facts from records ---------------------------------------------------------------------------


def _local(moment: datetime | None) -> str:
    return in_local(moment).strftime("%m-%d %H:%M") if moment else ""


def mask_name(name: str) -> str:
    """张* / 王*明: enough for the worker to know whom, not for a lock screen to tell strangers."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _summary(text: str) -> str:
    text = " ".join(mask_numbers(text).split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def _holding(demand: Demand) -> Facts:
    """A request's facts without its text: who holds it and how it stands."""
    return Facts(
        record_type="demand",
        record_id=demand.id,
        community_id=demand.community_id,
        grid_id=demand.grid_id,
        department_id=demand.department_id,
        person_id=demand.assignee_id,
        priority=demand.priority,
        source=demand.source,
        status=demand.status,
    )


def demand_facts(
    session: Session, demand: Demand, *, actor_id: uuid.UUID | None = None, note: str = ""
) -> Facts:
    department = ""
    if actor_id is not None:
        actor = session.get(User, actor_id)
        unit = session.get(Department, actor.department_id) if actor and actor.department_id else None
        department = unit.name if unit else ""
    return replace(
        _holding(demand),
        actor_id=actor_id,
        params={
            "field": field_names(session).get(demand.field) or labels.label("demand_field", demand.field),
            "summary": _summary(demand.description),
            "deadline": _local(demand.deadline),
            "department": department,
            "note": _summary(note),
        },
    )


def card_facts(session: Session, card: TravelCard, *, actor_id: uuid.UUID | None, note: str) -> Facts:
    resident = session.get(Resident, card.resident_id)
    handover = _l("请上门送卡") if card.delivery == "door" else _l("可以通知居民领取")
    return Facts(
        record_type="travel_card",
        record_id=card.id,
        community_id=card.community_id,
        grid_id=card.grid_id,
        actor_id=actor_id,
        person_id=card.created_by,
        status=card.status,
        params={
            "name": mask_name(resident.name) if resident else "",
            "note": _summary(note),
            "handover": handover,
        },
    )


RECORDS = {
    "household": _l("住户"),
    "resident": _l("居民"),
    "travel_card": _l("出行卡申请"),
    "demand": _l("诉求"),
}


def conflict_facts(conflict: Conflict) -> Facts:
    record = RECORDS.get(conflict.record_type, conflict.record_type)
    return Facts(
        record_type="conflict",
        record_id=conflict.id,
        community_id=conflict.community_id,
        grid_id=conflict.grid_id,
        person_id=conflict.user_id,
        params={
            "record": record,
            "column": labels.LABELS["conflict_field"].get(conflict.field, conflict.field),
        },
    )


def handover_facts(handover: Handover) -> Facts:
    """An edit kept for the record's new holders: its grid's workers, else the community's staff."""
    return Facts(
        record_type="handover",
        record_id=handover.id,
        community_id=handover.community_id,
        grid_id=handover.grid_id,
        actor_id=handover.from_user_id,  # the old worker is told on their own phone, by the answer
        params={
            "from": handover.from_name,
            "at": _local(handover.at or handover.created_at),
            "record": RECORDS.get(handover.record_type, handover.record_type),
        },
    )


# -- the flush hook -------------------------------------------------------------------------------


def _fresh(at: datetime | None, now: datetime) -> bool:
    return at is None or aware(at) >= now - NEWS_WINDOW


def _kind(record: str, kind: str, status: str | None) -> str | None:
    return EVENTS.get((record, kind, status)) or EVENTS.get((record, kind, None))


def _news(session: Session, new: Iterable[object]) -> list[tuple[str, Facts]]:
    """(notification kind, facts) for every new row the table names."""
    pending = {obj.id: obj for obj in new if isinstance(obj, Demand | TravelCard)}
    now = utcnow()
    found: list[tuple[str, Facts]] = []
    for obj in new:
        if isinstance(obj, DemandEvent) and _fresh(obj.at, now):
            kind = _kind("demand_event", obj.kind, obj.to_status)
            demand = pending.get(obj.demand_id) or session.get(Demand, obj.demand_id)
            if kind and isinstance(demand, Demand):
                found.append((kind, demand_facts(session, demand, actor_id=obj.actor_id, note=obj.note)))
        elif isinstance(obj, TravelCardEvent) and _fresh(obj.at, now):
            kind = _kind("travel_card_event", obj.kind, obj.to_status)
            card = pending.get(obj.application_id) or session.get(TravelCard, obj.application_id)
            if kind and isinstance(card, TravelCard):
                found.append((kind, card_facts(session, card, actor_id=obj.actor_id, note=obj.note)))
        elif isinstance(obj, Conflict):
            kind = _kind("conflict", obj.status, None)
            if kind:
                found.append((kind, conflict_facts(obj)))
    return found


NEWS = (DemandEvent, TravelCardEvent, Conflict)


def write_news(session: OrmSession, _ctx: UOWTransaction | None = None, _instances: Any = None) -> None:
    """The flush hook (`install`): new request and application events and conflicts become
    notifications in the same transaction."""
    if session.info.get(MUTE) or not isinstance(session, Session):
        return
    if not any(isinstance(obj, NEWS) for obj in session.new):
        return
    with session.no_autoflush:
        for kind, facts in _news(session, list(session.new)):
            notify(session, kind, facts)


def install() -> None:
    """Hook `write_news` into every ORM session (idempotent; `server.db.install_flush_hooks`)."""
    if not event.contains(OrmSession, "before_flush", write_news):
        event.listen(OrmSession, "before_flush", write_news)


def mute(session: OrmSession) -> None:
    """This session's changes tell nobody (bulk imports, demo data)."""
    session.info[MUTE] = True


# -- the reminders job ----------------------------------------------------------------------------


@dataclass
class _Reminder:
    kind: str
    demand: Demand
    prefix: str  # each person's copy is keyed prefix + user id
    told: frozenset[str]


def _reminders(
    session: Session, now: datetime, only: Collection[uuid.UUID] | None = None
) -> Iterator[_Reminder]:
    calendar = preferences.work_calendar(session)
    for kind, clause in (
        # 即将超期 is 75 % of each request's own limit: every clock still running is a candidate.
        ("demand_due_soon", running_clause(now)),
        ("demand_overdue", overdue_clause(now) & (col(Demand.deadline) >= now - OVERDUE_WINDOW)),
    ):
        query = select(Demand).where(clause, col(Demand.deleted_at).is_(None))
        if only is not None:
            query = query.where(col(Demand.id).in_(list(only)))
        demands = session.exec(query).all()
        if kind == "demand_due_soon":
            demands = [d for d in demands if warning_level(d, calendar, now) == "soon"]
        if not demands:
            continue
        # One read for every key already written of this kind (the outbox keeps 30 days),
        # not one per request: the sweep runs every 10 minutes over every request due. A
        # sweep's write, of a few requests, reads theirs only.
        keys = select(PushNotification.dedupe_key).where(
            col(PushNotification.dedupe_key).startswith(f"{kind}:")
        )
        if only is not None:
            keys = keys.where(PushNotification.kind == kind, col(PushNotification.record_id).in_(list(only)))
        told: dict[str, set[str]] = {}
        for key in session.exec(keys).all():
            if key:
                told.setdefault(key[: key.rindex(":") + 1], set()).add(key)
        for demand in demands:
            prefix = f"{kind}:{demand.id}:{int(aware(demand.deadline or now).timestamp())}:"
            yield _Reminder(kind, demand, prefix, frozenset(told.get(prefix, ())))


def due_reminders(session: Session, *, now: datetime | None = None) -> set[uuid.UUID]:
    """The requests someone has still to be reminded of; read-only, so the job can ask
    without holding the writers' lock and take it only when there is something to write."""
    now = now or utcnow()
    due: set[uuid.UUID] = set()
    # An audience is chosen from these facts, never from the request's id or text: thousands
    # of requests due share a few hundred holders, each looked up once a sweep, not per request.
    audiences: dict[tuple[Any, ...], list[uuid.UUID]] = {}
    for reminder in _reminders(session, now):
        demand = reminder.demand
        facts = _holding(demand)  # no text: `remind` writes it
        notice = NOTICES[reminder.kind]
        if not notice.when(facts):
            continue
        key = (notice.audience, *(v for n, v in vars(facts).items() if n not in ("record_id", "params")))
        if key not in audiences:
            audiences[key] = [user.id for user in notice.audience(session, facts)]
        if any(f"{reminder.prefix}{user_id}" not in reminder.told for user_id in audiences[key]):
            due.add(demand.id)
    return due


def remind(
    session: Session, *, now: datetime | None = None, only: Collection[uuid.UUID] | None = None
) -> int:
    """Requests 即将超期 (75 % of their limit used), and overdue ones, to whoever holds them: once per deadline.
    `only` limits the sweep to those requests (what `due_reminders` found)."""
    now = now or utcnow()
    written = 0
    for reminder in _reminders(session, now, only):
        written += notify(
            session,
            reminder.kind,
            demand_facts(session, reminder.demand),
            now=now,
            dedupe=reminder.prefix,
            told=reminder.told,
        )
    return written
