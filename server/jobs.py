"""Periodic jobs run inside `doorstep serve` (and `doorstep worker`).

Every job is safe to run in several processes at once: each is either
idempotent or claims its rows, since a city runs several app servers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy import delete, text
from sqlmodel import Session, col
from starlette.concurrency import run_in_threadpool

from server import blobs, ratelimit
from server.auth import Sessions
from server.db import TemporaryFailure
from server.ledger import import_jobs
from server.models import MutationOutcome, utcnow
from server.push import outbox as push_outbox
from server.push.gateway import send_gateway
from server.push.sender import send_pending
from server.push.triggers import due_reminders, remind
from server.web.services import Services

log = logging.getLogger("doorstep.jobs")

# SYNC.md rule 3 asks for at least 30 days; only refusals and conflicts are stored,
# so they can be kept long enough for a phone that was lost in a drawer.
OUTCOME_RETENTION = timedelta(days=180)


def purge_outcomes(session: Session, *, keep: timedelta = OUTCOME_RETENTION) -> int:
    """Forget refusals older than `keep`; last_mutation_id still stops them from running twice."""
    result = session.execute(delete(MutationOutcome).where(col(MutationOutcome.created_at) < utcnow() - keep))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def housekeeping(session: Session) -> int:
    return (
        purge_outcomes(session)
        + Sessions.purge_expired(session)
        + ratelimit.purge(session)
        + blobs.sweep(session)
    )


def optimize(session: Session, *, sqlite: bool) -> None:
    """Fresh planner statistics, so a pull's scope-and-version indexes keep being chosen as
    tables grow (issue 23). SQLite's ANALYZE samples (`analysis_limit`) and so stays short
    under the writers' lock; PostgreSQL's samples anyway."""
    if sqlite:
        session.execute(text("PRAGMA analysis_limit=400"))
    session.execute(text("ANALYZE"))


@dataclass
class Job:
    name: str
    every: float
    run: Callable[[Services], object]


def _housekeeping(services: Services) -> object:
    return services.db.run_write(housekeeping)


def _optimize(services: Services) -> object:
    sqlite = services.db.is_sqlite
    return services.db.run_write(lambda s: optimize(s, sqlite=sqlite))


def _push_send(services: Services) -> object:
    return send_pending(services.db, services.settings)


# Short even when the pulls of a training day share the GIL with it: 500 a write still held
# the writers' lock past the 10 s a writer waits (43 sign-ins and receipts got 503).
REMINDERS_PER_WRITE = 50


def _push_remind(services: Services) -> object:
    # Found without the writers' lock: most sweeps find nothing new to say. What there is
    # goes in short writes: the first sweep of a county's day can owe tens of thousands, and
    # one transaction for them all held every push and sign-in back for tens of seconds.
    now = utcnow()
    due = sorted(services.db.run_read(lambda s: due_reminders(s, now=now)))
    written = 0
    for start in range(0, len(due), REMINDERS_PER_WRITE):
        written += services.db.run_write(
            partial(remind, now=now, only=due[start : start + REMINDERS_PER_WRITE])
        )
    return written + services.db.run_write(lambda s: push_outbox.purge(s, now=now))


def _gateway_send(services: Services) -> object:
    return send_gateway(services.db, services.settings)


def _ledger_imports(services: Services) -> object:
    return import_jobs.run_pending(services.db, services.vault)


JOBS: list[Job] = [
    Job("housekeeping", 3600.0, _housekeeping),
    Job("optimize", 6 * 3600.0, _optimize),
    Job("push_send", 5.0, _push_send),  # claims its rows: safe in several processes
    Job("gateway_send", 10.0, _gateway_send),  # queues in the writers' lock, claims its rows
    Job("push_remind", 600.0, _push_remind),  # writes each reminder once (dedupe key)
    Job("ledger_imports", 2.0, _ledger_imports),  # leased: resumed after a restart
]


class JobRunner:
    def __init__(self, services: Services, jobs: list[Job] | None = None) -> None:
        self.services = services
        self.jobs = list(JOBS if jobs is None else jobs)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(job)) for job in self.jobs]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _loop(self, job: Job) -> None:
        while True:
            try:
                await run_in_threadpool(job.run, self.services)
            except TemporaryFailure as exc:
                log.warning("job %s: database unavailable (%s)", job.name, exc)
            except Exception:
                log.exception("job %s failed", job.name)
            await asyncio.sleep(job.every)
