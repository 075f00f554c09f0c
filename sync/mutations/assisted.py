"""`assisted.create` (收件) and one entry per step of `server.workflows.assisted.TRANSITIONS`.

Each calls the command the office pages call (`server.commands.assisted`); the mutation's
`at` (when the worker acted) dates the step in the application's history.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.commands import assisted as commands
from sync.catalogue import Context, Handler, Outcome, mutation


@mutation("assisted.create")
def assisted_create(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    commands.create_application(session, actor=ctx.actor, data=args, at=ctx.at)
    return Outcome()


def _step(step: str) -> Handler:
    def handler(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
        commands.take_step(session, actor=ctx.actor, step=step, data=args, at=ctx.at)
        return Outcome()

    return handler


for _name in commands.STEP_ARGS:
    mutation(f"assisted.{_name}")(_step(_name))
