"""The assisted application (帮代办, 代办件) workflow, once: steps, roles, the consent text, the deadline.

`TRANSITIONS` (step → the statuses it may be taken from, and the status it leads to) and
`STEP_ROLES` (who may take each step) are read by the commands, the sync catalogue, the
office pages and the tests. 收件 → 已递交 → 办结 → 已送达; 退回补件 (materials missing) goes
back to the worker, who 补件 and so receives it again; 撤回 ends it. The deadline is the
item's time limit in working days (`server/workflows/workdays.py`) from 收件, counted again
from 补件; an item done on the spot (0 days) still gets one working day.
"""

from __future__ import annotations

from datetime import datetime

from server.access import Actor, can_hold
from server.i18n import gettext as _
from server.models import AssistedApplication, AssistedStatus, Role
from server.workflows.base import Workflow
from server.workflows.travel_cards import ConsentText
from server.workflows.workdays import TimeLimit, WorkCalendar, warning

S = AssistedStatus

TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "submit": (frozenset({S.received}), S.submitted),
    "complete": (frozenset({S.submitted}), S.completed),
    "deliver": (frozenset({S.completed}), S.delivered),
    "return": (frozenset({S.received, S.submitted}), S.returned),
    "resupply": (frozenset({S.returned}), S.received),
    "withdraw": (frozenset({S.received, S.submitted, S.returned}), S.withdrawn),
}

FIELD = frozenset({Role.grid_worker, Role.community_staff, Role.admin})
OFFICE = frozenset({Role.community_staff, Role.admin})
HANDLERS = frozenset({Role.community_staff, Role.admin, Role.department})

STEP_ROLES: dict[str, frozenset[str]] = {
    "create": FIELD,
    "submit": FIELD,  # staff at the window, or the worker who takes it there
    "complete": HANDLERS,
    "deliver": FIELD,
    "return": HANDLERS,
    "resupply": FIELD,
    "withdraw": FIELD,
}

# The note a step must carry, by the name of its argument.
NEEDS = {"complete": "result", "return": "missing", "withdraw": "reason"}

# While these last the resident waits on us: the deadline counts.
CLOCK_RUNS = frozenset({S.received, S.submitted})
OPEN = frozenset({S.received, S.submitted, S.completed, S.returned})

STATUS_STEPS = tuple(TRANSITIONS)

WORKFLOW = Workflow(
    AssistedApplication,
    TRANSITIONS,
    STEP_ROLES,
    "assisted_status",
    "assisted_step",
    lambda status, step: _("这件代办现在是“%(status)s”，不能%(step)s。", status=status, step=step),
)

may = WORKFLOW.may
allowed = WORKFLOW.allowed


def steps_for(actor: Actor, application: AssistedApplication) -> list[str]:
    """The steps the actor may take on this application now."""
    return [
        s
        for s in STATUS_STEPS
        if may(actor, s) and allowed(s, application.status) and can_hold(actor, application)
    ]


def limit_of(time_limit_days: int) -> TimeLimit:
    return TimeLimit(float(max(time_limit_days, 1)))


def deadline_from(calendar: WorkCalendar, time_limit: str, start: datetime) -> datetime:
    return TimeLimit.parse(time_limit).deadline(calendar, start)


def warning_level(calendar: WorkCalendar, application: AssistedApplication, now: datetime) -> str:
    """ok | soon | overdue while the clock runs; "" once it does not."""
    if application.status not in CLOCK_RUNS or application.deadline is None:
        return ""
    return warning(TimeLimit.parse(application.time_limit), calendar, application.deadline, now)


# What the resident agrees to before a worker applies on their behalf. An answer names the
# version it was given to, so a text is never changed in place: add a version and point
# CONSENT at it. Not translated: it is the text the resident reads and agrees to.
CONSENTS: dict[str, ConsentText] = {
    "aa-2026-01": ConsentText(
        "aa-2026-01",
        "委托代办告知与同意\n"
        "本人委托网格员（社区工作人员）代为办理所选事项，同意其收取、拍照并向办理窗口或部门递交本人提供的材料，"
        "并使用本人的姓名、身份证号码、联系电话和住址，仅用于办理该事项。"
        "材料原件核对后当场退还或办结后送还。本人可以随时撤回委托。\n"
        "我已阅读并同意上述内容。",
    ),
}

CONSENT = CONSENTS["aa-2026-01"]
