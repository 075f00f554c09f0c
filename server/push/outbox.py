"""The notification outbox: news waits here until a sender turns it into deliveries.

1. `enqueue` writes a `PushNotification` in the transaction of the change it
   tells of (triggers) or of a reminder job, so news is never told of a change
   that rolled back, and never lost for one that committed.
2. `compose` takes what waits, per person: outside quiet hours (the setting
   `push.quiet_hours`, Asia/Shanghai) everything, inside them only `high`
   urgency. One waiting item becomes its own message; several become one
   summary (Topic `summary`, so a push service keeps only the newest while
   the phone is away). Each message becomes one `PushDelivery` per
   subscription of that person, claimed by the composing sender.
3. `claim_due` takes deliveries whose retry time has come, and ones whose
   sender's lease ran out (it died mid-send).

Claiming is safe with several senders at once: on SQLite every claim runs in
the serialised write transaction (`Database.write()`); on PostgreSQL in a
transaction of its own that locks rows with `FOR UPDATE SKIP LOCKED`, so two
senders take disjoint rows without waiting for each other or for sync writes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete
from sqlmodel import Session, col, select

from server import i18n, preferences
from server.clock import LOCAL_TZ
from server.i18n import gettext as _
from server.models import PushAttempt, PushDelivery, PushNotification, PushSubscription, User, new_id
from server.models.push import DEFAULT_TTL

T = TypeVar("T")

MAX_TITLE = 80
MAX_BODY = 400
BATCH = 500
LEASE = timedelta(minutes=2)
RETENTION = timedelta(days=30)
SUMMARY_TAG = "doorstep-summary"
SUMMARY_LINES = 3
URGENCIES = ("very-low", "low", "normal", "high")


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def enqueue(
    session: Session,
    *,
    user_id: uuid.UUID,
    kind: str,
    title: str,
    body: str,
    url: str,
    tag: str,
    urgency: str = "normal",
    ttl: int = DEFAULT_TTL,
    record_type: str | None = None,
    record_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> PushNotification:
    """Step 1: news for one person, in the caller's transaction."""
    if urgency not in URGENCIES:
        raise ValueError(f"unknown urgency {urgency!r}")
    row = PushNotification(
        user_id=user_id,
        kind=kind,
        title=_clip(title, MAX_TITLE),
        body=_clip(body, MAX_BODY),
        url=url,
        tag=tag,
        urgency=urgency,
        ttl=ttl,
        record_type=record_type,
        record_id=record_id,
        dedupe_key=dedupe_key,
    )
    if now is not None:
        row.created_at = now
    session.add(row)
    return row


# -- quiet hours ------------------------------------------------------------------------------


def _minutes(clock: str) -> int:
    hours, _sep, minutes = clock.partition(":")
    return int(hours) * 60 + int(minutes)


def is_quiet(now: datetime, quiet_hours: str) -> bool:
    """`now` falls in `HH:MM-HH:MM` (local time; the range may cross midnight; "" is never)."""
    if not quiet_hours:
        return False
    start, _sep, end = quiet_hours.partition("-")
    local = now.astimezone(LOCAL_TZ)
    minute = local.hour * 60 + local.minute
    a, b = _minutes(start), _minutes(end)
    return a <= minute < b if a < b else minute >= a or minute < b


# -- messages ---------------------------------------------------------------------------------


def topic_for(tag: str) -> str:
    """A Topic header (≤ 32 URL-safe base64 characters) naming what the message is about."""
    return base64.urlsafe_b64encode(hashlib.sha256(tag.encode()).digest()[:18]).decode()


@dataclass(frozen=True)
class Message:
    payload: dict[str, Any]
    topic: str
    urgency: str
    expires_at: datetime

    def encoded(self) -> str:
        return json.dumps(self.payload, ensure_ascii=False, separators=(",", ":"))


def _common_url(urls: list[str]) -> str:
    if len(set(urls)) == 1:
        return urls[0]
    if all(u.startswith("/app/#/d/") for u in urls):
        return "/app/#/demands"
    if all(u.startswith("/app/") for u in urls):
        return "/app/#/"
    return "/"


def message_for(items: list[PushNotification], locale: str) -> Message:
    """Step 2's message: the one item itself, or a summary of several, in the person's language."""
    rank = max(URGENCIES.index(n.urgency) for n in items)
    expires = max(n.created_at + timedelta(seconds=n.ttl) for n in items)
    if len(items) == 1:
        n = items[0]
        payload = {"title": n.title, "body": n.body, "tag": n.tag, "url": n.url, "kind": n.kind, "count": 1}
        return Message({**payload, "renotify": True}, topic_for(n.tag), URGENCIES[rank], expires)
    with i18n.language(locale):
        counts = Counter(n.title for n in items)
        lines = [
            title if k == 1 else _("%(title)s（%(n)s条）", title=title, n=k) for title, k in counts.items()
        ]
        body = "；".join(lines[:SUMMARY_LINES]) + ("……" if len(lines) > SUMMARY_LINES else "")
        payload = {
            "title": _("家门口：%(n)s条新消息", n=len(items)),
            "body": _clip(body, MAX_BODY),
            "tag": SUMMARY_TAG,
            "url": _common_url([n.url for n in items]),
            "kind": "summary",
            "count": len(items),
            "renotify": True,
        }
    return Message(payload, "summary", URGENCIES[rank], expires)


# -- claiming ---------------------------------------------------------------------------------


def deliveries(
    message: Message,
    user_id: uuid.UUID,
    subscriptions: list[PushSubscription],
    *,
    now: datetime,
    claimer: str,
) -> list[PushDelivery]:
    """One delivery of `message` per subscription, claimed by `claimer` (one group)."""
    group_id = new_id()
    return [
        PushDelivery(
            group_id=group_id,
            user_id=user_id,
            subscription_id=sub.id,
            payload=message.encoded(),
            topic=message.topic,
            urgency=message.urgency,
            expires_at=message.expires_at,
            status="sending",
            next_attempt_at=now,
            lease_until=now + LEASE,
            claimed_by=claimer,
            created_at=now,
        )
        for sub in subscriptions
    ]


def compose(session: Session, *, now: datetime, claimer: str, limit: int = BATCH) -> list[PushDelivery]:
    """Step 2: turn waiting news into deliveries claimed by `claimer`."""
    query = select(PushNotification).where(PushNotification.status == "pending")
    if is_quiet(now, preferences.get(session, "push.quiet_hours")):
        query = query.where(PushNotification.urgency == "high")
    waiting = session.exec(
        query.order_by(col(PushNotification.created_at)).limit(limit).with_for_update(skip_locked=True)
    ).all()
    if not waiting:
        return []
    by_user: dict[uuid.UUID, list[PushNotification]] = defaultdict(list)
    for row in waiting:
        by_user[row.user_id].append(row)
    users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(list(by_user))))}
    subscriptions: dict[uuid.UUID, list[PushSubscription]] = defaultdict(list)
    for sub in session.exec(select(PushSubscription).where(col(PushSubscription.user_id).in_(list(by_user)))):
        subscriptions[sub.user_id].append(sub)
    claimed: list[PushDelivery] = []
    for user_id, rows in by_user.items():
        fresh = [n for n in rows if n.created_at + timedelta(seconds=n.ttl) > now]
        for n in rows:
            if n not in fresh:
                n.status = "expired"
        user = users.get(user_id)
        if not fresh:
            continue
        if user is None or not user.active or not subscriptions[user_id]:
            for n in fresh:
                n.status = "unsubscribed"
            continue
        message = message_for(fresh, user.locale)
        batch = deliveries(message, user_id, subscriptions[user_id], now=now, claimer=claimer)
        session.add_all(batch)
        claimed.extend(batch)
        group_id = batch[0].group_id
        for n in fresh:
            n.status, n.sent_at, n.group_id = "composed", now, group_id
    session.flush()
    return claimed


def _due(now: datetime) -> Any:
    return (col(PushDelivery.status) == "waiting") & (col(PushDelivery.next_attempt_at) <= now) | (
        col(PushDelivery.status) == "sending"
    ) & (col(PushDelivery.lease_until) < now)


def has_work(session: Session, *, now: datetime) -> bool:
    """Anything to compose or to send (a cheap read before the claiming write)."""
    pending = select(PushNotification.id).where(PushNotification.status == "pending").limit(1)
    due = select(PushDelivery.id).where(_due(now)).limit(1)
    return session.exec(pending).first() is not None or session.exec(due).first() is not None


def claim_due(session: Session, *, now: datetime, claimer: str, limit: int = BATCH) -> list[PushDelivery]:
    """Step 3: deliveries due for another try, or abandoned by a sender that died."""
    rows = session.exec(
        select(PushDelivery)
        .where(_due(now))
        .order_by(col(PushDelivery.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.status, row.claimed_by, row.lease_until = "sending", claimer, now + LEASE
    session.flush()
    return list(rows)


def purge(session: Session, *, now: datetime, keep: timedelta = RETENTION) -> int:
    """Forget notifications, finished deliveries and attempts older than `keep`."""
    cutoff = now - keep
    removed = 0
    for statement in (
        delete(PushAttempt).where(col(PushAttempt.at) < cutoff),
        delete(PushDelivery).where(
            col(PushDelivery.created_at) < cutoff, col(PushDelivery.status).not_in(("waiting", "sending"))
        ),
        delete(PushNotification).where(
            col(PushNotification.created_at) < cutoff, col(PushNotification.status) != "pending"
        ),
    ):
        removed += int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
    return removed
