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

from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from server.access import Actor, Forbidden, NotFound, OutOfScope
from server.errors import DomainError
from server.i18n import gettext as _
from server.models import MutationOutcome, utcnow
from server.people.vault import Vault
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


REFUSALS = (catalogue.UnknownMutation, NotFound, Forbidden, DomainError)


def _rejected(mutation_id: int, exc: Exception) -> dict[str, Any]:
    if isinstance(exc, catalogue.UnknownMutation):
        code, message = "unknown_mutation", _("不认识的操作：%(name)s", name=str(exc))
    elif isinstance(exc, OutOfScope):
        code, message = "out_of_scope", _("这条记录已不在您的负责范围内（可能已调整到其他网格）。")
    elif isinstance(exc, NotFound):
        code, message = "not_found", _("找不到这条记录，可能已被删除。")
    elif isinstance(exc, Forbidden):
        code, message = "forbidden", _("您的角色不能进行此操作。")
    elif isinstance(exc, DomainError):
        code, message = exc.code, exc.message
    else:
        raise exc
    return {"id": mutation_id, "status": "rejected", "code": code, "message": message}


def _apply_one(session: Session, ctx: catalogue.Context, mutation: PushedMutation) -> dict[str, Any]:
    """Rule 5: one mutation, atomic in a savepoint; its outcome as a result dict."""
    savepoint = session.begin_nested()
    try:
        outcome = catalogue.apply(session, ctx, mutation.name, mutation.args)
        session.flush()
    except REFUSALS as exc:
        savepoint.rollback()
        return _rejected(mutation.id, exc)
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return outcome.result(mutation.id)


def _apply_run(
    session: Session, ctx: catalogue.Context, entry: catalogue.Mutation, run: list[PushedMutation]
) -> list[dict[str, Any]]:
    """Rule 5 for a run of one batchable mutation: each item is validated and
    refused on its own before anything is written, then all are written at once."""
    assert entry.batch is not None
    savepoint = session.begin_nested()
    try:
        outcomes = entry.batch(session, ctx, [(m.args, m.at) for m in run])
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return [
        _rejected(m.id, outcome) if isinstance(outcome, Exception) else outcome.result(m.id)
        for m, outcome in zip(run, outcomes, strict=True)
    ]


def _run_of(mutations: list[PushedMutation], index: int) -> list[PushedMutation]:
    """Consecutive mutations with the same name and ids without gaps, from `index` on."""
    run = [mutations[index]]
    for mutation in mutations[index + 1 :]:
        if mutation.name != run[0].name or mutation.id != run[-1].id + 1:
            break
        run.append(mutation)
    return run


def push(session: Session, *, actor: Actor, vault: Vault, request: PushRequest, ip: str = "") -> PushResult:
    # Rule 1: the client belongs to the caller (ClientNotYours → 403).
    client = claim(session, client_id=request.client_id, actor=actor)
    session.info["client_id"] = str(request.client_id)
    last = client.last_mutation_id
    result = PushResult(last_mutation_id=last)

    # Rule 2: in id order.
    mutations = sorted(request.mutations, key=lambda m: m.id)
    replayed_ids = [m.id for m in mutations if m.id <= last]
    earlier: dict[int, dict[str, Any]] = {}
    if replayed_ids:
        rows = session.exec(
            select(MutationOutcome).where(
                MutationOutcome.client_id == request.client_id,
                col(MutationOutcome.mutation_id).in_(replayed_ids),
            )
        )
        earlier = {row.mutation_id: row.result for row in rows}

    outcomes: list[dict[str, Any]] = []
    index = 0
    while index < len(mutations):
        mutation = mutations[index]
        if mutation.id <= last:
            # Rule 3: already processed — the first outcome again, marked replayed.
            # Only refusals and conflicts are stored; every other processed id was applied.
            first = earlier.get(mutation.id)
            replay = dict(first) if first else {"id": mutation.id, "status": "applied"}
            replay["replayed"] = True
            result.results.append(replay)
            index += 1
            continue
        if mutation.id > last + 1:
            # Rule 4: a gap; stop here, the client resends from last + 1.
            result.results.extend({"id": m.id, "status": "out_of_order"} for m in mutations[index:])
            break
        ctx = catalogue.Context(
            actor=actor, vault=vault, client_id=str(request.client_id), at=mutation.at, ip=ip
        )
        entry = catalogue.lookup(mutation.name)
        run = _run_of(mutations, index) if entry is not None and entry.batch is not None else [mutation]
        try:
            if entry is not None and entry.batch is not None:
                done = _apply_run(session, ctx, entry, run)
            else:
                done = [_apply_one(session, ctx, mutation)]
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
        for m, outcome in zip(run, done, strict=True):
            if outcome["status"] != "applied":
                outcomes.append(
                    {
                        "client_id": request.client_id,
                        "mutation_id": m.id,
                        "name": m.name,
                        "status": outcome["status"],
                        "result": outcome,
                    }
                )
            result.results.append(outcome)
            last = m.id
        index += len(run)

    if outcomes:
        now = utcnow()
        session.execute(insert(MutationOutcome.__table__), [{**o, "created_at": now} for o in outcomes])  # type: ignore[attr-defined]
    # Rule 2: the counter advances in the same transaction as the effects.
    client.last_mutation_id = last
    result.last_mutation_id = last
    session.flush()
    return result
