"""`travel_card.create` (core), `.update`, `.submit`, `.review`, `.advance`, `.cancel`, `.plan_review`.

The steps the status allows and the roles that may take them are decided by
the workflow (`server.workflows.travel_cards.TRANSITIONS`, `STEP_ROLES`); each step's
command comes from the one step table, `server.commands.travel_cards.STEP_COMMANDS`; the
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
mutation("travel_card.create")(_applied(commands.create_application))
for _step, _command in commands.STEP_COMMANDS.items():
    mutation(f"travel_card.{_step}")(_applied(_command))
