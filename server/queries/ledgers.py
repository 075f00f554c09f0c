"""The ledgers (台账) an office hands upward, as rows for a spreadsheet: 住户台账, 走访台账,
诉求台账 and 出行卡台账. Rows are read in pages (`yield_per`), never all at once; times are
shown in Asia/Shanghai; ID numbers and phones stay masked unless `Reveal` says otherwise."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from server.access import Actor, scope_filter
from server.clock import LOCAL_TZ, in_local
from server.i18n import gettext as _
from server.i18n.labels import label
from server.models import (
    Demand,
    DemandEvent,
    Department,
    Grid,
    Household,
    Resident,
    Tag,
    TravelCard,
    TravelCardEvent,
    User,
    Visit,
    utcnow,
)
from server.people import phone as phones
from server.workflows.demands import RUNNING

PAGE = 2000
Row = Sequence[Any]


@dataclass(frozen=True)
class Reveal:
    """Whether full numbers go into the sheet, and how to read a stored ID number."""

    full: bool = False
    decrypt: Callable[[str], str] = field(default=lambda cipher: "")

    def id_number(self, cipher: str, masked: str) -> str:
        return self.decrypt(cipher) if self.full and cipher else masked

    def phone(self, number: str) -> str:
        return number if self.full else phones.mask(number)


@dataclass(frozen=True)
class Filters:
    since: date | None = None  # local dates, both included
    until: date | None = None
    grid_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Ledger:
    kind: str
    title: Callable[[], str]
    header: Callable[[], list[str]]
    rows: Callable[[Session, Actor, Filters, Reveal], Iterator[Row]]


def _day(moment: datetime | None) -> str:
    return in_local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _bounds(filters: Filters) -> tuple[datetime | None, datetime | None]:
    start = datetime.combine(filters.since, time.min, LOCAL_TZ) if filters.since else None
    end = datetime.combine(filters.until + timedelta(days=1), time.min, LOCAL_TZ) if filters.until else None
    return start, end


def _within(query: Any, filters: Filters, moment: Any, grid: Any) -> Any:
    """`query` kept to the filters' local days (by the column `moment`) and grid."""
    start, end = _bounds(filters)
    if start and moment is not None:
        query = query.where(col(moment) >= start)
    if end and moment is not None:
        query = query.where(col(moment) < end)
    if filters.grid_id:
        query = query.where(col(grid) == filters.grid_id)
    return query


def _paged(session: Session, query: Any) -> Iterator[Any]:
    yield from session.execute(query.execution_options(yield_per=PAGE))


def _names(session: Session, model: Any) -> dict[uuid.UUID, str]:
    label_column = model.display_name if model is User else model.name
    return {key: value for key, value in session.execute(columns(col(model.id), col(label_column)))}


# -- 住户台账: the import's own columns, so the sheet can be imported again --------------------


def _household_header() -> list[str]:
    return ["网格", "小区", "楼栋", "单元", "门牌", "户类型", "户状态", "住户电话", "姓名", "与户主关系",
            "身份证号", "性别", "出生日期", "联系电话", "标签", "备注"]  # fmt: skip


def _household_rows(session: Session, actor: Actor, filters: Filters, reveal: Reveal) -> Iterator[Row]:
    grids = _names(session, Grid)
    tags = {code: name for code, name in session.execute(columns(col(Tag.code), col(Tag.name)))}
    query = (
        select(Household, Resident)
        .join(Resident, and_(col(Resident.household_id) == Household.id, col(Resident.deleted_at).is_(None)))
        .where(scope_filter(actor, Household), col(Household.deleted_at).is_(None))
        .order_by(
            col(Household.grid_id),
            col(Household.address),
            col(Household.id),
            col(Resident.relation) != "head",
            col(Resident.name),
        )
    )
    query = _within(query, filters, None, Household.grid_id)
    for page in session.execute(query.execution_options(yield_per=PAGE)).partitions():
        for household, resident in page:
            yield (
                grids.get(household.grid_id, ""),
                household.estate,
                household.building,
                household.unit,
                household.room,
                label("household_kind", household.kind),
                label("household_status", household.status),
                reveal.phone(household.phone),
                resident.name,
                label("relation", resident.relation),
                reveal.id_number(resident.id_cipher, resident.id_masked),
                label("sex", resident.sex),
                resident.birth_date.isoformat() if resident.birth_date else "",
                reveal.phone(resident.phone),
                "、".join(tags.get(code, code) for code in resident.tags),
                resident.notes,
            )


# -- 走访台账 ------------------------------------------------------------------------------------


def _visit_header() -> list[str]:
    return ["走访时间", "网格", "住户地址", "走访人", "走访目的", "走访结果", "计划日期", "记录"]


def _visit_rows(session: Session, actor: Actor, filters: Filters, reveal: Reveal) -> Iterator[Row]:
    grids, workers = _names(session, Grid), _names(session, User)
    query = (
        columns(
            col(Visit.at),
            col(Visit.grid_id),
            col(Household.address),
            col(Visit.worker_id),
            col(Visit.purpose),
            col(Visit.outcome),
            col(Visit.planned_for),
            col(Visit.notes),
        )
        .join(Household, col(Household.id) == Visit.household_id)
        .where(scope_filter(actor, Visit), col(Visit.deleted_at).is_(None))
        .order_by(col(Visit.at), col(Visit.id))
    )
    query = _within(query, filters, Visit.at, Visit.grid_id)
    for at, grid_id, address, worker_id, purpose, outcome, planned_for, notes in _paged(session, query):
        yield (
            _day(at),
            grids.get(grid_id, ""),
            address,
            workers.get(worker_id, "") if worker_id else "",
            label("visit_purpose", purpose),
            label("visit_outcome", outcome),
            planned_for.isoformat() if planned_for else "",
            notes,
        )


# -- 诉求台账: each request with every step -------------------------------------------------------


def _demand_header() -> list[str]:
    return ["提交时间", "网格", "类别", "诉求内容", "来源", "地址", "联系人", "联系电话", "状态", "承办部门",
            "办理时限", "是否超时", "办结时间", "评价", "评价意见", "办理过程"]  # fmt: skip


def _steps(session: Session, model: Any, key: Any, ids: list[uuid.UUID], kind: str) -> dict[uuid.UUID, str]:
    """Every step of each of `ids`, one line a step: when, what, by whom, the note."""
    users = _names(session, User)
    lines: dict[uuid.UUID, list[str]] = {}
    wanted: list[Any] = [key, model.at, model.kind, model.to_status, model.actor_id, model.note]
    query = columns(*wanted).where(col(key).in_(ids))
    for owner, at, step, to_status, actor_id, note in session.execute(query.order_by(model.at)):
        who = users.get(actor_id, "") if actor_id else ""
        text = f"{_day(at)} {label(kind, step)}"
        if to_status:
            text += f"→{label(kind.replace('step', 'status').replace('event', 'status'), to_status)}"
        if who:
            text += f"（{who}）"
        if note:
            text += f"：{note}"
        lines.setdefault(owner, []).append(text)
    return {owner: "\n".join(texts) for owner, texts in lines.items()}


def _late(demand: Demand, now: datetime) -> bool:
    if demand.deadline is None:
        return False
    deadline = in_local(demand.deadline)
    if demand.status in RUNNING:
        return deadline < in_local(now)
    return demand.resolved_at is not None and in_local(demand.resolved_at) > deadline


def _demand_rows(session: Session, actor: Actor, filters: Filters, reveal: Reveal) -> Iterator[Row]:
    grids, departments = _names(session, Grid), _names(session, Department)
    query = select(Demand).where(scope_filter(actor, Demand), col(Demand.deleted_at).is_(None))
    query = _within(query, filters, Demand.created_at, Demand.grid_id)
    now = utcnow()
    for page in session.execute(
        query.order_by(col(Demand.created_at), col(Demand.id)).execution_options(yield_per=PAGE)
    ).partitions():
        demands = [row[0] for row in page]
        steps = _steps(session, DemandEvent, DemandEvent.demand_id, [d.id for d in demands], "demand_event")
        for d in demands:
            yield (
                _day(d.created_at),
                grids.get(d.grid_id, "") if d.grid_id else "",
                label("demand_field", d.field),
                d.description,
                label("source", d.source),
                d.address,
                d.contact_name,
                reveal.phone(d.contact_phone),
                label("demand_status", d.status),
                departments.get(d.department_id, "") if d.department_id else "",
                _day(d.deadline),
                _("是") if _late(d, now) else _("否"),
                _day(d.resolved_at),
                label("rating", d.rating) if d.rating else "",
                d.rating_comment,
                steps.get(d.id, ""),
            )


# -- 出行卡台账: each application with its steps ----------------------------------------------------


def _card_header() -> list[str]:
    return ["申请日期", "网格", "住户地址", "申请人", "身份证号", "户籍/居住证", "类别", "领取方式", "状态",
            "提交时间", "发卡时间", "复核日期", "办理过程"]  # fmt: skip


def _card_rows(session: Session, actor: Actor, filters: Filters, reveal: Reveal) -> Iterator[Row]:
    grids = _names(session, Grid)
    query = (
        columns(
            TravelCard,
            col(Resident.name),
            col(Resident.id_cipher),
            col(Resident.id_masked),
            col(Household.address),
        )
        .join(Resident, col(Resident.id) == TravelCard.resident_id)
        .join(Household, col(Household.id) == TravelCard.household_id)
        .where(scope_filter(actor, TravelCard), col(TravelCard.deleted_at).is_(None))
    )
    query = _within(query, filters, TravelCard.created_at, TravelCard.grid_id)
    ordered = query.order_by(col(TravelCard.created_at), col(TravelCard.id)).execution_options(yield_per=PAGE)
    for page in session.execute(ordered).partitions():
        ids = [row[0].id for row in page]
        steps = _steps(session, TravelCardEvent, TravelCardEvent.application_id, ids, "card_step")
        for card, name, cipher, masked, address in page:
            yield (
                card.applied_on.isoformat() if card.applied_on else _day(card.created_at)[:10],
                grids.get(card.grid_id, ""),
                address,
                name,
                reveal.id_number(cipher, masked),
                label("residence", card.residence) if card.residence else "",
                label("tier", card.tier),
                label("delivery", card.delivery),
                label("card_status", card.status),
                _day(card.submitted_at),
                _day(card.issued_at),
                card.review_due.isoformat() if card.review_due else "",
                steps.get(card.id, ""),
            )


LEDGERS: dict[str, Ledger] = {
    "households": Ledger("households", lambda: _("住户台账"), _household_header, _household_rows),
    "visits": Ledger("visits", lambda: _("走访台账"), _visit_header, _visit_rows),
    "demands": Ledger("demands", lambda: _("诉求台账"), _demand_header, _demand_rows),
    "travel_cards": Ledger("travel_cards", lambda: _("出行卡台账"), _card_header, _card_rows),
}
