"""Per-client state (SYNC.md rules 1 and 2): which user a client belongs to, and its counter."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from server.access import Actor
from server.models import SyncClient, utcnow


class ClientNotYours(Exception):
    """Rule 1: this client_id was first seen with another user (403)."""


def check_owner(client: SyncClient | None, actor: Actor) -> None:
    if client is not None and client.user_id != actor.id:
        raise ClientNotYours(str(client.client_id))


def claim(session: Session, *, client_id: uuid.UUID, actor: Actor) -> SyncClient:
    """The client's row, created for this user on first contact; ClientNotYours for another's."""
    client = session.get(SyncClient, client_id)
    check_owner(client, actor)
    if client is None:
        client = SyncClient(client_id=client_id, user_id=actor.id, last_mutation_id=0)
        session.add(client)
        session.flush()
    client.last_seen_at = utcnow()
    return client
