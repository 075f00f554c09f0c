"""No work stranded by a grid change (issue 22): a mutation refused `out_of_scope` because its
record moved out of the worker's scope is kept as a handover (server/commands/handovers.py) for
whoever holds the record now. The old phone's result stays `rejected` / `out_of_scope` (SYNC.md
rule 10) and carries `handover_id` and `handed_to`, with the message "已转交给 X 处理"; the new
holder applies it (here: the same mutation, through the catalogue, as them) or dismisses it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from server.access import Actor
from server.commands import handovers
from server.i18n import gettext as _
from server.models import Handover, HandoverStatus
from server.people.vault import Vault
from sync import catalogue


def kept(
    session: Session,
    *,
    actor: Actor,
    client_id: uuid.UUID,
    mutation: Any,
    result: dict[str, Any],
    record_type: str,
) -> dict[str, Any]:
    """The result of a mutation refused out of scope, handed over when its record can be found."""
    row = handovers.hand_over(
        session,
        actor=actor,
        record_type=record_type,
        args=mutation.args,
        client_id=client_id,
        mutation_id=mutation.id,
        name=mutation.name,
        at=mutation.at,
    )
    if row is None:
        return result
    message = _("已转交给 %(who)s 处理。", who=row.handed_to)
    return {**result, "message": message, "handover_id": str(row.id), "handed_to": row.handed_to}


def apply(
    session: Session, *, actor: Actor, vault: Vault, handover_id: uuid.UUID | str, ip: str = ""
) -> Handover:
    """The new holder takes the old worker's edit: the same mutation, still the old worker's (a
    visit stays theirs), run with the record's present scope lent by the holder's decision."""
    row = handovers.open_handover(session, actor, handover_id)
    author = handovers.author_of(session, row)
    ctx = catalogue.Context(actor=author, vault=vault, client_id=str(row.client_id), at=row.at, ip=ip)
    savepoint = session.begin_nested()
    try:
        catalogue.apply(session, ctx, row.name, dict(row.args))
        session.flush()
    except Exception:
        savepoint.rollback()
        raise
    savepoint.commit()
    handovers.resolve(session, actor=actor, row=row, status=HandoverStatus.applied)
    return row
