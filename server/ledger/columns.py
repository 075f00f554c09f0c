"""The columns of the household ledger (一户一档), found by their Chinese header in any order."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.i18n import gettext as _


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as the template writes it
    aliases: tuple[str, ...] = ()
    required: bool = False
    optional: bool = False  # not in every ledger; the template still has it


COLUMNS: tuple[Column, ...] = (
    Column("community", "社区", ("所属社区", "社区名称"), optional=True),
    Column("grid", "网格", ("所属网格", "网格名称", "网格编号"), required=True),
    Column("estate", "小区", ("小区名称", "小区/自然村", "自然村"), required=True),
    Column("building", "楼栋", ("楼号", "栋", "幢")),
    Column("unit", "单元", ("单元号",)),
    Column("room", "门牌", ("门牌号", "房号", "户号", "室")),
    Column("kind", "户类型", ("户别", "住户类型")),
    Column("status", "户状态", ("住户状态",), optional=True),
    Column("household_phone", "住户电话", ("家庭电话", "户电话"), optional=True),
    Column("name", "姓名", ("居民姓名",), required=True),
    Column("relation", "与户主关系", ("关系", "与户主的关系")),
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "身份证")),
    Column("phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "联系方式")),
    Column("tags", "标签", ("人员标签", "重点人群", "人员类别")),
    Column("notes", "备注", ("说明",)),
)

_DECORATION = re.compile(r"[*＊\s]|[(（][^)）]*[)）]$")
HEADER_SEARCH_ROWS = 20  # a title, notes or a blank row or two may stand above the header


class NoHeader(ValueError):
    """No row of the sheet's first rows is the ledger's header; the message says what is missing."""


@dataclass(frozen=True)
class Header:
    row: int  # the sheet's own row number
    names: tuple[str, ...]  # the cells as written, for the errors workbook
    index: dict[str, int]  # column key → position

    def has(self, key: str) -> bool:
        return key in self.index


def header_name(cell: Any) -> str:
    """`* 身份证号（18位）` → `身份证号`: the name without marks, spaces or a note in brackets."""
    text = unicodedata.normalize("NFKC", str(cell or ""))
    return _DECORATION.sub("", text.strip())


def by_name(columns: Sequence[Column]) -> dict[str, str]:
    """Every header a sheet may write (the template's and the aliases) → its column's key."""
    return {name: c.key for c in columns for name in (c.header, *c.aliases)}


_BY_NAME = by_name(COLUMNS)


def match_header(number: int, cells: Sequence[Any], known: Mapping[str, str] | None = None) -> Header | None:
    """The header row (a `name` column and at least two more), or None; `known` from
    `by_name`, the household ledger's by default."""
    known = _BY_NAME if known is None else known
    index: dict[str, int] = {}
    for position, cell in enumerate(cells):
        key = known.get(header_name(cell))
        if key is not None and key not in index:
            index[key] = position
    if "name" not in index or len(index) < 3:
        return None
    names = tuple("" if c is None else str(c) for c in cells)
    while names and not names[-1]:
        names = names[:-1]
    return Header(row=number, names=names, index=index)


def check_required(header: Header) -> None:
    missing = [c.header for c in COLUMNS if c.required and not header.has(c.key)]
    if missing:
        raise NoHeader(_("表头缺少这些列：%(columns)s。", columns="、".join(missing)))


def no_header_message() -> str:
    return _(
        "没有找到表头：前 %(rows)s 行里没有一行写着“姓名”“网格”“小区”等列名。请用导入模板的表头。",
        rows=HEADER_SEARCH_ROWS,
    )
