"""`visit.record` (core)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.commands.visits import record_visit
from sync.catalogue import Context, Outcome, mutation


@mutation("visit.record")
def visit_record(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    record_visit(session, actor=ctx.actor, data=args, at=ctx.at)
    return Outcome()
