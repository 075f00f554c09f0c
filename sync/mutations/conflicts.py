"""`conflict.resolve`."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.commands.conflicts import resolve_conflict
from sync.catalogue import Context, Outcome, mutation


@mutation("conflict.resolve")
def conflict_resolve(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    resolve_conflict(session, actor=ctx.actor, data=args, ip=ctx.ip)
    return Outcome()
