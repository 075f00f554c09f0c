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
from server.db import is_transient
from server.errors import DomainError, IdReused
from server.i18n import gettext as _
from server.models import MutationOutcome, SyncClient, utcnow
from server.people.vault import Vault
from sync import catalogue, device, handover
from sync.clients import claim

log = logging.getLogger("doorstep.sync")


@dataclass(frozen=True)
class PushedMutation:
    id: int
    name: str
    args: dict[str, Any]
    at: datetime | None
    # Set by the envelope for a mutation that is refused before it runs (rule 5).
    refusal: Exception | None = None


@dataclass(frozen=True)
class PushRequest:
    client_id: uuid.UUID
    mutations: list[PushedMutation]
    device: dict[str, Any] | None = None  # sync/device.py


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
# A mutation that failed this many times for a reason that is not the client's (a bug, a
# database error) is rejected on its last try instead of answered 503 again (rule 6 is for
# temporary failures; the count lives on the client's row, so it survives the rollback).
MAX_TRIES = 2


class _Failed(Exception):
    """A mutation raised something that is no refusal; its savepoint is rolled back, so the
    transaction is still good and what came before it can be committed."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(repr(cause))
        self.cause = cause


def _rejected(mutation_id: int, exc: Exception) -> dict[str, Any]:
    """The result of a refusal; an out-of-scope one remembers what left the scope, for its handover."""
    result = _rejection(mutation_id, exc)
    if isinstance(exc, OutOfScope):
        result[_LEFT] = str(exc)
    return result


_LEFT = "_left_scope"  # never sent: taken off by `push` once the handover is made


def _handed_over(
    session: Session, actor: Actor, client_id: uuid.UUID, mutation: PushedMutation, outcome: dict[str, Any]
) -> dict[str, Any]:
    """An out-of-scope refusal of a record that moved away becomes a handover (sync/handover.py)."""
    left = outcome.pop(_LEFT, None)
    if left is None:
        return outcome
    return handover.kept(
        session, actor=actor, client_id=client_id, mutation=mutation, result=outcome, record_type=left
    )


def _rejection(mutation_id: int, exc: Exception) -> dict[str, Any]:
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


def _unstorable(mutation_id: int) -> dict[str, Any]:
    # SYNC.md lists no code for this; invalid_args is one every core mutation may answer.
    message = _("服务器无法保存这条操作的内容，请检查后重新录入。")
    return {"id": mutation_id, "status": "rejected", "code": "invalid_args", "message": message}


def _apply_run(
    session: Session, ctx: catalogue.Context, entry: catalogue.Mutation | None, run: list[PushedMutation]
) -> list[dict[str, Any]]:
    """Rule 5: one mutation, or a run of one batchable mutation, atomic in a savepoint. A
    batch validates and refuses each item on its own before anything is written, then writes
    them all at once."""
    savepoint = session.begin_nested()
    try:
        if entry is not None and entry.batch is not None:
            outcomes: list[catalogue.Outcome | Exception] = list(
                entry.batch(session, ctx, [(m.args, m.at) for m in run])
            )
        else:
            (mutation,) = run
            outcomes = [catalogue.apply(session, ctx, mutation.name, mutation.args)]
        session.flush()
    except REFUSALS as exc:
        savepoint.rollback()
        (mutation,) = run  # batches refuse items without raising
        return [_rejected(mutation.id, exc)]
    except Exception as exc:
        savepoint.rollback()  # if this fails too, the connection is gone: the whole push is retried
        if _connection_lost(session, exc):
            raise  # rule 6: nothing more can run in this session; the push is retried whole, or 503
        raise _Failed(exc) from exc
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
        if mutation.name != run[0].name or mutation.id != run[-1].id + 1 or mutation.refusal:
            break
        run.append(mutation)
    return run


def _connection_lost(session: Session, exc: Exception) -> bool:
    """The database connection died under a mutation (an outage, a restart): the session's
    transaction is gone with it, so the mutation is no more at fault than any other."""
    return (isinstance(exc, DBAPIError) and exc.connection_invalidated) or not session.is_active


def _same(a: PushedMutation, b: PushedMutation) -> bool:
    return (a.name, a.args, a.at) == (b.name, b.args, b.at)


def _failed(client: SyncClient, mutation: PushedMutation, failed: _Failed, client_id: uuid.UUID) -> bool:
    """Whether a failed mutation is rejected now (True) or the push halts for a retry."""
    cause = failed.cause
    where = f"mutation {mutation.name} #{mutation.id} of client {client_id}"
    if isinstance(cause, DBAPIError) and not is_transient(cause):
        log.warning("%s refused by the database: %s", where, cause)
        return True  # the database refuses it the same way every time
    tries = client.failures + 1 if client.failing_mutation_id == mutation.id else 1
    log.error("%s failed (try %s of %s)", where, tries, MAX_TRIES, exc_info=cause)
    if tries >= MAX_TRIES:
        return True
    client.failing_mutation_id, client.failures = mutation.id, tries
    return False


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
    this_push: dict[int, tuple[PushedMutation, dict[str, Any]]] = {}
    one_by_one_until = 0  # a batch that failed is tried again one mutation at a time
    index = 0
    while index < len(mutations):
        mutation = mutations[index]
        if mutation.id in this_push:
            # Rules 2 and 3 within one push: an identical copy repeats the first outcome,
            # another mutation under the same id is refused (and changes nothing).
            first, outcome = this_push[mutation.id]
            if _same(first, mutation):
                result.results.append({**outcome, "replayed": True})
            else:
                reused = IdReused(_("这个操作编号已用于另一条操作。"))
                result.results.append(_rejected(mutation.id, reused))
            index += 1
            continue
        if mutation.id <= last:
            # Rule 3: already processed — the first outcome again, marked replayed.
            # Only refusals and conflicts are stored; every other processed id was applied.
            stored = earlier.get(mutation.id)
            replay = dict(stored) if stored else {"id": mutation.id, "status": "applied"}
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
        batched = entry is not None and entry.batch is not None and mutation.id > one_by_one_until
        batched = batched and mutation.refusal is None
        run = _run_of(mutations, index) if batched else [mutation]
        if mutation.refusal is not None:
            done = [_rejected(mutation.id, mutation.refusal)]
        else:
            try:
                done = _apply_run(session, ctx, entry, run)
            except _Failed as failed:
                if len(run) > 1:
                    one_by_one_until = run[-1].id
                    continue
                if not _failed(client, mutation, failed, request.client_id):
                    # Not the client's fault and maybe temporary: keep what came before,
                    # answer 503, and let the client retry from here (rule 6).
                    result.halted = True
                    break
                done = [_unstorable(mutation.id)]
        for m, outcome in zip(run, done, strict=True):
            outcome = _handed_over(session, actor, request.client_id, m, outcome)
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
            this_push[m.id] = (m, outcome)
            last = m.id
        index += len(run)

    if outcomes:
        now = utcnow()
        session.execute(insert(MutationOutcome.__table__), [{**o, "created_at": now} for o in outcomes])  # type: ignore[attr-defined]
    if client.failing_mutation_id is not None and client.failing_mutation_id <= last:
        client.failing_mutation_id, client.failures = None, 0  # it passed, or was rejected
    # Rule 2: the counter advances in the same transaction as the effects.
    client.last_mutation_id = last
    result.last_mutation_id = last
    # The phone's report was made before this push: what it answered no longer waits.
    answered = len({m.id for m in mutations if m.id <= last})
    device.keep(session, client, device.after_push(request.device, answered))
    session.flush()
    return result
