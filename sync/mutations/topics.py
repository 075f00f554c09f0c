"""`topic.opinion`: a household's stance on an open topic, asked at the door (议事)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.commands.topics import record_opinion
from sync.catalogue import Context, Outcome, mutation


@mutation("topic.opinion")
def topic_opinion(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    record_opinion(session, actor=ctx.actor, data=args, at=ctx.at)
    return Outcome()
