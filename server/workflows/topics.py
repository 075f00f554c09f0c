"""Deliberation (议事), once: the steps of a topic (征集 → 审议 → 协商 → 公布 → 落实 → 查事) and of
the meeting that decides it, who may take each, and the outcomes a meeting may give a topic.

`TRANSITIONS` / `STEP_ROLES` (topics) and `MEETING_TRANSITIONS` / `MEETING_ROLES` are read by
the commands, the sync catalogue (`topic.opinion`), the office pages, the docs and the tests,
like the request workflow (`server.workflows.demands`).
"""

from __future__ import annotations

from server.i18n import gettext as _
from server.models import Meeting, MeetingStatus, Role, Topic, TopicStatus
from server.workflows.base import Workflow

S = TopicStatus

# Opinions are gathered while the topic is open: collected, and while the table deliberates.
OPEN = frozenset({S.collecting, S.deliberating})

# step: (the statuses it may be taken from, the status it leads to; None keeps the status).
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "opinion": (OPEN, None),  # a household's stance, at the door or through the public link
    "take_up": (frozenset({S.collecting}), S.deliberating),  # 审议: taken up
    "decline": (frozenset({S.collecting}), S.declined),  # 审议: declined, with a reason
    # A meeting's outcomes (协商), recorded in its minutes:
    "resolve": (frozenset({S.deliberating}), S.closed),  # 当场解决, with the answer
    "refer": (frozenset({S.deliberating}), S.implementing),  # 转部门联合调处, a linked request
    "continue": (frozenset({S.deliberating}), None),  # 继续协商 at the next meeting
    "reject": (frozenset({S.deliberating}), S.declined),  # 不予采纳, with a reason
    "decide": (frozenset({S.deliberating}), S.implementing),  # 公布 with owners and a due date
    "progress": (frozenset({S.implementing}), None),  # 落实: a progress note, photos
    "finish": (frozenset({S.implementing}), S.checking),  # 落实 done: 查事 begins
    "check": (frozenset({S.checking}), None),  # 查事: done closes it, not done reopens 落实
}

OFFICE = frozenset({Role.community_staff, Role.admin})

WORKER = frozenset({Role.grid_worker})

STEP_ROLES: dict[str, frozenset[str]] = {
    "create": WORKER | OFFICE,  # a worker from a visit, staff from a request or the desk
    "opinion": WORKER | OFFICE,
    "take_up": OFFICE,
    "decline": OFFICE,
    "resolve": OFFICE,
    "refer": OFFICE,
    "continue": OFFICE,
    "reject": OFFICE,
    "decide": OFFICE,
    "progress": OFFICE,
    "finish": OFFICE,
    "check": WORKER | OFFICE,  # the residents' verdict, asked at the door or by staff
}

# The outcome a meeting's minutes give a topic → the topic's step.
OUTCOMES: dict[str, str] = {
    "resolved": "resolve",
    "department": "refer",
    "continue": "continue",
    "rejected": "reject",
}

# Steps whose note is required: the proposer must learn why, the resident what was answered.
NEEDS_NOTE = frozenset({"decline", "reject", "resolve", "decide", "refer", "progress"})

# What each step is called in the topic's history.
EVENT_KINDS: dict[str, str] = {
    "take_up": "taken_up",
    "decline": "declined",
    "resolve": "resolved",
    "refer": "referred",
    "continue": "continued",
    "reject": "rejected",
    "decide": "decided",
    "progress": "progress",
    "finish": "finished",
    "check": "checked",
}

# Public: what the community's page lists (decided topics and their progress).
PUBLISHED = frozenset({S.implementing, S.checking, S.closed})

M = MeetingStatus

MEETING_TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "agenda": (frozenset({M.planned}), None),  # put a topic on the agenda, or take it off
    "attend": (frozenset({M.planned}), None),  # participants and who came
    "minute": (frozenset({M.planned}), None),  # minutes and outcome of one topic
    # A joint meeting (联席会议) decides a request escalated to it (demand.escalate): the
    # request's `demand.decide`, taken from the minutes.
    "decide": (frozenset({M.planned}), None),
    "close": (frozenset({M.planned}), M.held),  # the minutes are final (会议纪要)
}

MEETING_ROLES: dict[str, frozenset[str]] = {
    "create": OFFICE,
    "agenda": OFFICE,
    "attend": OFFICE,
    "minute": OFFICE,
    "decide": OFFICE,
    "close": OFFICE,
}

# Who sits at the table: the standing participants and the invited.
STANDING = ("secretary", "party_member", "cadre", "elder")
INVITED = (
    "party_rep",
    "npc_deputy",
    "cppcc_member",
    "resident_rep",
    "owners_committee",
    "property",
    "partner",
    "department",
)
CATEGORIES = STANDING + INVITED

WORKFLOW = Workflow(
    Topic,
    TRANSITIONS,
    STEP_ROLES,
    "topic_status",
    "topic_step",
    lambda status, step: _("这个议题现在是“%(status)s”，不能%(step)s。", status=status, step=step),
)

MEETING_WORKFLOW = Workflow(
    Meeting,
    MEETING_TRANSITIONS,
    MEETING_ROLES,
    "meeting_status",
    "meeting_step",
    lambda status, step: _("这次会议现在是“%(status)s”，不能%(step)s。", status=status, step=step),
)


def steps_for(role: str, status: str) -> list[str]:
    """The steps a role may take on a topic in this status (the buttons its page shows)."""
    return [
        step
        for step in TRANSITIONS
        if step != "opinion" and role in STEP_ROLES[step] and status in TRANSITIONS[step][0]
    ]
