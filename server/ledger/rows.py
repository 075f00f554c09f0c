"""One ledger row read into what the commands take, or refused with its sheet row number and
why; the reference data (communities, grids, tags) it is checked against."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from server.access import Actor
from server.commands.households import check_phone
from server.commands.residents import check_id_number
from server.errors import InvalidInput
from server.i18n import gettext as _
from server.ledger import cells
from server.ledger.columns import Header
from server.models import Community, Grid, Tag

RELATIONS = {
    "head": ("户主", "本人", "户主本人"),
    "spouse": ("配偶", "妻", "妻子", "夫", "丈夫", "爱人"),
    "child": ("子女", "子", "女", "儿子", "女儿", "长子", "次子", "长女", "次女"),
    "parent": ("父母", "父亲", "母亲", "父", "母"),
    "grandchild": ("孙辈", "孙子", "孙女", "外孙", "外孙女"),
    "sibling": ("兄弟姐妹", "兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹"),
    "tenant": ("租户", "租客", "承租人"),
    "other": ("其他", "其它"),
}
KINDS = {
    "registered": ("户籍", "户籍户"),
    "resident": ("常住", "常住户"),
    "floating": ("流动", "流动人口", "流动户"),
    "rental": ("出租", "出租户", "出租房"),
}
STATUSES = {"active": ("在住", "正常"), "vacant": ("空置", "空房"), "moved_out": ("已迁出", "迁出")}


def _lookup(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {cells.key(word): code for code, words in table.items() for word in (code, *words)}


_RELATION = _lookup(RELATIONS)
_KIND = _lookup(KINDS)
_STATUS = _lookup(STATUSES)


@dataclass(frozen=True, slots=True)
class GridRef:
    id: uuid.UUID
    community_id: uuid.UUID
    name: str


@dataclass
class Reference:
    """The grids the importer may fill and the tag catalogue, each by name and by code."""

    communities: dict[str, uuid.UUID] = field(default_factory=dict)
    grids: dict[str, list[GridRef]] = field(default_factory=lambda: defaultdict(list))
    tags: dict[str, str] = field(default_factory=dict)  # name or code → code
    community_id: uuid.UUID | None = None  # the import's own community, when named

    def grid(self, word: str, community_word: str) -> GridRef:
        found = self.grids.get(cells.key(word), [])
        community = self.community_id
        if community_word:
            community = self.communities.get(cells.key(community_word))
            if community is None:
                raise cells.BadCell(_("没有这个社区：%(name)s。", name=community_word))
        if community is not None:
            found = [g for g in found if g.community_id == community]
        if not word:
            raise cells.BadCell(_("网格：必须填写。"))
        if not found:
            raise cells.BadCell(_("没有这个网格：%(name)s（或你无权导入到这个网格）。", name=word))
        if len(found) > 1:
            raise cells.BadCell(
                _("有几个社区都有网格“%(name)s”：请填写“社区”列，或导入时选定社区。", name=word)
            )
        return found[0]


def load_reference(session: Session, actor: Actor, community_id: uuid.UUID | None) -> Reference:
    ref = Reference(community_id=community_id)
    communities = select(Community).where(Community.deleted_at == None)  # noqa: E711
    grids = select(Grid).where(Grid.deleted_at == None)  # noqa: E711
    if not actor.is_admin:
        communities = communities.where(Community.id == actor.community_id)
        grids = grids.where(Grid.community_id == actor.community_id)
        if actor.is_worker:
            grids = grids.where(Grid.id.in_(actor.grid_ids))  # type: ignore[attr-defined]
    for community in session.exec(communities):
        ref.communities[cells.key(community.name)] = community.id
        ref.communities[cells.key(community.code)] = community.id
    for grid in session.exec(grids):
        entry = GridRef(grid.id, grid.community_id, grid.name)
        for word in {cells.key(grid.name), cells.key(grid.code)}:
            ref.grids[word].append(entry)
    for tag in session.exec(select(Tag).where(Tag.deleted_at == None, Tag.active == True)):  # noqa: E711, E712
        ref.tags[cells.key(tag.code)] = tag.code
        ref.tags[cells.key(tag.name)] = tag.code
    return ref


@dataclass(frozen=True, slots=True)  # 50,000 of them are held at once
class LedgerRow:
    number: int
    cells: list[Any]  # as the sheet has them, for the errors workbook
    grid: GridRef
    estate: str
    building: str
    unit: str
    room: str
    household: dict[str, str]  # kind, status, phone: those the sheet has
    name: str
    resident: dict[str, Any]  # relation, phone, notes, tags: those the sheet has
    id_number: str  # 18 characters, upgraded from 15; "" when the row has none

    @property
    def address_key(self) -> tuple[uuid.UUID, str]:
        return address_key(self.grid.id, self.estate, self.building, self.unit, self.room)


def address_key(grid_id: uuid.UUID, *parts: str) -> tuple[uuid.UUID, str]:
    """Grid and normalised address: how a ledger row finds its household."""
    return grid_id, "|".join(cells.key(p) for p in parts)


@dataclass(frozen=True, slots=True)
class Refusal:
    number: int
    cells: list[Any]
    reason: str


def is_blank(values: list[Any]) -> bool:
    return all(cells.text(v) == "" for v in values)


class RowReader:
    """Reads the rows under one header against one set of reference data."""

    def __init__(self, header: Header, ref: Reference) -> None:
        self.header = header
        self.ref = ref

    def cell(self, values: list[Any], key: str) -> Any:
        position = self.header.index.get(key)
        return values[position] if position is not None and position < len(values) else None

    def read(self, number: int, values: list[Any]) -> LedgerRow | Refusal:
        reasons: list[str] = []

        def take(label: str, fn: Any, *args: Any) -> Any:
            try:
                return fn(*args)
            except cells.BadCell as exc:
                reasons.append(str(exc))
            except InvalidInput as exc:
                reasons.append(f"{label}：" + "；".join(exc.errors.values()))
            return None

        grid = take(
            _("网格"),
            self.ref.grid,
            cells.text(self.cell(values, "grid")),
            cells.text(self.cell(values, "community")),
        )
        estate = cells.compact(self.cell(values, "estate"))
        if not estate:
            reasons.append(_("小区：必须填写。"))
        name = cells.name(self.cell(values, "name"))
        if not name:
            reasons.append(_("姓名：必须填写。"))
        id_number = take(_("身份证号"), self._id_number, values) or ""
        household = take(_("住户"), self._household, values) or {}
        resident = take(_("居民"), self._resident, values) or {}
        if reasons or grid is None:
            return Refusal(number, values, "；".join(reasons))
        return LedgerRow(
            number=number,
            cells=values,
            grid=grid,
            estate=estate,
            building=cells.compact(self.cell(values, "building")),
            unit=cells.compact(self.cell(values, "unit")),
            room=cells.compact(self.cell(values, "room")),
            household=household,
            name=name,
            resident=resident,
            id_number=id_number,
        )

    def _id_number(self, values: list[Any]) -> str:
        raw = cells.id_number(self.cell(values, "id_number"))
        parsed = check_id_number(raw)
        return parsed.number if parsed else ""

    def _household(self, values: list[Any]) -> dict[str, str]:
        fields: dict[str, str] = {}
        if self.header.has("kind"):
            fields["kind"] = _choice(_KIND, self.cell(values, "kind"), _("户类型"), "registered")
        if self.header.has("status"):
            fields["status"] = _choice(_STATUS, self.cell(values, "status"), _("户状态"), "active")
        if self.header.has("household_phone"):
            fields["phone"] = _phone(self.cell(values, "household_phone"), _("住户电话"))
        return fields

    def _resident(self, values: list[Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if self.header.has("relation"):
            fields["relation"] = _choice(_RELATION, self.cell(values, "relation"), _("与户主关系"), "other")
        if self.header.has("phone"):
            fields["phone"] = _phone(self.cell(values, "phone"), _("联系电话"))
        if self.header.has("notes"):
            fields["notes"] = cells.text(self.cell(values, "notes"))
        if self.header.has("tags"):
            words = cells.tag_words(self.cell(values, "tags"))
            unknown = [w for w in words if cells.key(w) not in self.ref.tags]
            if unknown:
                raise cells.BadCell(_("没有这些标签：%(tags)s。", tags="、".join(unknown)))
            fields["tags"] = sorted({self.ref.tags[cells.key(w)] for w in words})
        return fields


def _choice(table: dict[str, str], value: Any, label: str, blank: str) -> str:
    word = cells.key(value)
    if not word:
        return blank
    if word not in table:
        raise cells.BadCell(_("%(label)s：不认识“%(value)s”。", label=label, value=cells.text(value)))
    return table[word]


def _phone(value: Any, label: str) -> str:
    try:
        return check_phone(cells.phone(value))
    except InvalidInput as exc:
        raise cells.BadCell(f"{label}：" + "；".join(exc.errors.values())) from None
