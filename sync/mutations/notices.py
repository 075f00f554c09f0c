"""`notice.read`: the person opened a notice of their inbox (idempotent)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.commands.notices import read_notice
from sync.catalogue import Context, Outcome, mutation


@mutation("notice.read")
def notice_read(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    read_notice(session, actor=ctx.actor, data=args, at=ctx.at)
    return Outcome()
