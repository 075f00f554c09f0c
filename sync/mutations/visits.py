"""`visit.record` (core), batched: a run of visits is written with one insert."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.commands.visits import VisitRequest, record_visits
from sync.catalogue import Context, Outcome, batch_mutation


@batch_mutation("visit.record")
def visit_record(
    session: Session, ctx: Context, items: list[tuple[dict[str, Any], datetime | None]]
) -> list[Outcome | Exception]:
    results = record_visits(session, actor=ctx.actor, requests=[VisitRequest(args, at) for args, at in items])
    return [result if isinstance(result, Exception) else Outcome() for result in results]
