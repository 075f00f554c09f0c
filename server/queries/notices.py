"""Reads of the inbox: a person's own notices, the receipts of a record, and what is undelivered.

Receipts answer the office's question "was the worker told, and did it reach
them?": who was told, by which channel (the inbox always; Web Push as far as
its outbox knows), when the first pull carried it and when it was read.
Undelivered for longer than the setting `notice.undelivered_hours` counts in
working time (`server.workflows.workdays`): a weekend does not raise the flag.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from server import preferences
from server.access import Actor
from server.i18n import gettext as _
from server.models import Notice, PushNotification, User, utcnow

INBOX_SIZE = 50
FLAGGED = 20  # undelivered notices listed on the dashboard (all are counted)


@dataclass(frozen=True)
class Inbox:
    notices: list[Notice]
    unread: int


def inbox(session: Session, actor: Actor, *, limit: int = INBOX_SIZE) -> Inbox:
    """The caller's own notices, unread first, newest first."""
    rows = session.exec(
        select(Notice)
        .where(Notice.user_id == actor.id, col(Notice.deleted_at).is_(None))
        .order_by(col(Notice.read_at).is_not(None), col(Notice.created_at).desc())
        .limit(limit)
    ).all()
    return Inbox(list(rows), unread_count(session, actor))


def unread_count(session: Session, actor: Actor) -> int:
    query = select(func.count()).where(Notice.user_id == actor.id, col(Notice.read_at).is_(None))
    return int(session.exec(query).one())


def push_channel(status: str | None) -> str:
    """What Web Push did with the notice's twin in its outbox, in words."""
    return {
        "pending": _("推送：等待发送"),
        "composed": _("推送：已交给推送服务"),
        "unsubscribed": _("推送：未订阅"),
        "expired": _("推送：已过期"),
    }.get(status or "", _("推送：无记录"))


@dataclass(frozen=True)
class Receipt:
    notice: Notice
    person: str
    channels: list[str]


def receipts(session: Session, *, subject_type: str, subject_id: uuid.UUID) -> list[Receipt]:
    """Who was told of this record, by which channel, and whether it reached them and was read."""
    rows = session.exec(
        select(Notice, User, PushNotification)
        .join(User, col(User.id) == Notice.user_id)
        .join(PushNotification, col(PushNotification.id) == Notice.push_id, isouter=True)
        .where(Notice.subject_type == subject_type, Notice.subject_id == subject_id)
        .order_by(col(Notice.created_at), col(User.display_name))
    ).all()
    return [
        Receipt(notice, user.display_name, [_("站内消息"), push_channel(push.status if push else None)])
        for notice, user, push in rows
    ]


@dataclass(frozen=True)
class Undelivered:
    notice: Notice
    person: str


def undelivered(
    session: Session, *, community_id: uuid.UUID, now: datetime | None = None
) -> tuple[int, list[Undelivered]]:
    """Notices for the community's people that no device has pulled for longer than the
    setting, in working time: how many, and the oldest of them."""
    now = now or utcnow()
    hours = int(preferences.get(session, "notice.undelivered_hours"))
    calendar = preferences.work_calendar(session)
    # Working time never runs faster than the wall clock: older than `hours` is a first cut.
    rows = session.exec(
        select(Notice, User)
        .join(User, col(User.id) == Notice.user_id)
        .where(
            User.community_id == community_id,
            col(User.active).is_(True),
            col(Notice.delivered_at).is_(None),
            col(Notice.read_at).is_(None),
            col(Notice.created_at) < now - timedelta(hours=hours),
        )
        .order_by(col(Notice.created_at))
    ).all()
    late = [
        Undelivered(notice, user.display_name)
        for notice, user in rows
        if calendar.between(notice.created_at, now) * 24 > hours
    ]
    return len(late), late[:FLAGGED]
