"""Notices: the in-app inbox (消息), one row per person told of something.

Every notification a trigger makes is first a `Notice` for its addressee,
written in the transaction of its cause. It syncs like any record, but only to
the addressee's own devices (scope column `user_id`). `delivered_at` is set by
the first pull that carries it and `read_at` by `notice.read`; Web Push (the
`PushNotification` named by `push_id`) is only the fast path on top.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field

from server.models.base import SyncRecord, scope_indexes


class Notice(SyncRecord, table=True):
    __table_args__ = scope_indexes("notice", "user_id")
    sync_type = "notice"
    scope_columns = ("user_id",)
    # Receipts for the office: not the phone's business, and set without a new version.
    private_columns = frozenset({"delivered_at", "push_id"})

    user_id: uuid.UUID = Field(foreign_key="user.id")
    kind: str
    title: str
    body: str
    link: str
    subject_type: str | None = None
    subject_id: uuid.UUID | None = Field(default=None, index=True)
    urgency: str = "normal"
    delivered_at: datetime | None = None
    read_at: datetime | None = None
    # The Web Push outbox row written with it: its status tells whether push carried it too.
    push_id: uuid.UUID | None = None
