"""Turning argument shapes into clear Chinese messages: one schema check for pages and sync alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from server.errors import InvalidInput
from server.i18n import gettext as _

M = TypeVar("M", bound=BaseModel)

LABELS: dict[str, str] = {
    "household_id": "户",
    "resident_id": "居民",
    "visit_id": "走访编号",
    "grid_id": "网格",
    "estate": "小区",
    "building": "楼栋",
    "unit": "单元",
    "room": "门牌",
    "kind": "户类型",
    "status": "状态",
    "phone": "电话",
    "notes": "备注",
    "name": "姓名",
    "relation": "与户主关系",
    "id_number": "身份证号",
    "tags": "标签",
    "purpose": "走访目的",
    "outcome": "走访结果",
    "photos": "照片",
    "base_version": "版本",
    "set": "修改内容",
    "lat": "纬度",
    "lng": "经度",
    "at": "时间",
}


def label(field: str) -> str:
    return _(LABELS.get(field, field))


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
            errors.setdefault(field, f"{label(field)}：{_message(error)}")
        raise InvalidInput(errors) from None
