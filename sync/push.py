"""`/sync/push`: apply a client's mutations exactly once, in order (SYNC.md rules 1–8).

The whole request runs in one write transaction; each mutation in its own
savepoint, so a rejected mutation leaves no trace but its outcome. The client's
`last_mutation_id` advances in the same transaction as the effects (rule 2),
so a response lost on the way back costs nothing: the resend is a replay.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from server.access import Actor, Forbidden, NotFound, OutOfScope
from server.commands.errors import DomainError
from server.i18n import gettext as _
from server.models import MutationOutcome
from server.pii import Vault
from sync import catalogue
from sync.clients import claim

log = logging.getLogger("doorstep.sync")


@dataclass(frozen=True)
class PushedMutation:
    id: int
    name: str
    args: dict[str, Any]
    at: datetime | None


@dataclass(frozen=True)
class PushRequest:
    client_id: uuid.UUID
    mutations: list[PushedMutation]


@dataclass
class PushResult:
    last_mutation_id: int
    results: list[dict[str, Any]] = field(default_factory=list)
    # Set when a mutation failed for a reason that is not the client's fault:
    # what came before it is committed, the rest must be sent again (rule 6).
    halted: bool = False

    def body(self) -> dict[str, Any]:
        return {"protocol": 1, "last_mutation_id": self.last_mutation_id, "results": self.results}


def _rejection(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, catalogue.UnknownMutation):
        return "unknown_mutation", _("不认识的操作：%(name)s", name=str(exc))
    if isinstance(exc, OutOfScope):
        return "out_of_scope", _("这条记录已不在您的负责范围内（可能已调整到其他网格）。")
    if isinstance(exc, NotFound):
        return "not_found", _("找不到这条记录，可能已被删除。")
    if isinstance(exc, Forbidden):
        return "forbidden", _("您的角色不能进行此操作。")
    if isinstance(exc, DomainError):
        return exc.code, exc.message
    raise exc


def _apply_one(session: Session, ctx: catalogue.Context, mutation: PushedMutation) -> dict[str, Any]:
    """Rule 5: one mutation, atomic in a savepoint; its outcome as a result dict."""
    savepoint = session.begin_nested()
    try:
        outcome = catalogue.apply(session, ctx, mutation.name, mutation.args)
        session.flush()
    except (catalogue.UnknownMutation, NotFound, Forbidden, DomainError) as exc:
        savepoint.rollback()
        code, message = _rejection(exc)
        return {"id": mutation.id, "status": "rejected", "code": code, "message": message}
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return outcome.result(mutation.id)


def push(session: Session, *, actor: Actor, vault: Vault, request: PushRequest) -> PushResult:
    # Rule 1: the client belongs to the caller (ClientNotYours → 403).
    client = claim(session, client_id=request.client_id, actor=actor)
    session.info["client_id"] = str(request.client_id)
    last = client.last_mutation_id
    result = PushResult(last_mutation_id=last)

    # Rule 2: in id order.
    mutations = sorted(request.mutations, key=lambda m: m.id)
    replayed_ids = [m.id for m in mutations if m.id <= last]
    earlier: dict[int, MutationOutcome] = {}
    if replayed_ids:
        rows = session.exec(
            select(MutationOutcome).where(
                MutationOutcome.client_id == request.client_id,
                col(MutationOutcome.mutation_id).in_(replayed_ids),
            )
        )
        earlier = {row.mutation_id: row for row in rows}

    for index, mutation in enumerate(mutations):
        if mutation.id <= last:
            # Rule 3: already processed — the first outcome again, marked replayed.
            first = earlier.get(mutation.id)
            replay = (
                dict(first.result)
                if first
                else {"id": mutation.id, "status": "applied", "outcome_expired": True}
            )
            replay["replayed"] = True
            result.results.append(replay)
            continue
        if mutation.id > last + 1:
            # Rule 4: a gap; stop here, the client resends from last + 1.
            result.results.extend({"id": m.id, "status": "out_of_order"} for m in mutations[index:])
            break
        ctx = catalogue.Context(actor=actor, vault=vault, client_id=str(request.client_id), at=mutation.at)
        try:
            outcome = _apply_one(session, ctx, mutation)
        except DBAPIError:
            raise  # the database failed: the whole transaction is retried or answered 503
        except Exception:
            # A bug, not the client's fault: never turn it into a permanent
            # rejection (that would drop the worker's data). Keep what came
            # before, answer 503, and let the client retry from here (rule 6).
            log.exception(
                "mutation %s #%s of client %s failed", mutation.name, mutation.id, request.client_id
            )
            result.halted = True
            break
        session.add(
            MutationOutcome(
                client_id=request.client_id,
                mutation_id=mutation.id,
                name=mutation.name,
                status=outcome["status"],
                result=outcome,
            )
        )
        result.results.append(outcome)
        last = mutation.id

    # Rule 2: the counter advances in the same transaction as the effects.
    client.last_mutation_id = last
    result.last_mutation_id = last
    session.flush()
    return result
