"""The travel card (老年出行卡) application workflow, once: which step leads from which status
to which and who may take it, who is eligible, and the consent text the applicant agrees to.

`TRANSITIONS` (step → the statuses it may be taken from, and the status it leads to) and
`STEP_ROLES` (who may take each step) are read by the commands, the sync catalogue, the
office pages and the tests. Eligibility is decided from the ID number's birth date on
the application date against the settings `travel_card.age_threshold` (a free card) and
`travel_card.discount_age` (a discount card, when set).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from server import preferences
from server.access import Actor, can_hold
from server.errors import (
    NotEligible,
)
from server.i18n import gettext as _
from server.models import CardStatus, Role, TravelCard
from server.people.idnumber import age_on
from server.workflows.base import Workflow

S = CardStatus

EDITABLE = frozenset({S.draft, S.needs_supplement})


# Closed applications do not block a new one for the same person.
CLOSED = (S.rejected, S.cancelled)


TRANSITIONS: dict[str, tuple[frozenset[CardStatus], CardStatus | None]] = {
    "update": (EDITABLE, None),
    "submit": (EDITABLE, S.submitted),
    "approve": (frozenset({S.submitted}), S.approved),
    "reject": (frozenset({S.submitted}), S.rejected),
    "needs_supplement": (frozenset({S.submitted}), S.needs_supplement),
    "in_production": (frozenset({S.approved}), S.in_production),
    "ready": (frozenset({S.in_production}), S.ready),
    "issued": (frozenset({S.ready}), S.issued),
    "cancel": (
        frozenset({S.draft, S.submitted, S.needs_supplement, S.approved, S.in_production, S.ready}),
        S.cancelled,
    ),
    "plan_review": (frozenset({S.issued}), None),
}


FIELD_ROLES = frozenset({Role.grid_worker, Role.community_staff, Role.admin})


OFFICE_ROLES = frozenset({Role.community_staff, Role.admin})


STEP_ROLES: dict[str, frozenset[str]] = {
    "create": FIELD_ROLES,
    "update": FIELD_ROLES,
    "submit": FIELD_ROLES,
    "approve": OFFICE_ROLES,
    "reject": OFFICE_ROLES,
    "needs_supplement": OFFICE_ROLES,
    "in_production": OFFICE_ROLES,
    "ready": OFFICE_ROLES,
    "issued": FIELD_ROLES,  # staff at the desk, or the worker who takes it to the door
    "cancel": FIELD_ROLES,
    "plan_review": FIELD_ROLES,
}


# Steps whose note is required: the applicant and the worker must learn why.
NEEDS_REASON = frozenset({"reject", "needs_supplement", "cancel"})


# Steps that change the status (the ones the application page offers as buttons).
STATUS_STEPS = tuple(step for step, (_sources, target) in TRANSITIONS.items() if target is not None)


WORKFLOW = Workflow(
    TravelCard,
    TRANSITIONS,
    STEP_ROLES,
    "card_status",
    "card_step",
    lambda status, step: _("这份申请现在是“%(status)s”，不能%(step)s。", status=status, step=step),
)


may = WORKFLOW.may


allowed = WORKFLOW.allowed


def steps_for(actor: Actor, card: TravelCard) -> list[str]:
    """The status-changing steps the actor may take on this application now."""
    return [s for s in STATUS_STEPS if may(actor, s) and allowed(s, card.status) and can_hold(actor, card)]


@dataclass(frozen=True)
class ConsentText:
    version: str
    text: str


# What the applicant reads before agreeing to the use of their personal data
# (PIPL). An answer names the version it was given to, so a text is never
# changed in place: add a new version and point CONSENT at it. Not translated:
# it is the text the resident reads and agrees to.
CONSENTS: dict[str, ConsentText] = {
    "tc-2026-01": ConsentText(
        "tc-2026-01",
        "个人信息使用告知与同意\n"
        "为办理老年出行卡，社区将收集并使用您的姓名、性别、身份证号码、照片、联系电话和住址，"
        "仅用于出行卡的资格审核、制作、发放和年审。身份证号码加密保存，页面上只显示部分号码。"
        "除依法需要提供给出行卡制发单位外，不会提供给其他单位或个人。"
        "您可以随时向社区查询、更正这些信息，也可以撤回同意，撤回后将无法继续办理。\n"
        "我已阅读并同意上述内容。",
    ),
}


CONSENT = CONSENTS["tc-2026-01"]


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the 31st (or 29 February) becomes the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class CardAges:
    """Who is old enough for a card: `free` from `threshold`, `discount` from `discount` (when set).
    The one rule the commands, the office pages and the phone (through /app/labels) apply."""

    threshold: int
    discount: int | None

    @property
    def youngest(self) -> int:
        return self.discount if self.discount is not None else self.threshold

    def tier(self, born: date | None, on: date) -> str | None:
        if born is None:
            return None
        age = age_on(born, on)
        if age >= self.threshold:
            return "free"
        if self.discount is not None and age >= self.discount:
            return "discount"
        return None


def card_ages(session: Session) -> CardAges:
    """The ages from the settings `travel_card.age_threshold` and `travel_card.discount_age`."""
    discount = preferences.get(session, "travel_card.discount_age")
    threshold = int(preferences.get(session, "travel_card.age_threshold"))
    return CardAges(threshold, int(discount) if discount is not None else None)


def eligible_tier(session: Session, born: date | None, on: date) -> str:
    """The tier `born` is eligible for on `on`; NotEligible (saying why) when none."""
    if born is None:
        raise NotEligible(_("这位居民没有登记身份证号，无法确定年龄；请先在居民信息中录入身份证号。"))
    ages = card_ages(session)
    tier = ages.tier(born, on)
    if tier is None:
        raise NotEligible(_("申请人未满 %(age)s 周岁，不能办理老年出行卡。", age=ages.youngest))
    return tier


def missing_materials(card: TravelCard) -> list[str]:
    """What an application still lacks before it can be submitted, for people."""
    checklist = card.checklist or {}
    missing = []
    if not checklist.get("id_seen"):
        missing.append(_("核验身份证原件"))
    if not checklist.get("consent"):
        missing.append(_("本人同意使用个人信息"))
    if not card.photo:
        missing.append(_("申请人照片"))
    if card.residence not in ("hukou", "permit"):
        missing.append(_("户籍或居住证信息"))
    return missing
