"""`travel_card.create` (core)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.commands.travel_cards import create_application
from sync.catalogue import Context, Outcome, mutation


@mutation("travel_card.create")
def travel_card_create(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    create_application(session, actor=ctx.actor, data=args)
    return Outcome()
