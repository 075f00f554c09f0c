"""`travel_card.create` (core), `.update`, `.submit`, `.review`, `.advance`, `.cancel`, `.plan_review`.

The steps the status allows and the roles that may take them are decided by
the commands (`server.commands.travel_cards.TRANSITIONS`, `STEP_ROLES`); the
mutation's `at` (when the worker acted) dates the step's history entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from server.commands import travel_cards as commands
from sync.catalogue import Context, Handler, Outcome, mutation


@mutation("travel_card.update")
def travel_card_update(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    _card, result = commands.update_application(
        session, actor=ctx.actor, data=args, client_id=ctx.client_id, at=ctx.at
    )
    return Outcome(conflicts=result.conflicts)


def _applied(command: Callable[..., Any]) -> Handler:
    def handler(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
        command(session, actor=ctx.actor, data=args, at=ctx.at)
        return Outcome()

    return handler


# The other steps apply wholly or are refused: no field-level conflicts (SYNC.md rule 8).
for _name, _command in {
    "travel_card.create": commands.create_application,
    "travel_card.submit": commands.submit_application,
    "travel_card.review": commands.review_application,
    "travel_card.advance": commands.advance_application,
    "travel_card.cancel": commands.cancel_application,
    "travel_card.plan_review": commands.plan_review_visit,
}.items():
    mutation(_name)(_applied(_command))
