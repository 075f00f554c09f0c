"""`topic.create` (a topic raised at a household's door) and `topic.opinion` (a household's
stance on an open topic) — 议事 from the phone."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.commands.topics import create_topic, record_opinion
from sync.catalogue import Context, Outcome, mutation


@mutation("topic.create")
def topic_create(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    create_topic(session, actor=ctx.actor, data=args, at=ctx.at)
    return Outcome()


@mutation("topic.opinion")
def topic_opinion(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    record_opinion(session, actor=ctx.actor, data=args, at=ctx.at)
    return Outcome()
