"""`household.create`, `household.update`."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.commands.households import create_household, update_household
from sync.catalogue import Context, Outcome, mutation


@mutation("household.create")
def household_create(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    create_household(session, actor=ctx.actor, data=args)
    return Outcome()


@mutation("household.update")
def household_update(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    _household, result = update_household(
        session, actor=ctx.actor, data=args, client_id=ctx.client_id, at=ctx.at
    )
    return Outcome(conflicts=result.conflicts)
