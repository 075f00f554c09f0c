"""`demand.create`, `demand.accept` (core) and every other step of a request's life.

The steps the status allows and the roles that may take them are decided by
the commands (`server.commands.demands.TRANSITIONS`, `STEP_ROLES`); the
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


for _name, _command in {
    "demand.create": commands.create_demand,
    "demand.accept": commands.accept_demand,
    "demand.dispatch": commands.dispatch_demand,
    "demand.progress": commands.progress_demand,
    "demand.reply": commands.reply_demand,
    "demand.resolve": commands.resolve_demand,
    "demand.answer": commands.answer_demand,
    "demand.transfer": commands.transfer_demand,
    "demand.return": commands.return_demand,
    "demand.escalate": commands.escalate_demand,
    "demand.decide": commands.decide_demand,
    "demand.rate": commands.rate_demand,
    "demand.close": commands.close_demand,
}.items():
    mutation(_name)(partial(_take, _command))
