"""Importing the service guide (办事指南) from a spreadsheet, with the household ledger's reader
(`server.ledger.sheet`: .xlsx streamed by python-calamine, CSV in UTF-8 or GBK), its header
matching and its errors workbook (`server.ledger.workbook`).

A row is one service item. Every row is checked by the command that the office's form calls
(`server.commands.service_items`); a refused row is kept with its sheet row number and the
reason, and stores nothing. A good row becomes a new item (revision 1), or, when an item of
that name exists, that item's next revision (an unchanged row writes nothing): the same file
again changes nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from server import audit
from server.access import Actor
from server.commands import service_items as commands
from server.errors import DomainError, InvalidInput
from server.i18n import gettext as _
from server.ledger import cells, sheet
from server.ledger.columns import HEADER_SEARCH_ROWS, Column, Header, by_name, match_header
from server.ledger.rows import Refusal, is_blank
from server.ledger.workbook import write_rows
from server.models import ServiceCategory, ServiceItem

COLUMNS: tuple[Column, ...] = (
    Column("name", "事项名称", ("事项", "服务事项", "名称"), required=True),
    Column("category", "类别", ("事项类别", "分类"), required=True),
    Column("eligibility", "申请对象", ("办理对象", "服务对象")),
    Column("materials", "所需材料", ("办理要件", "申请材料", "材料")),
    Column("steps", "办理流程", ("工作流程", "流程")),
    Column("window", "办理窗口", ("窗口",)),
    Column("address", "办理地点", ("地点", "地址")),
    Column("hours", "办理时间", ("时间",)),
    Column("phone", "咨询电话", ("电话", "联系电话")),
    Column("time_limit_days", "办结时限", ("完成时限", "时限", "承诺时限")),
    Column("fees", "收费标准", ("收费", "费用")),
    Column("online_url", "网上办理", ("网址", "网上办理地址")),
    Column("active", "启用", ("状态",), optional=True),
)
_BY_NAME = by_name(COLUMNS)
_LINE_BREAKS = str.maketrans({"；": "\n", ";": "\n"})
# The words a sheet may use for a category, whatever the office's language.
CATEGORY_WORDS = {
    ServiceCategory.social_security: ("社保", "社会保障", "社会保险"),
    ServiceCategory.medical_insurance: ("医保", "医疗保障", "医疗保险"),
    ServiceCategory.civil_affairs: ("民政",),
    ServiceCategory.household_registration: ("户籍", "户政"),
    ServiceCategory.disability: ("残联", "残疾人"),
    ServiceCategory.elderly: ("老龄", "养老"),
    ServiceCategory.employment: ("就业", "就业创业"),
    ServiceCategory.housing: ("住房", "住建"),
    ServiceCategory.other: ("其他", "其它"),
}
_CATEGORY = {w: code.value for code, words in CATEGORY_WORDS.items() for w in (code.value, *words)}
_OFF = {"否", "停用", "不启用", "no", "0"}


@dataclass
class ServicePlan:
    header: Header
    rows: list[tuple[int, list[Any], commands.ItemFields]]
    refusals: list[Refusal]
    total: int
    sha256: str


@dataclass
class ServiceOutcome:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len(self.refusals)


class ServiceImportRefused(ValueError):
    """The whole file cannot be imported (unreadable, no header)."""


def _category(word: str) -> str:
    """`社保`, `social_security` or `社保类` → the category's code; the word itself if unknown."""
    key = cells.key(word).removesuffix("类")
    return _CATEGORY.get(key, word)


def _multiline(value: Any) -> str:
    """A cell's lines (Alt+Enter in Excel), or its parts between ；."""
    raw = "" if value is None else str(value)
    return "\n".join(cells.text(line) for line in raw.translate(_LINE_BREAKS).splitlines())


def _fields(header: Header, values: list[Any]) -> commands.ItemFields:
    def cell(key: str) -> Any:
        position = header.index.get(key)
        return values[position] if position is not None and position < len(values) else None

    limit = cells.compact(cell("time_limit_days")).removesuffix("个工作日").removesuffix("工作日")
    return commands.ItemFields(
        name=cells.text(cell("name")),
        category=_category(cells.text(cell("category"))),
        eligibility=cells.text(cell("eligibility")),
        materials=_multiline(cell("materials")),
        steps=_multiline(cell("steps")),
        window=cells.text(cell("window")),
        address=cells.text(cell("address")),
        hours=cells.text(cell("hours")),
        phone=cells.phone(cell("phone")) if cell("phone") is not None else "",
        time_limit_days=limit.removesuffix("天") or "0",
        fees=cells.text(cell("fees")),
        online_url=cells.compact(cell("online_url")),
        active=cells.key(cell("active")) not in _OFF,
    )


def read_services(path: Path) -> ServicePlan:
    """Every row read and checked by the command's own rules; nothing written."""
    header: Header | None = None
    good: list[tuple[int, list[Any], commands.ItemFields]] = []
    refusals: list[Refusal] = []
    first_row_of: dict[str, int] = {}
    total = 0
    try:
        for number, values in sheet.read_rows(path):
            if header is None:
                header = match_header(number, values, _BY_NAME)
                if header is None and number >= HEADER_SEARCH_ROWS:
                    break
                continue
            if is_blank(values):
                continue
            total += 1
            try:
                fields = _fields(header, values)
                commands.check_fields(fields)
            except cells.BadCell as exc:
                refusals.append(Refusal(number, values, str(exc)))
                continue
            except InvalidInput as exc:
                refusals.append(Refusal(number, values, "；".join(exc.errors.values())))
                continue
            first = first_row_of.setdefault(fields.name, number)
            if first != number:
                refusals.append(Refusal(number, values, _("事项名称与第 %(row)s 行重复。", row=first)))
                continue
            good.append((number, values, fields))
    except sheet.UnreadableFile as exc:
        raise ServiceImportRefused(str(exc)) from None
    if header is None:
        raise ServiceImportRefused(
            _(
                "没有找到表头：前 %(rows)s 行里没有一行写着“事项名称”“类别”“所需材料”等列名。请用导入模板的表头。",
                rows=HEADER_SEARCH_ROWS,
            )
        )
    missing = [c.header for c in COLUMNS if c.required and not header.has(c.key)]
    if missing:
        raise ServiceImportRefused(_("表头缺少这些列：%(columns)s。", columns="、".join(missing)))
    return ServicePlan(header, good, refusals, total, sheet.sha256(path))


def apply_services(
    session: Session, actor: Actor | None, plan: ServicePlan, file_name: str
) -> ServiceOutcome:
    """The plan's good rows written in the caller's transaction through the office's commands."""
    outcome = ServiceOutcome(refusals=list(plan.refusals))
    live = select(ServiceItem).where(col(ServiceItem.deleted_at).is_(None))
    existing = {item.name: item for item in session.exec(live)}
    for number, values, fields in plan.rows:
        try:
            with session.begin_nested():
                item = existing.get(fields.name)
                if item is None:
                    commands.create_service_item(session, actor=actor, fields=fields)
                    outcome.added += 1
                    continue
                before = item.revision
                commands.update_service_item(session, actor=actor, item_id=item.id, fields=fields)
                if item.revision == before:
                    outcome.unchanged += 1
                else:
                    outcome.updated += 1
        except DomainError as exc:
            outcome.refusals.append(Refusal(number, values, exc.message))
    outcome.refusals.sort(key=lambda r: r.number)
    audit.record(
        session,
        actor=actor,
        action="import_service_items",
        record_type="service_item",
        file=file_name,
        sha256=plan.sha256,
        rows=plan.total,
        counts={"added": outcome.added, "updated": outcome.updated, "unchanged": outcome.unchanged,
                "refused": outcome.refused},
    )  # fmt: skip
    return outcome


def template_bytes() -> bytes:
    """The blank guide: the header of every column the import reads."""
    buffer = io.BytesIO()
    write_rows(buffer, _("办事指南"), [c.header for c in COLUMNS], [])
    return buffer.getvalue()
