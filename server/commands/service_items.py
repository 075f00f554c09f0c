"""Domain commands for the service guide (办事指南): create and edit service items.

Community staff and admins edit the guide on `/guide`; each accepted change
writes the item's next revision to `service_item_revision`, so every version
is kept (an assisted application names the one it began with) and the
resident's page always shows the current one. Items are reference data
(record type `service_item`): `server.versions` versions each change and every
phone pulls it. A refused command changes nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session

from server.access import Actor, Forbidden, live
from server.commands.org import FieldErrors, logged, set_changed
from server.i18n import gettext as _
from server.models import MaterialForm, ServiceCategory, ServiceItem, ServiceItemRevision

MAX_TIME_LIMIT = 365
MAX_MATERIALS = 40
MAX_STEPS = 30
MAX_COUNT = 99
SEPARATOR = re.compile(r"\s*[|｜]\s*")
COUNT = re.compile(r"(\d{1,2})\s*份?")
URL = re.compile(r"https?://[^\s<>\"']{1,400}")
# The words a form may use for the kind of a material, in either language.
FORMS = {
    "原件": MaterialForm.original,
    "复印件": MaterialForm.copy,
    "original": MaterialForm.original,
    "copy": MaterialForm.copy,
}
FORM_WORDS = {MaterialForm.original: "原件", MaterialForm.copy: "复印件"}
# What a revision keeps: every field a resident reads.
KEPT = (
    "name",
    "category",
    "eligibility",
    "materials",
    "steps",
    "window",
    "address",
    "hours",
    "phone",
    "time_limit_days",
    "fees",
    "online_url",
    "active",
)


@dataclass(frozen=True)
class ItemFields:
    """An item's editable fields as the office form posts them (text, checked here).

    `materials` has one material a line, `名称｜原件或复印件｜份数｜备注` (the last three
    may be left out: a copy, one of it); `steps` one step a line.
    """

    name: str
    category: str
    eligibility: str = ""
    materials: str = ""
    steps: str = ""
    window: str = ""
    address: str = ""
    hours: str = ""
    phone: str = ""
    time_limit_days: Any = "0"
    fees: str = ""
    online_url: str = ""
    active: bool = True


def require_editor(actor: Actor | None) -> None:
    """The guide is the office's: community staff and admins (no actor: an operator's shell)."""
    if actor is not None and not actor.is_staff:
        raise Forbidden(actor.role)


def materials_text(materials: list[dict[str, Any]]) -> str:
    """The form's text of a stored list: the inverse of `_materials`."""
    lines = []
    for m in materials:
        parts = [m["name"], FORM_WORDS.get(m.get("form", ""), "复印件"), f"{m.get('count', 1)}份"]
        if m.get("note"):
            parts.append(m["note"])
        lines.append("｜".join(parts))
    return "\n".join(lines)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _materials(errors: FieldErrors, text: str) -> list[dict[str, Any]]:
    lines = _lines(text)
    if not lines:
        errors.add("materials", _("所需材料：至少填写一项，每行一项。"))
        return []
    if len(lines) > MAX_MATERIALS:
        errors.add("materials", _("所需材料：最多 %(n)s 项。", n=MAX_MATERIALS))
        return []
    found: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        name, *rest = SEPARATOR.split(line, maxsplit=3)
        form, count, note = MaterialForm.copy, 1, ""
        if rest:
            form_word = rest.pop(0).lower()
            if form_word not in FORMS:
                errors.add("materials", _("所需材料第 %(n)s 行：请写“原件”或“复印件”。", n=number))
                continue
            form = FORMS[form_word]
        if rest:
            matched = COUNT.fullmatch(rest.pop(0))
            if matched is None or not 1 <= int(matched.group(1)) <= MAX_COUNT:
                errors.add(
                    "materials", _("所需材料第 %(n)s 行：份数必须是 1 到 %(max)s。", n=number, max=MAX_COUNT)
                )
                continue
            count = int(matched.group(1))
        if rest:
            note = rest.pop(0)
        if not name or len(name) > 60 or len(note) > 200:
            errors.add(
                "materials",
                _("所需材料第 %(n)s 行：名称必须填写且不超过 60 字，备注不超过 200 字。", n=number),
            )
            continue
        found.append({"name": name, "form": form.value, "count": count, "note": note})
    return found


def _steps(errors: FieldErrors, text: str) -> list[str]:
    steps = _lines(text)
    if len(steps) > MAX_STEPS:
        errors.add("steps", _("办理流程：最多 %(n)s 步。", n=MAX_STEPS))
    elif any(len(step) > 300 for step in steps):
        errors.add("steps", _("办理流程：每一步不超过 300 字。"))
    return steps


def _checked(fields: ItemFields) -> dict[str, Any]:
    """The row's values from the form, or InvalidInput with one message a field."""
    errors = FieldErrors()
    name = errors.text("name", fields.name, label=_("事项名称"), max_length=60)
    category = (fields.category or "").strip()
    if category not in set(ServiceCategory):
        errors.add("category", _("类别：请选择一个类别。"))
    eligibility = errors.text(
        "eligibility", fields.eligibility, label=_("申请对象"), max_length=500, required=False
    )
    materials = _materials(errors, fields.materials)
    steps = _steps(errors, fields.steps)
    window = errors.text("window", fields.window, label=_("办理窗口"), max_length=60, required=False)
    address = errors.text("address", fields.address, label=_("办理地点"), max_length=120, required=False)
    hours = errors.text("hours", fields.hours, label=_("办理时间"), max_length=120, required=False)
    phone = errors.text("phone", fields.phone, label=_("咨询电话"), max_length=40, required=False)
    if phone and not re.fullmatch(r"[0-9+\-()（） 、,，转]{3,40}", phone):
        errors.add("phone", _("咨询电话：只能有数字、空格和 - + ( )。"))
    limit_text = str(fields.time_limit_days if fields.time_limit_days is not None else "").strip()
    time_limit = 0
    if not re.fullmatch(r"\d{1,3}", limit_text) or int(limit_text) > MAX_TIME_LIMIT:
        errors.add(
            "time_limit_days",
            _("办结时限：必须是 0 到 %(n)s 之间的整数（工作日，0 表示即办）。", n=MAX_TIME_LIMIT),
        )
    else:
        time_limit = int(limit_text)
    fees = errors.text("fees", fields.fees, label=_("收费标准"), max_length=200, required=False)
    online_url = (fields.online_url or "").strip()
    if online_url and not URL.fullmatch(online_url):
        errors.add("online_url", _("网上办理：请填写以 http:// 或 https:// 开头的网址。"))
    errors.check()
    return {
        "name": name,
        "category": category,
        "eligibility": eligibility,
        "materials": materials,
        "steps": steps,
        "window": window,
        "address": address,
        "hours": hours,
        "phone": phone,
        "time_limit_days": time_limit,
        "fees": fees or "",
        "online_url": online_url,
        "active": bool(fields.active),
    }


def check_fields(fields: ItemFields) -> None:
    """The form's checks alone (the guide's importer checks every row before writing any):
    InvalidInput with one message a field, or nothing."""
    _checked(fields)


def _keep(session: Session, actor: Actor | None, item: ServiceItem) -> None:
    session.add(
        ServiceItemRevision(
            item_id=item.id,
            revision=item.revision,
            data={k: getattr(item, k) for k in KEPT},
            actor_id=actor.id if actor else None,
        )
    )


def create_service_item(session: Session, *, actor: Actor | None, fields: ItemFields) -> ServiceItem:
    require_editor(actor)
    values = _checked(fields)
    item = ServiceItem(**values, revision=1)
    session.add(item)
    session.flush()
    _keep(session, actor, item)
    logged(session, actor, "service_item.create", item, name=item.name, revision=1)
    return item


def update_service_item(
    session: Session, *, actor: Actor | None, item_id: uuid.UUID | str, fields: ItemFields
) -> ServiceItem:
    """A change becomes the item's next revision; an unchanged form writes nothing."""
    require_editor(actor)
    item = live(session, ServiceItem, item_id)
    changed = set_changed(item, **_checked(fields))
    if changed:
        item.revision += 1
        _keep(session, actor, item)
        logged(session, actor, "service_item.update", item, revision=item.revision, changes=sorted(changed))
    return item


def fields_of(item: ServiceItem) -> ItemFields:
    """The form's fields of a stored item (the edit form starts from them)."""
    return ItemFields(
        **{k: getattr(item, k) for k in KEPT if k not in ("materials", "steps", "time_limit_days")},
        materials=materials_text(item.materials),
        steps="\n".join(item.steps),
        time_limit_days=str(item.time_limit_days),
    )


def form_values(item: ServiceItem) -> dict[str, str]:
    """`fields_of` as the strings an edit form shows."""
    values = asdict(fields_of(item))
    values["active"] = "1" if item.active else ""
    return {k: str(v) for k, v in values.items()}
