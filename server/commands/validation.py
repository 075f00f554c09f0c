"""Turning argument shapes into clear Chinese messages: one schema check for pages and sync alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from server.errors import InvalidInput
from server.i18n import gettext as _
from server.i18n.labels import field_label

M = TypeVar("M", bound=BaseModel)


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


def validate(schema: type[M], data: Any) -> M:
    """Check `data` against `schema`; InvalidInput maps each bad field to a message."""
    if not isinstance(data, dict):
        raise InvalidInput({"args": _("参数必须是对象。")})
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            field = str(error["loc"][0]) if error["loc"] else "args"
            errors.setdefault(field, f"{field_label(field)}：{_message(error)}")
        raise InvalidInput(errors) from None
