"""Domain commands for visit rules: whom a community's workers should see, and how often.

Admins edit them on `/admin/visit-rules`. A rule is syncable reference data of
its community: `server.versions` gives each change its version, so phones pull
a new interval like any record. A refused command changes nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from server.access import Actor, live
from server.commands.org import FieldErrors, chosen, logged, require_admin, set_changed
from server.i18n import gettext as _
from server.models import (
    Community,
    HouseholdStatus,
    Tag,
    VisitRule,
    VisitRulePriority,
    VisitRuleSubject,
    utcnow,
)

MAX_INTERVAL_DAYS = 365
MAX_AGE = 120


@dataclass(frozen=True)
class RuleFields:
    """A rule's editable fields as an admin's form posts them (text, checked here)."""

    name: str
    subject: str
    tag_code: str = ""
    min_age: Any = None
    household_status: str = ""
    interval_days: Any = None
    priority: str = VisitRulePriority.normal


def _whole(errors: FieldErrors, field: str, value: Any, *, label: str, low: int, high: int) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        errors.add(field, _("%(label)s：必须填写。", label=label))
        return None
    if not re.fullmatch(r"\d{1,4}", text) or not low <= int(text) <= high:
        errors.add(
            field, _("%(label)s：必须是 %(low)s 到 %(high)s 之间的整数。", label=label, low=low, high=high)
        )
        return None
    return int(text)


def _checked(session: Session, fields: RuleFields) -> dict[str, Any]:
    """The row's values from the form, or InvalidInput with one message a field."""
    errors = FieldErrors()
    name = errors.text("name", fields.name, label=_("规则名称"), max_length=40)
    subject = (fields.subject or "").strip()
    values: dict[str, Any] = {"tag_code": "", "min_age": None, "household_status": ""}
    if subject == VisitRuleSubject.tag:
        code = (fields.tag_code or "").strip()
        live_tag = select(Tag).where(Tag.code == code, col(Tag.deleted_at).is_(None))
        tag = session.exec(live_tag).first() if code else None
        if tag is None:
            errors.add("tag_code", _("标签：请选择一个标签。"))
        elif not tag.active:
            errors.add("tag_code", _("标签：%(name)s 已停用。", name=tag.name))
        else:
            values["tag_code"] = tag.code
    elif subject == VisitRuleSubject.age:
        values["min_age"] = _whole(errors, "min_age", fields.min_age, label=_("年龄"), low=1, high=MAX_AGE)
    elif subject == VisitRuleSubject.household_status:
        status = (fields.household_status or "").strip()
        if status not in set(HouseholdStatus):
            errors.add("household_status", _("住户状态：请选择一种状态。"))
        values["household_status"] = status
    else:
        errors.add("subject", _("走访对象：请选择按标签、按年龄或按住户状态。"))
    interval = _whole(
        errors, "interval_days", fields.interval_days, label=_("走访间隔"), low=1, high=MAX_INTERVAL_DAYS
    )
    priority = (fields.priority or "").strip()
    if priority not in set(VisitRulePriority):
        errors.add("priority", _("优先级：请选择高、中或低。"))
    errors.check()
    return {**values, "name": name, "subject": subject, "interval_days": interval, "priority": priority}


def create_visit_rule(
    session: Session, *, actor: Actor | None, community_id: uuid.UUID | str, fields: RuleFields
) -> VisitRule:
    require_admin(actor)
    community = chosen(
        session, Community, community_id, field="community_id", message=_("社区：请选择一个社区。")
    )
    values = _checked(session, fields)
    rule = VisitRule(community_id=community.id, **values)
    session.add(rule)
    logged(session, actor, "visit_rule.create", rule, community_id=community.id, **values)
    return rule


def update_visit_rule(
    session: Session, *, actor: Actor | None, rule_id: uuid.UUID | str, fields: RuleFields
) -> VisitRule:
    """Change whom a rule names, how often or how urgently; the community stays."""
    require_admin(actor)
    rule = live(session, VisitRule, rule_id)
    changed = set_changed(rule, **_checked(session, fields))
    if changed:
        logged(session, actor, "visit_rule.update", rule, changes=changed)
    return rule


def set_visit_rule_active(
    session: Session, *, actor: Actor | None, rule_id: uuid.UUID | str, active: bool
) -> VisitRule:
    """A deactivated rule makes no tasks but keeps its settings for later."""
    require_admin(actor)
    rule = live(session, VisitRule, rule_id)
    if rule.active != active:
        rule.active = active
        logged(
            session, actor, "visit_rule.activate" if active else "visit_rule.deactivate", rule, name=rule.name
        )
    return rule


def delete_visit_rule(session: Session, *, actor: Actor | None, rule_id: uuid.UUID | str) -> VisitRule:
    """Remove a rule (phones pull it as `del`)."""
    require_admin(actor)
    rule = live(session, VisitRule, rule_id)
    rule.deleted_at = utcnow()
    rule.active = False
    logged(session, actor, "visit_rule.delete", rule, name=rule.name)
    return rule
