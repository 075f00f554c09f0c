"""Ledger imports started on the office page, run as jobs: the dry run first (the preview),
then — once the user confirms — the import, batch by batch. Each batch of whole households
commits with the job's progress, so a server restarted mid-import resumes where the last
commit left off, and no household is ever half written.

Runners take a job by a lease (`claimed_until`); each batch checks and renews it in its own
transaction, so a runner whose lease another took over stops before writing twice."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col, or_, select

from server.access import Actor, NotFound
from server.auth import actor_for
from server.clock import aware
from server.db import Database
from server.errors import DomainError
from server.i18n import gettext as _
from server.ledger.imports import Counts, ImportRefused, Plan, apply_plan, audit_import, read_plan
from server.ledger.rows import Refusal
from server.ledger.sheet import sha256_of
from server.ledger.workbook import errors_bytes
from server.models import Community, ImportStatus, LedgerImport, Role, User, utcnow
from server.people.vault import Vault

LEASE = timedelta(minutes=2)  # longer than any batch takes; a dead runner's job waits this long
PREVIEW_ERRORS = 20
RUNNING = (ImportStatus.checking, ImportStatus.importing)
_file: Any = LedgerImport.content  # the instrumented attributes, typed for `defer`
_errors: Any = LedgerImport.errors_book
_WITHOUT_FILE = defer(_file)
_WITHOUT_ERRORS = defer(_errors)


class LeaseLost(Exception):
    """Another runner took the job over: this one stops without writing its batch."""


@dataclass(frozen=True)
class Upload:
    file_name: str
    content: bytes
    community_id: uuid.UUID | None


def start_import(session: Session, *, actor: Actor, upload: Upload) -> LedgerImport:
    """A new import, queued for its dry run."""
    if actor.role not in (Role.community_staff, Role.admin):
        raise NotFound("ledger_import")
    community = actor.community_id if not actor.is_admin else upload.community_id
    if community is not None and session.get(Community, community) is None:
        raise NotFound("community")
    if not upload.content:
        raise DomainError(_("文件是空的。"))
    job = LedgerImport(
        user_id=actor.id,
        community_id=community,
        file_name=Path(upload.file_name).name[:200] or "ledger.xlsx",
        sha256=sha256_of(upload.content),
        content=upload.content,
    )
    session.add(job)
    session.flush()
    return job


def visible_import(session: Session, actor: Actor, import_id: uuid.UUID) -> LedgerImport:
    """An import its community's staff (and admins) may see; NotFound otherwise."""
    # Without the file: the page polls this every second, and the file may be 40 MB.
    query = select(LedgerImport).where(LedgerImport.id == import_id).options(_WITHOUT_FILE)
    job = session.exec(query).first()
    if job is None or actor.role not in (Role.community_staff, Role.admin):
        raise NotFound("ledger_import")
    if not actor.is_admin and job.community_id != actor.community_id:
        raise NotFound("ledger_import")
    return job


def confirm_import(session: Session, *, actor: Actor, import_id: uuid.UUID) -> LedgerImport:
    job = visible_import(session, actor, import_id)
    if job.status != ImportStatus.checked:
        raise DomainError(_("这次导入已经确认过，或还没有检查完。"))
    job.status = ImportStatus.importing
    job.claimed_until = None
    job.updated_at = utcnow()
    return job


def recent_imports(session: Session, actor: Actor, limit: int = 20) -> list[LedgerImport]:
    query = (
        select(LedgerImport)
        .options(_WITHOUT_FILE, _WITHOUT_ERRORS)
        .order_by(col(LedgerImport.created_at).desc())
        .limit(limit)
    )
    if not actor.is_admin:
        query = query.where(LedgerImport.community_id == actor.community_id)
    return list(session.exec(query))


# -- running ---------------------------------------------------------------------------------


def run_pending(db: Database, vault: Vault, *, batch_size: int | None = None) -> int:
    """Run every job that waits (or whose runner's lease lapsed); answers how many ran."""
    ran = 0
    while (claim := db.run_claim(_claim)) is not None:
        job_id, lease = claim
        _run(db, vault, job_id, lease, batch_size)
        ran += 1
    return ran


def _claim(session: Session) -> tuple[uuid.UUID, datetime] | None:
    now = utcnow()
    query = (
        select(LedgerImport)
        .where(
            col(LedgerImport.status).in_(RUNNING),
            or_(col(LedgerImport.claimed_until).is_(None), col(LedgerImport.claimed_until) < now),
        )
        .order_by(col(LedgerImport.created_at))
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    job = session.exec(query).first()
    if job is None:
        return None
    job.claimed_until = now + LEASE
    return job.id, job.claimed_until


def _held(session: Session, job_id: uuid.UUID, lease: datetime) -> LedgerImport:
    """The job, locked, if this runner's lease still holds it; LeaseLost otherwise."""
    job = session.exec(select(LedgerImport).where(LedgerImport.id == job_id).with_for_update()).one()
    if job.claimed_until is None or aware(job.claimed_until) != aware(lease):
        raise LeaseLost(str(job_id))
    return job


@dataclass
class _Lease:
    until: datetime

    def renew(self, job: LedgerImport) -> None:
        self.until = utcnow() + LEASE
        job.claimed_until = self.until
        job.updated_at = utcnow()


def _run(db: Database, vault: Vault, job_id: uuid.UUID, until: datetime, batch_size: int | None) -> None:
    lease = _Lease(until)
    job, actor = db.run_read(lambda s: _job_and_actor(s, job_id))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"ledger{Path(job.file_name).suffix.lower()}"
        path.write_bytes(job.content)
        try:
            plan = read_plan(db, actor, path, _community_code(db, job.community_id))
        except ImportRefused as exc:
            reason = str(exc)
            db.run_write(lambda s: _fail(s, job_id, lease, reason))
            return
        try:
            if job.status == ImportStatus.checking:
                _check(db, vault, actor, plan, job_id, lease, batch_size)
            else:
                _import(db, vault, actor, plan, job, lease, batch_size)
        except LeaseLost:
            return


def _job_and_actor(session: Session, job_id: uuid.UUID) -> tuple[LedgerImport, Actor]:
    job = session.get(LedgerImport, job_id)
    assert job is not None
    user = session.get(User, job.user_id)
    assert user is not None
    return job, actor_for(session, user)


def _community_code(db: Database, community_id: uuid.UUID | None) -> str | None:
    if community_id is None:
        return None
    community = db.run_read(lambda s: s.get(Community, community_id))
    return community.code if community else None


def _fail(session: Session, job_id: uuid.UUID, lease: _Lease, message: str) -> None:
    job = _held(session, job_id, lease.until)
    job.status = ImportStatus.failed
    job.message = message
    job.claimed_until = None
    job.updated_at = utcnow()


def _progress(db: Database, job_id: uuid.UUID, lease: _Lease) -> Any:
    def record(done: int, total: int) -> None:
        def write(session: Session) -> None:
            job = _held(session, job_id, lease.until)
            job.rows_done, job.rows_total = done, total
            lease.renew(job)

        db.run_write(write)

    return record


def _check(
    db: Database, vault: Vault, actor: Actor, plan: Plan, job_id: uuid.UUID, lease: _Lease, size: int | None
) -> None:
    outcome = apply_plan(
        db, vault, actor, plan, dry_run=True, progress=_progress(db, job_id, lease), batch_size=size
    )

    def write(session: Session) -> None:
        job = _held(session, job_id, lease.until)
        job.status = ImportStatus.checked
        job.rows = plan.rows
        job.rows_total = plan.good_rows
        job.preview = {
            "counts": outcome.counts.as_dict(),
            "errors": [[r.number, r.reason] for r in outcome.refusals[:PREVIEW_ERRORS]],
        }
        job.claimed_until = None
        job.updated_at = utcnow()

    db.run_write(write)


def _import(
    db: Database, vault: Vault, actor: Actor, plan: Plan, job: LedgerImport, lease: _Lease, size: int | None
) -> None:
    def on_batch(session: Session, done: int, counts: Counts, refusals: list[Refusal]) -> None:
        held = _held(session, job.id, lease.until)
        so_far = Counts(**held.counts) if held.counts else Counts()
        so_far.add(counts)
        held.counts = so_far.as_dict()
        held.refusals = [*held.refusals, *([r.number, r.reason] for r in refusals)]
        held.households_done = done
        held.rows_done = sum(len(h) for h in plan.households[:done])
        held.rows_total = plan.good_rows
        lease.renew(held)

    apply_plan(db, vault, actor, plan, start=job.households_done, on_batch=on_batch, batch_size=size)

    def finish(session: Session) -> None:
        held = _held(session, job.id, lease.until)
        counts = Counts(**held.counts) if held.counts else Counts()
        counts.refused += len(plan.refusals)
        cells = {r.number: r.cells for rows in plan.households for r in rows}
        written = [Refusal(number, cells.get(number, []), reason) for number, reason in held.refusals]
        refusals = sorted([*plan.refusals, *written], key=lambda r: r.number)
        held.counts = counts.as_dict()
        held.errors_book = errors_bytes(plan.header.names, refusals) if refusals else None
        held.status = ImportStatus.done
        held.rows = plan.rows
        held.claimed_until = None
        held.updated_at = utcnow()
        audit_import(session, actor, plan, counts, held.file_name)

    db.run_write(finish)
