"""Open handovers (转交) for whoever holds their records now (server/commands/handovers.py)."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from server.access import Actor
from server.models import Handover, HandoverStatus, Household, Role


def open_handovers(session: Session, actor: Actor) -> list[tuple[Handover, str]]:
    """Each open handover the actor may apply or dismiss, oldest first, with its household's address."""
    query = select(Handover).where(Handover.status == HandoverStatus.open)
    if actor.is_admin:
        pass
    elif actor.role == Role.community_staff and actor.community_id:
        query = query.where(Handover.community_id == actor.community_id)
    elif actor.role == Role.grid_worker and actor.grid_ids:
        query = query.where(col(Handover.grid_id).in_(actor.grid_ids))
    else:
        return []
    rows = list(session.exec(query.order_by(col(Handover.created_at))))
    homes = {str(r.args["household_id"]) for r in rows if isinstance(r.args.get("household_id"), str)}
    addresses: dict[str, str] = {}
    if homes:
        found = session.exec(
            select(Household.id, Household.address).where(col(Household.id).in_(_ids(homes)))
        )
        addresses = {str(i): a for i, a in found}
    return [(r, addresses.get(str(r.args.get("household_id")), "")) for r in rows]


def _ids(values: set[str]) -> list[uuid.UUID]:
    out: list[uuid.UUID] = []
    for value in values:
        try:
            out.append(uuid.UUID(value))
        except ValueError:
            continue
    return out
