"""A server killed with SIGKILL in the middle of a ledger import (issue 18): what it left is
whole households only, exactly those its committed progress counts, and the next server
resumes the job after the last committed batch and finishes it once.

The real server runs its jobs in a subprocess on the test's database, as `doorstep serve`
does; the test starts the import as the office page would and watches the job's row."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from server.db import Database
from server.ledger import import_jobs
from server.models import AuditLog, Household, LedgerImport, Resident
from tests.conftest import SECRET, Factory
from tests.ledger_files import xlsx
from tests.live import serving

HOUSEHOLDS = 1500  # 8 batches of 200: the server is killed after the first commits
PER_HOUSEHOLD = 2


def ledger(path: Path) -> Path:
    rows = [
        ["第一网格", f"幸福{h // 500 + 1}区", f"{h // 10 % 50 + 1}栋", "1单元", f"{h % 10 + 101}", "户籍",
         f"居民{h}-{m}", "户主" if m == 0 else "子女", "", "", "", ""]
        for h in range(HOUSEHOLDS)
        for m in range(PER_HOUSEHOLD)
    ]  # fmt: skip
    return xlsx(path, rows)


def job_row(db: Database, job_id: uuid.UUID) -> LedgerImport:
    with db.read() as session:
        job = session.get(LedgerImport, job_id)
        assert job is not None
        session.expunge(job)
        return job


def wait_for(db: Database, job_id: uuid.UUID, ready: object, timeout: float = 120.0) -> LedgerImport:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_row(db, job_id)
        if ready(job):  # type: ignore[operator]
            return job
        time.sleep(0.01)
    raise AssertionError(f"the job never got there: {job_row(db, job_id)}")


def household_sizes(db: Database) -> list[int]:
    with db.read() as session:
        query = select(func.count()).select_from(Resident).group_by(Resident.household_id)
        return sorted(session.exec(query).all())


def test_a_server_killed_mid_import_leaves_whole_households_and_the_next_one_resumes(
    make: Factory, db: Database, database_url: str, tmp_path: Path
) -> None:
    community = make.community(name="乐安社区", code="lean")
    make.grid(community, name="第一网格", code="g1")
    staff = make.actor(make.user("community_staff", community=community))
    content = ledger(tmp_path / "一户一档.xlsx").read_bytes()
    upload = import_jobs.Upload("一户一档.xlsx", content, None)
    with db.write() as session:
        job_id = import_jobs.start_import(session, actor=staff, upload=upload).id

    with serving(database_url, tmp_path, SECRET, DOORSTEP_RUN_JOBS="1") as server:
        wait_for(db, job_id, lambda j: j.status == "checked")  # the server ran the dry run
        assert household_sizes(db) == []
        with db.write() as session:
            import_jobs.confirm_import(session, actor=staff, import_id=job_id)
        wait_for(db, job_id, lambda j: j.households_done >= 200)
        server.crash()  # SIGKILL while the next batches were being written

        killed = job_row(db, job_id)
        assert killed.status == "importing" and 0 < killed.households_done < HOUSEHOLDS
        # What the dead server left: exactly the households its committed progress counts,
        # each one whole, and its refusals and counts with them.
        assert household_sizes(db) == [PER_HOUSEHOLD] * killed.households_done
        assert killed.counts["added"] == PER_HOUSEHOLD * killed.households_done
        assert killed.rows_done == PER_HOUSEHOLD * killed.households_done

        with db.write() as session:  # the dead runner's lease lapses (after LEASE, 2 minutes) …
            held = session.get(LedgerImport, job_id)
            assert held is not None and held.claimed_until is not None
            held.claimed_until = None
        server.start()  # … and the restarted server takes the job over
        done = wait_for(db, job_id, lambda j: j.status == "done")

    assert household_sizes(db) == [PER_HOUSEHOLD] * HOUSEHOLDS
    assert done.counts["added"] == PER_HOUSEHOLD * HOUSEHOLDS
    assert done.counts["households_added"] == HOUSEHOLDS and done.counts["refused"] == 0
    with db.read() as session:
        assert session.exec(select(func.count()).select_from(Household)).one() == HOUSEHOLDS
        audits = list(session.exec(select(AuditLog).where(AuditLog.action == "import_households")))
    assert len(audits) == 1 and audits[0].detail["counts"]["added"] == PER_HOUSEHOLD * HOUSEHOLDS
