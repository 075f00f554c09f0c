"""Handovers (转交): the one write path for keeping an edit whose record left its worker's scope
for the record's new holder, and for that holder dismissing it (applying it runs the edit
itself: sync/handover.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from server import audit
from server.access import Actor, NotFound, can_hold, can_hold_row
from server.auth import actor_for
from server.errors import InvalidInput, InvalidTransition
from server.i18n import gettext as _
from server.models import SYNC_TYPES, Grid, Handover, HandoverStatus, Role, Tombstone, User, UserGrid, utcnow
from server.push import triggers

# The record a mutation's refusal names, by the argument that carries its id.
ID_ARGS = {
    "household": "household_id",
    "resident": "resident_id",
    "demand": "demand_id",
    "travel_card": "application_id",
}
MAX_REASON = 500


def _holders(session: Session, grid_id: uuid.UUID | None) -> str:
    """Who holds the record now, in words for the old phone: the grid's workers, else the office."""
    names: list[str] = []
    if grid_id is not None:
        names = list(
            session.exec(
                select(User.display_name)
                .join(UserGrid, col(UserGrid.user_id) == col(User.id))
                .where(UserGrid.grid_id == grid_id, User.active == True, User.role == Role.grid_worker)  # noqa: E712
                .order_by(col(User.display_name))
            )
        )
    if names:
        grid = session.get(Grid, grid_id)
        return _("%(grid)s网格员%(names)s", grid=grid.name if grid else "", names="、".join(names))
    return _("社区工作人员")


def hand_over(
    session: Session,
    *,
    actor: Actor,
    record_type: str,
    args: dict[str, Any],
    client_id: uuid.UUID,
    mutation_id: int,
    name: str,
    at: datetime | None,
) -> Handover | None:
    """Keep a refused edit for the record's holder; None when the refusal names no record we can find."""
    model = SYNC_TYPES.get(record_type)
    key = ID_ARGS.get(record_type)
    if model is None or key is None:
        return None
    try:
        record_id = uuid.UUID(str(args.get(key)))
    except ValueError:
        return None
    record = session.get(model, record_id)
    community_id = getattr(record, "community_id", None)
    if record is None or community_id is None or not _left(session, actor, record_type, record_id):
        return None
    grid_id = getattr(record, "grid_id", None)
    row = Handover(
        community_id=community_id,
        grid_id=grid_id,
        record_type=record_type,
        record_id=record_id,
        client_id=client_id,
        mutation_id=mutation_id,
        name=name,
        args=args,
        at=at,
        from_user_id=actor.id,
        from_name=actor.display_name,
        handed_to=_holders(session, grid_id),
    )
    session.add(row)
    session.flush()
    triggers.notify(session, "handover_waiting", triggers.handover_facts(row))
    return row


def _left(session: Session, actor: Actor, record_type: str, record_id: uuid.UUID) -> bool:
    """Whether the record was the actor's and moved away (a tombstone of a scope they hold),
    rather than never theirs: only work stranded by a move is handed over."""
    tombstones = session.exec(
        select(Tombstone).where(Tombstone.record_type == record_type, Tombstone.record_id == record_id)
    )
    return any(
        can_hold_row(actor, Tombstone, {c: getattr(t, c) for c in Tombstone.scope_columns})
        for t in tombstones
    )


def open_handover(session: Session, actor: Actor, handover_id: uuid.UUID | str) -> Handover:
    """An open handover the actor now holds the record of (staff: their community), or NotFound."""
    try:
        key = handover_id if isinstance(handover_id, uuid.UUID) else uuid.UUID(str(handover_id))
    except ValueError:
        raise NotFound("handover") from None
    row = session.get(Handover, key)
    if row is None or not may_resolve(session, actor, row):
        raise NotFound("handover")
    if row.status != HandoverStatus.open:
        raise InvalidTransition(_("这条转交已经处理过了。"))
    return row


def author_of(session: Session, row: Handover) -> Actor:
    """The old worker, holding the record where it is now (for this one edit)."""
    user = session.get(User, row.from_user_id)
    if user is None:
        raise NotFound("user")
    author = actor_for(session, user)
    grids = author.grid_ids | ({row.grid_id} if row.grid_id else set())
    return replace(author, grid_ids=frozenset(grids), community_id=author.community_id or row.community_id)


def may_resolve(session: Session, actor: Actor, row: Handover) -> bool:
    if actor.is_admin or (actor.role == Role.community_staff and actor.community_id == row.community_id):
        return True
    record = session.get(SYNC_TYPES[row.record_type], row.record_id)
    return actor.role == Role.grid_worker and record is not None and can_hold(actor, record)


def resolve(
    session: Session, *, actor: Actor, row: Handover, status: HandoverStatus, reason: str = ""
) -> None:
    row.status = status
    row.reason = reason
    row.resolved_by = actor.id
    row.resolved_at = utcnow()
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action=f"handover.{status}",
        record_type="handover",
        record_id=row.id,
        reason=reason,
    )


def dismiss(session: Session, *, actor: Actor, handover_id: uuid.UUID | str, reason: str) -> Handover:
    """Set a handover aside, with the reason (required: the old worker's work is not dropped unsaid)."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput({"reason": _("请写明不采用的原因。")})
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": _("原因最多 %(n)s 个字。", n=MAX_REASON)})
    row = open_handover(session, actor, handover_id)
    resolve(session, actor=actor, row=row, status=HandoverStatus.dismissed, reason=reason)
    return row
