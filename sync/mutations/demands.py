"""`demand.create`, `demand.accept` (core) and every other step of a request's life.

The steps the status allows and the roles that may take them are decided by
the workflow (`server.workflows.demands.TRANSITIONS`, `STEP_ROLES`); each step's command
comes from the one step table, `server.commands.demands.STEP_COMMANDS`; the
mutation's `at` (when the person acted) dates the step's history entry.
Steps apply wholly or are refused: no field-level conflicts (SYNC.md rule 8).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sqlmodel import Session

from server.commands import demands as commands
from sync.catalogue import Context, Outcome, mutation


def _take(command: Callable[..., Any], session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
    command(session, actor=ctx.actor, data=args, at=ctx.at)
    return Outcome()


mutation("demand.create")(partial(_take, commands.create_demand))
for _step, _command in commands.STEP_COMMANDS.items():
    mutation(f"demand.{_step}")(partial(_take, _command))
