"""Turning argument shapes into clear Chinese messages: one schema check for pages and sync alike.

Every shape also gets the limits of what the databases can hold (SQLite and PostgreSQL
alike), so a value that passes here never fails at the database on every retry and
blocks a phone's outbox behind it (SYNC.md rules 5 and 6): text without NUL or lone
surrogates, integers within BIGINT, finite numbers, times in a range that converts to UTC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from server.clock import LOCAL_TZ
from server.errors import InvalidInput
from server.i18n import gettext as _
from server.i18n.labels import field_label

M = TypeVar("M", bound=BaseModel)

BIGINT = 2**63 - 1
# Times of fieldwork: wide enough for a phone whose clock reset to 1970, narrow enough
# that every offset, the local zone and any date arithmetic of a page stay in the calendar.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class Unstorable(ValueError):
    """A value no database column can hold; the message says why, for people."""


def storable(value: Any) -> None:
    """Unstorable for the first JSON value, at any depth, the databases cannot hold."""
    if isinstance(value, str):
        if "\x00" in value:
            raise Unstorable(_("不能包含空字符（NUL）。"))
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Unstorable(_("含有无效的字符。")) from None
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -BIGINT - 1 <= value <= BIGINT:
            raise Unstorable(_("数字太大了。"))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Unstorable(_("必须是有限的数字。"))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            storable(key)
            storable(item)
    elif isinstance(value, list | tuple):
        for item in value:
            storable(item)


def moment(value: datetime) -> datetime:
    """The time in UTC (a naive one is local), or Unstorable outside EARLIEST–LATEST."""
    try:
        utc = (value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)).astimezone(UTC)
    except OverflowError:
        raise Unstorable(
            _("时间超出范围（%(a)s 至 %(b)s 年）。", a=EARLIEST.year, b=LATEST.year - 1)
        ) from None
    if not EARLIEST <= utc < LATEST:
        raise Unstorable(_("时间超出范围（%(a)s 至 %(b)s 年）。", a=EARLIEST.year, b=LATEST.year - 1))
    return utc


def day(value: date) -> date:
    """A calendar day in the same range as times, so that a page adding to it stays in the calendar."""
    if not EARLIEST.date() <= value < LATEST.date():
        raise Unstorable(_("时间超出范围（%(a)s 至 %(b)s 年）。", a=EARLIEST.year, b=LATEST.year - 1))
    return value


def _settle_times(model: BaseModel) -> None:
    """Every datetime and date of the shape, nested ones too, checked; datetimes made UTC."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, date):
            try:
                setattr(model, name, moment(value) if isinstance(value, datetime) else day(value))
            except Unstorable as exc:
                raise _refused(name, str(exc)) from None
        elif isinstance(value, BaseModel):
            _settle_times(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, BaseModel):
                    _settle_times(item)


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("必须填写。")
    if kind in ("string_too_long", "too_long"):
        return _("太长了，最多 %(n)s 个字。", n=ctx.get("max_length", "?"))
    if kind in ("string_too_short", "too_short"):
        return _("必须填写。")
    if kind in ("literal_error", "enum"):
        return _("不是可选的值。")
    if kind.startswith("uuid"):
        return _("编号格式不对。")
    if kind == "extra_forbidden":
        return _("不认识这个字段。")
    if kind.startswith(("int", "float")):
        return _("必须是数字。")
    if kind.startswith("datetime") or kind.startswith("date"):
        return _("时间格式不对。")
    return _("格式不对。")


def _refused(field: str, message: str, names: Mapping[str, Any] | None = None) -> InvalidInput:
    return InvalidInput({field: f"{_named(field, names)}：{message}"})


def _named(field: str, names: Mapping[str, Any] | None) -> str:
    return str(names[field]) if names and field in names else field_label(field)


def validate(schema: type[M], data: Any, names: Mapping[str, Any] | None = None) -> M:
    """Check `data` against `schema`; InvalidInput maps each bad field to a message, naming it
    by `names` (a command's own words for its fields) or else the shared field labels."""
    if not isinstance(data, dict):
        raise InvalidInput({"args": _("参数必须是对象。")})
    for field, value in data.items():
        try:
            storable(field)
        except Unstorable as exc:
            raise _refused("args", str(exc)) from None  # never echo the key: it cannot be encoded
        try:
            storable(value)
        except Unstorable as exc:
            raise _refused(field, str(exc), names) from None
    try:
        model = schema.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            field = str(error["loc"][0]) if error["loc"] else "args"
            errors.setdefault(field, f"{_named(field, names)}：{_message(error)}")
        raise InvalidInput(errors) from None
    _settle_times(model)
    return model
