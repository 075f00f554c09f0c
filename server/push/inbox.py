"""The in-app inbox: every notification is first a `Notice` that syncs to its addressee.

Web Push does not reach most phones in mainland China, so the inbox is the
path that always works: a trigger writes the notice in the transaction of its
cause, beside the outbox row the push sender may or may not manage to deliver.
"""

from __future__ import annotations

from sqlmodel import Session

from server.models import Notice, PushNotification


def post(session: Session, push: PushNotification) -> Notice:
    """The notice for the news `push` carries, in the caller's transaction."""
    notice = Notice(
        user_id=push.user_id,
        kind=push.kind,
        title=push.title,
        body=push.body,
        link=push.url,
        subject_type=push.record_type,
        subject_id=push.record_id,
        urgency=push.urgency,
        push_id=push.id,
    )
    if push.created_at is not None:
        notice.created_at = push.created_at
    session.add(notice)
    return notice
