"""`demand.create`, `demand.accept` (core)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.commands.demands import accept_demand, create_demand
from sync.catalogue import Context, Outcome, mutation


@mutation("demand.create")
def demand_create(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    create_demand(session, actor=ctx.actor, data=args)
    return Outcome()


@mutation("demand.accept")
def demand_accept(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    accept_demand(session, actor=ctx.actor, data=args)
    return Outcome()
