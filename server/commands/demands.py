"""Domain commands for residents' requests (微诉求): 居民点单、社区派单、网格接单, to the end.

The workflow itself (steps, roles, time limits) is `server.workflows.demands`.
Checks run in one order: arguments (`invalid_args`), the caller's role
(`forbidden`), scope (`not_found` / `out_of_scope`), the current status and, for
the handling steps, whether the caller is the one handling it
(`invalid_transition`). A refused step changes nothing.

Every step writes a DemandEvent (who, when, from/to status, note, photos). A
step that moves the request to another grid or department moves its events
too, so the phones that lose it pull `del` (SYNC.md rule 10).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, func, select

from server import audit, preferences
from server.access import Actor, Forbidden, NotFound, can_hold, get_visible
from server.blobs import MAX_PHOTOS, attach, check_hashes, claim
from server.clock import step_time
from server.commands.households import check_phone
from server.commands.validation import validate
from server.errors import IdReused, InvalidInput, InvalidTransition
from server.i18n import _l, labels
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
from server.workflows.demands import (
    EVENT_KINDS,
    HANDLING_STEPS,
    TRANSITIONS,
    WORKFLOW,
    allowed,
    deadline_for,
    field_names,
    handles,
    may,
    may_accept,
    may_stop_clock,
    resumed_deadline,
)

M = TypeVar("M", bound=BaseModel)
S = DemandStatus
Source = Literal["visit", "phone", "hotline", "meeting", "public"]
GridHandling = Literal["reply", "self"]
Priority = Literal["normal", "urgent"]
Rating = Literal["satisfied", "basically_satisfied", "dissatisfied"]


# -- argument shapes -------------------------------------------------------------------------

FIELD_LABELS = {
    "demand_id": _l("诉求编号"),
    "field": _l("领域"),
    "description": _l("诉求内容"),
    "source": _l("来源"),
    "contact_name": _l("联系人"),
    "contact_phone": _l("联系电话"),
    "address": _l("地址"),
    "handling_type": _l("办理类型"),
    "priority": _l("紧急程度"),
    "department_id": _l("职能部门"),
    "note": _l("说明"),
    "answer": _l("答复内容"),
    "reason": _l("退回原因"),
    "decision": _l("会议决定"),
    "rating": _l("评价"),
    "comment": _l("居民意见"),
}


def _validate(schema: type[M], data: Any) -> M:
    """`validate`, with this module's field names in the messages."""
    try:
        return validate(schema, data)
    except InvalidInput as exc:
        named = {
            name: str(FIELD_LABELS[name]) + message[len(name) :]
            if name in FIELD_LABELS and message.startswith(f"{name}：")
            else message
            for name, message in exc.errors.items()
        }
        raise InvalidInput(named) from None


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DemandCreate(_Args):
    demand_id: uuid.UUID
    household_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    field: str = Field(min_length=1, max_length=32)
    description: str = Field(min_length=1, max_length=2000)
    source: Source
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)
    contact_name: str = Field(default="", max_length=40)
    contact_phone: str = Field(default="", max_length=30)
    address: str = Field(default="", max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)


class PublicSubmission(_Args):
    """What a resident may send from the community's public page (no account)."""

    field: str = Field(min_length=1, max_length=32)
    description: str = Field(min_length=1, max_length=2000)
    address: str = Field(default="", max_length=200)
    contact_name: str = Field(default="", max_length=40)
    contact_phone: str = Field(default="", max_length=30)


class DemandRef(_Args):
    demand_id: uuid.UUID


class DemandDispatch(DemandRef):
    grid_id: uuid.UUID
    handling_type: GridHandling
    priority: Priority = "normal"
    note: str = Field(default="", max_length=500)
    field: str | None = Field(default=None, max_length=32)  # triage may reclassify it


class DemandNote(DemandRef):
    note: str = Field(default="", max_length=2000)
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)


class DemandAnswer(DemandRef):
    answer: str = Field(min_length=1, max_length=2000)


class DemandTransfer(DemandRef):
    department_id: uuid.UUID
    priority: Priority | None = None
    note: str = Field(default="", max_length=500)
    field: str | None = Field(default=None, max_length=32)


class DemandReturn(DemandRef):
    reason: str = Field(min_length=1, max_length=500)


class DemandEscalate(DemandRef):
    note: str = Field(min_length=1, max_length=500)


class DemandDecide(DemandRef):
    decision: str = Field(min_length=1, max_length=2000)
    grid_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    handling_type: GridHandling = "self"
    priority: Priority = "normal"


class DemandRate(DemandRef):
    rating: Rating
    comment: str = Field(default="", max_length=500)


class ResidentRating(_Args):
    rating: Rating
    comment: str = Field(default="", max_length=500)


class DemandClose(DemandRef):
    note: str = Field(default="", max_length=500)


# -- small rules -----------------------------------------------------------------------------


def _check_field(session: Session, code: str) -> str:
    if code not in field_names(session):
        raise InvalidInput({"field": f"{FIELD_LABELS['field']}：{_('不是可选的值。')}"})
    return code


def add_event(
    session: Session,
    demand: Demand,
    *,
    actor: Actor | None,
    kind: str,
    from_status: str | None,
    note: str = "",
    photos: list[str] | None = None,
    at: datetime | None = None,
) -> DemandEvent:
    event = DemandEvent(
        demand_id=demand.id,
        community_id=demand.community_id,
        grid_id=demand.grid_id,
        department_id=demand.department_id,
        kind=kind,
        from_status=from_status,
        to_status=demand.status,
        actor_id=actor.id if actor else None,
        note=note,
        photos=list(photos or []),
        at=at or utcnow(),
    )
    session.add(event)
    if photos:
        attach(session, actor=actor, record_type="demand_event", record_id=event.id, hashes=photos)
    return event


def _last_step(session: Session, demand: Demand) -> datetime:
    """When the request's latest step happened, as its history says: a floor for the next one.
    Not `updated_at`, the server's write time: steps a phone took offline one after another
    reach the server together, and each keeps the moment the worker took it."""
    latest = session.exec(select(func.max(DemandEvent.at)).where(DemandEvent.demand_id == demand.id)).one()
    return latest or demand.updated_at


def _rescope(session: Session, demand: Demand) -> None:
    """The request's history follows it to its new grid or department (SYNC.md rule 10)."""
    events = session.exec(select(DemandEvent).where(DemandEvent.demand_id == demand.id))
    for event in events:
        if (event.grid_id, event.department_id) != (demand.grid_id, demand.department_id):
            event.grid_id, event.department_id = demand.grid_id, demand.department_id


def _open(session: Session, actor: Actor, step: str, demand_id: uuid.UUID) -> Demand:
    """The request, if the role may take `step`, holds it, and its state allows the step."""
    demand = WORKFLOW.open(session, actor, step, demand_id)
    if step in HANDLING_STEPS and not handles(actor, demand):
        raise InvalidTransition(
            _("这条诉求不在您手上：由接单的网格员或转交的部门办理，差评整改需先重新接单。")
        )
    return demand


def _step(
    session: Session,
    actor: Actor | None,
    demand: Demand,
    step: str,
    *,
    to: str | None = None,
    note: str = "",
    photos: list[str] | None = None,
    at: datetime | None = None,
    office: bool = False,
) -> datetime:
    """Move the request along `step` with its event (and, for the office's decisions, an
    audit row); returns when it happened."""
    target = to or TRANSITIONS[step][1]
    assert target is not None
    when = step_time(at, floor=_last_step(session, demand))
    before = demand.status
    demand.status = target
    add_event(
        session,
        demand,
        actor=actor,
        kind=EVENT_KINDS[step],
        from_status=before,
        note=note,
        photos=photos,
        at=when,
    )
    if office:
        audit.record(
            session,
            actor=actor,
            action=f"demand.{step}",
            record_type="demand",
            record_id=demand.id,
            from_status=before,
            to_status=target,
            note=note,
        )
    return when


def _answered(demand: Demand, when: datetime) -> None:
    """The resident has an answer: the clock stops and a fresh single-use rating link is made."""
    demand.resolved_at = when
    demand.rating_token = secrets.token_urlsafe(18)


def _reclassify(session: Session, demand: Demand, code: str | None) -> str:
    """Triage may put the request in another field; what to add to the step's note."""
    if not code or code == demand.field:
        return ""
    demand.field = _check_field(session, code)
    return _("领域改为%(name)s。", name=field_names(session)[code])


def _live_grid(session: Session, demand: Demand, grid_id: uuid.UUID) -> Grid:
    grid = session.get(Grid, grid_id)
    if grid is None or grid.deleted_at is not None or grid.community_id != demand.community_id:
        raise NotFound("grid")
    return grid


def _live_department(session: Session, department_id: uuid.UUID) -> Department:
    department = session.get(Department, department_id)
    if department is None or department.deleted_at is not None:
        raise NotFound("department")
    return department


def _to_grid(
    session: Session, demand: Demand, grid: Grid, handling_type: str, priority: str, when: datetime
) -> None:
    demand.grid_id = grid.id
    demand.department_id = None
    demand.assignee_id = None
    demand.accepted_at = None
    demand.handling_type = handling_type
    demand.priority = priority
    demand.deadline, demand.time_limit = deadline_for(session, handling_type, priority, when)
    demand.suspended_at = None
    _rescope(session, demand)


def _to_department(
    session: Session, demand: Demand, department: Department, priority: str, when: datetime
) -> None:
    demand.department_id = department.id
    demand.assignee_id = None
    demand.handling_type = "transfer"
    demand.priority = priority
    demand.deadline, demand.time_limit = deadline_for(session, "transfer", priority, when)
    demand.suspended_at = None
    _rescope(session, demand)


# -- capture -----------------------------------------------------------------------------------


def _grid_for(session: Session, actor: Actor, args: DemandCreate, household: Household | None) -> Grid | None:
    if household is not None:
        return session.get(Grid, household.grid_id)
    if args.grid_id is not None:
        grid = session.get(Grid, args.grid_id)
        if grid is None or not (
            actor.is_admin
            or grid.id in actor.grid_ids
            or (actor.role == Role.community_staff and grid.community_id == actor.community_id)
        ):
            raise NotFound("grid")
        return grid
    if actor.is_worker:
        if len(actor.grid_ids) != 1:
            raise InvalidInput({"grid_id": _("您负责多个网格，请选择网格。")})
        return session.get(Grid, next(iter(actor.grid_ids)))
    return None


def _same(existing: Demand, args: DemandCreate, photos: list[str]) -> bool:
    return (
        existing.household_id == args.household_id
        and existing.field == args.field
        and existing.description == args.description
        and existing.source == args.source
        and existing.photos == photos
    )


def create_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """SYNC.md core mutation `demand.create`: a request lands as `submitted`."""
    if not may(actor, "create"):
        raise Forbidden(actor.role)
    args = _validate(DemandCreate, data)
    photos = check_hashes(args.photos)
    claim(session, actor=actor, hashes=photos)
    contact_phone = check_phone(args.contact_phone, "contact_phone")
    existing = session.get(Demand, args.demand_id)
    if existing is not None:
        if _same(existing, args, photos) and can_hold(actor, existing):
            return existing
        raise IdReused(_("这个诉求编号已被另一条诉求使用。"))
    _check_field(session, args.field)
    if args.source == "public":
        raise InvalidInput({"source": _("来源：居民自助提交只能通过社区的公开页面。")})
    household = get_visible(session, actor, Household, args.household_id) if args.household_id else None
    grid = _grid_for(session, actor, args, household)
    community_id = grid.community_id if grid else actor.community_id
    if community_id is None:
        raise InvalidInput({"grid_id": _("请选择网格。")})
    when = step_time(at)
    demand = Demand(
        id=args.demand_id,
        created_at=when,  # 登记时间 is when the worker took it down, not when it synced
        community_id=community_id,
        grid_id=grid.id if grid else None,
        household_id=household.id if household else None,
        field=args.field,
        description=args.description,
        source=args.source,
        status=S.submitted,
        created_by=actor.id,
        contact_name=args.contact_name,
        contact_phone=contact_phone,
        address=args.address or (household.address if household else ""),
        lat=args.lat,
        lng=args.lng,
        photos=photos,
    )
    session.add(demand)
    attach(session, actor=actor, record_type="demand", record_id=demand.id, hashes=photos)
    add_event(
        session,
        demand,
        actor=actor,
        kind="created",
        from_status=None,
        note=args.description[:200],
        at=when,
    )
    return demand


def submit_public(session: Session, *, community: Community, data: dict[str, Any], note: str = "") -> Demand:
    """A resident's own request from the community's public page: `submitted`, source `public`,
    in no grid yet (the office's triage suggests one)."""
    args = _validate(PublicSubmission, data)
    _check_field(session, args.field)
    demand = Demand(
        community_id=community.id,
        field=args.field,
        description=args.description,
        source="public",
        status=S.submitted,
        contact_name=args.contact_name,
        contact_phone=check_phone(args.contact_phone, "contact_phone"),
        address=args.address,
    )
    session.add(demand)
    add_event(
        session,
        demand,
        actor=None,
        kind="created",
        from_status=None,
        note=note or _("居民通过社区二维码提交。"),
    )
    session.flush()
    return demand


# -- the office: dispatch, transfer, answer, escalate, decide, close ---------------------------


def dispatch_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.dispatch` (派单): to a grid, with handling type, priority and so a deadline."""
    args = _validate(DemandDispatch, data)
    demand = _open(session, actor, "dispatch", args.demand_id)
    grid = _live_grid(session, demand, args.grid_id)
    when = step_time(at, floor=_last_step(session, demand))
    changed = _reclassify(session, demand, args.field)
    _to_grid(session, demand, grid, args.handling_type, args.priority, when)
    note = (args.note or _("派单至%(grid)s。", grid=grid.name)) + changed
    _step(session, actor, demand, "dispatch", note=note, at=when, office=True)
    session.flush()
    return demand


def transfer_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.transfer` (转交): to a department, which then holds it (and its phones pull it)."""
    args = _validate(DemandTransfer, data)
    demand = _open(session, actor, "transfer", args.demand_id)
    department = _live_department(session, args.department_id)
    when = step_time(at, floor=_last_step(session, demand))
    changed = _reclassify(session, demand, args.field)
    _to_department(session, demand, department, args.priority or demand.priority, when)
    note = (args.note or _("转交%(name)s办理。", name=department.name)) + changed
    _step(session, actor, demand, "transfer", note=note, at=when, office=True)
    session.flush()
    return demand


def answer_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.answer`: the office answers the resident directly (回复解释类), without dispatching."""
    args = _validate(DemandAnswer, data)
    demand = _open(session, actor, "answer", args.demand_id)
    demand.handling_type = "reply"
    demand.answer = args.answer
    when = _step(session, actor, demand, "answer", note=args.answer, at=at, office=True)
    _answered(demand, when)
    session.flush()
    return demand


def escalate_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.escalate`: to a joint meeting of the community and the departments (联席会议)."""
    args = _validate(DemandEscalate, data)
    demand = _open(session, actor, "escalate", args.demand_id)
    _step(session, actor, demand, "escalate", note=args.note, at=at, office=True)
    session.flush()
    return demand


def decide_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.decide`: the joint meeting's decision, recorded by the office. With `grid_id` the
    request goes to that grid, with `department_id` to that department; with neither the
    decision is the answer to the resident."""
    args = _validate(DemandDecide, data)
    if args.grid_id and args.department_id:
        raise InvalidInput({"department_id": _("会议决定只能交给一个网格或一个部门办理。")})
    demand = _open(session, actor, "decide", args.demand_id)
    when = step_time(at, floor=_last_step(session, demand))
    if args.grid_id is not None:
        grid = _live_grid(session, demand, args.grid_id)
        _to_grid(session, demand, grid, args.handling_type, args.priority, when)
        target, where = S.dispatched, grid.name
    elif args.department_id is not None:
        department = _live_department(session, args.department_id)
        _to_department(session, demand, department, args.priority, when)
        target, where = S.transferred, department.name
    else:
        demand.answer = args.decision
        _answered(demand, when)
        target, where = S.replied, ""
    note = args.decision + (_("（交%(where)s办理）", where=where) if where else "")
    _step(session, actor, demand, "decide", to=target, note=note, at=when, office=True)
    session.flush()
    return demand


def close_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.close` (办结归档): answered requests, or ones that need nothing (duplicates)."""
    args = _validate(DemandClose, data)
    demand = _open(session, actor, "close", args.demand_id)
    when = _step(session, actor, demand, "close", note=args.note, at=at, office=True)
    demand.closed_at = when
    demand.rating_token = ""  # nosec B105
    session.flush()
    return demand


# -- the grid and the departments: accept, progress, reply, resolve, return -------------------


def _accept_refusal(session: Session, actor: Actor, demand: Demand) -> str:
    """Why this worker cannot accept the request, the true reason of the first check that fails:
    a worker who finds it taken elsewhere must know by whom, not guess."""
    if demand.department_id is not None:
        department = session.get(Department, demand.department_id)
        return _(
            "这条诉求已转交%(department)s办理，不需要网格接单。",
            department=department.name if department else _("职能部门"),
        )
    if demand.assignee_id == actor.id and demand.status not in TRANSITIONS["accept"][0]:
        return _("您已经接了这条诉求。")
    if demand.assignee_id is not None:
        user = session.get(User, demand.assignee_id)
        return _("这条诉求已被%(name)s接单。", name=user.display_name if user else _("其他网格员"))
    if demand.grid_id not in actor.grid_ids:
        return _("这条诉求没有派到您的网格。")
    return WORKFLOW.refuse(demand, "accept").message


def accept_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """SYNC.md core mutation `demand.accept`: a worker of the grid takes it; the first accept wins.
    A request reopened by a dissatisfied resident (rectifying) is accepted again the same way."""
    args = _validate(DemandRef, data)
    if not may(actor, "accept"):
        raise Forbidden(actor.role)
    demand = get_visible(session, actor, Demand, args.demand_id)
    if not allowed("accept", demand.status) or not may_accept(actor, demand):
        raise InvalidTransition(_accept_refusal(session, actor, demand))
    first = demand.status == S.dispatched
    demand.assignee_id = actor.id
    when = _step(session, actor, demand, "accept", at=at)
    if first or demand.accepted_at is None:
        demand.accepted_at = when
    return demand


def progress_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.progress`: what was done so far, with photos."""
    args = _validate(DemandNote, data)
    photos = check_hashes(args.photos)
    claim(session, actor=actor, hashes=photos)
    if not args.note and not photos:
        raise InvalidInput({"note": _("请写明办理情况，或附上照片。")})
    demand = _open(session, actor, "progress", args.demand_id)
    _step(session, actor, demand, "progress", note=args.note, photos=photos, at=at)
    session.flush()
    return demand


def reply_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.reply`: the resident's question answered or explained (回复解释)."""
    args = _validate(DemandAnswer, data)
    demand = _open(session, actor, "reply", args.demand_id)
    demand.answer = args.answer
    when = _step(session, actor, demand, "reply", note=args.answer, at=at)
    _answered(demand, when)
    session.flush()
    return demand


def resolve_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.resolve` (办结): done; the note is what the resident is told."""
    args = _validate(DemandNote, data)
    photos = check_hashes(args.photos)
    claim(session, actor=actor, hashes=photos)
    demand = _open(session, actor, "resolve", args.demand_id)
    if args.note:
        demand.answer = args.note
    when = _step(session, actor, demand, "resolve", note=args.note, photos=photos, at=at)
    _answered(demand, when)
    session.flush()
    return demand


def return_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.return`: a department sends a request back to the community's triage queue; it
    leaves the department (its phones pull `del`)."""
    args = _validate(DemandReturn, data)
    demand = _open(session, actor, "return", args.demand_id)
    demand.department_id = None
    demand.assignee_id = None
    demand.deadline = None
    _rescope(session, demand)
    _step(session, actor, demand, "return", note=args.reason, at=at, office=True)
    session.flush()
    return demand


# -- the resident's rating -----------------------------------------------------------------------


CHANNEL_NOTES = {
    "resident": _l("（居民本人通过评价链接）"),
    "visit": _l("（入户代录）"),
    "phone": _l("（电话回访）"),
    "proxy": _l("（评价链接在工作人员已登录的浏览器中打开，记为代录）"),
}


def _rate(
    session: Session,
    demand: Demand,
    *,
    actor: Actor | None,
    rating: str,
    comment: str,
    at: datetime | None,
    channel: str,
) -> Demand:
    """满意 / 基本满意 close the request; 不满意 (差评) reopens it for rectification, with a new
    deadline, to be accepted and resolved again. With the setting `demand.callback` on, a
    satisfied rating its own handler recorded waits for staff to call the resident back."""
    dissatisfied = rating == "dissatisfied"
    by_handler = actor is not None and actor.id == demand.assignee_id and channel in ("visit", "proxy")
    held = (
        not dissatisfied and by_handler and preferences.get(session, "demand.callback") == "handler_satisfied"
    )
    note = _("居民评价：%(rating)s。", rating=labels.label("rating", rating)) + str(CHANNEL_NOTES[channel])
    if held:
        note += _("办理人本人记录的满意评价，等待社区电话回访确认。")
    target = demand.status if held else S.rectifying if dissatisfied else S.closed
    when = _step(session, actor, demand, "rate", to=target, note=note + comment, at=at)
    demand.rating = rating
    demand.rating_comment = comment
    demand.rating_channel = channel
    demand.rated_by = actor.id if actor else None
    if held:
        session.flush()
        return demand  # the rating link stays: the resident may still answer for themselves
    demand.rating_token = ""  # nosec B105
    if dissatisfied:
        demand.assignee_id = None
        demand.resolved_at = None
        if demand.handling_type:
            demand.deadline, demand.time_limit = deadline_for(
                session, demand.handling_type, demand.priority, when
            )
            demand.suspended_at = None
    else:
        demand.closed_at = when
    session.flush()
    return demand


def rate_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.rate`: the resident's rating recorded by the worker at the follow-up visit
    (入户代录), or by staff calling the resident back (电话回访)."""
    args = _validate(DemandRate, data)
    demand = _open(session, actor, "rate", args.demand_id)
    channel = "visit" if actor.is_worker else "phone"
    return _rate(
        session, demand, actor=actor, rating=args.rating, comment=args.comment, at=at, channel=channel
    )


class TokenUsed(NotFound):
    """No request waits for a rating under this link (never made, already used, or answered again)."""


def demand_by_token(session: Session, token: str) -> Demand:
    if not token or len(token) > 64:
        raise TokenUsed("demand")
    demand = session.exec(select(Demand).where(Demand.rating_token == token)).first()
    if demand is None or demand.deleted_at is not None or not allowed("rate", demand.status):
        raise TokenUsed("demand")
    return demand


def rate_by_token(
    session: Session, *, token: str, data: dict[str, Any], ip: str = "", viewer: Actor | None = None
) -> Demand:
    """The resident rates through their link; the link works once. Opened in a browser signed in
    to Doorstep (`viewer`: the handler, a worker of the grid, anyone), it is that person's 代录,
    never the resident's own rating."""
    args = _validate(ResidentRating, data)
    demand = demand_by_token(session, token)
    channel = "resident" if viewer is None else "proxy"
    _rate(session, demand, actor=viewer, rating=args.rating, comment=args.comment, at=None, channel=channel)
    audit.record(
        session,
        actor=viewer,
        action="demand.rate_link",
        record_type="demand",
        record_id=demand.id,
        ip=ip,
        rating=args.rating,
        channel=channel,
    )
    return demand


# -- the clock and 督办 ----------------------------------------------------------------------------


def suspend_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.suspend`: stop the clock while the request waits for the resident or a joint
    meeting; the reason is on the timeline and in the audit log."""
    args = _validate(DemandEscalate, data)
    demand = _open(session, actor, "suspend", args.demand_id)
    if not may_stop_clock(actor, demand, "suspend"):
        raise InvalidTransition(_("这条诉求的计时已经暂停，或没有办理时限，或不在您手上。"))
    when = _step(session, actor, demand, "suspend", to=demand.status, note=args.note, at=at, office=True)
    demand.suspended_at = when
    session.flush()
    return demand


def resume_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.resume`: the clock runs again; the deadline moves by the time it stood, so what
    was left when it stopped is left now (working days, or hours for limits in hours)."""
    args = _validate(DemandEscalate, data)
    demand = _open(session, actor, "resume", args.demand_id)
    if not may_stop_clock(actor, demand, "resume") or demand.suspended_at is None or demand.deadline is None:
        raise InvalidTransition(_("这条诉求的计时没有暂停，或不在您手上。"))
    when = _step(session, actor, demand, "resume", to=demand.status, note=args.note, at=at, office=True)
    demand.deadline = resumed_deadline(session, demand, when)
    demand.suspended_at = None
    session.flush()
    return demand


def urge_demand(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Demand:
    """`demand.urge` (督办): the office presses the handler; an event on the timeline that
    notifies whoever holds the request (server/push/triggers.py)."""
    args = _validate(DemandEscalate, data)
    demand = _open(session, actor, "urge", args.demand_id)
    _step(session, actor, demand, "urge", to=demand.status, note=args.note, at=at, office=True)
    session.flush()
    return demand


# -- the one step table ------------------------------------------------------------------------
# Step → its command, read by the office routes (`/demands/{id}/{step}`) and the sync catalogue
# (`demand.{step}`), so both paths take a step through the same function.
STEP_COMMANDS: dict[str, Callable[..., Demand]] = {
    "dispatch": dispatch_demand,
    "accept": accept_demand,
    "progress": progress_demand,
    "reply": reply_demand,
    "resolve": resolve_demand,
    "answer": answer_demand,
    "transfer": transfer_demand,
    "return": return_demand,
    "escalate": escalate_demand,
    "decide": decide_demand,
    "rate": rate_demand,
    "close": close_demand,
    "suspend": suspend_demand,
    "resume": resume_demand,
    "urge": urge_demand,
}
