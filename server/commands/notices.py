"""The inbox's writes: a notice read (`notice.read`, the office's 标为已读) and delivered by a pull.

Reading is idempotent: the first read keeps its time, a second changes nothing
(and so takes no new version). Delivery is a receipt for the office only: it
is written without a new version, so the phone is not sent the notice again.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import update
from sqlmodel import Session, col

from server.access import Actor, NotFound, OutOfScope, get_visible
from server.clock import aware
from server.commands.validation import validate
from server.models import Notice, utcnow


class NoticeRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notice_id: uuid.UUID


def read_notice(
    session: Session, *, actor: Actor, data: dict[str, Any], at: datetime | None = None
) -> Notice:
    """The caller's own notice, marked read at `at` (when they opened it, offline perhaps),
    kept between its creation and now."""
    args = validate(NoticeRead, data)
    try:
        notice = get_visible(session, actor, Notice, args.notice_id)
    except OutOfScope:
        raise NotFound("notice") from None  # another person's notice: its existence never leaks
    if notice.read_at is None:
        now = utcnow()
        moment = min(aware(at), now) if at is not None else now
        notice.read_at = max(moment, aware(notice.created_at))
        if notice.delivered_at is None:
            notice.delivered_at = notice.read_at
        session.flush()
    return notice


def mark_delivered(session: Session, *, notice_ids: Collection[uuid.UUID], now: datetime) -> int:
    """Receipts for the notices a pull carried (the first pull only: later ones keep the time)."""
    if not notice_ids:
        return 0
    result = session.execute(
        update(Notice)
        .where(col(Notice.id).in_(list(notice_ids)), col(Notice.delivered_at).is_(None))
        .values(delivered_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
