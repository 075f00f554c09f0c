"""`resident.create`, `resident.update`."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.commands.residents import create_resident, update_resident
from sync.catalogue import Context, Outcome, mutation


@mutation("resident.create")
def resident_create(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    create_resident(session, actor=ctx.actor, vault=ctx.vault, data=args)
    return Outcome()


@mutation("resident.update")
def resident_update(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    _resident, result = update_resident(
        session, actor=ctx.actor, vault=ctx.vault, data=args, client_id=ctx.client_id, at=ctx.at
    )
    return Outcome(conflicts=result.conflicts)
