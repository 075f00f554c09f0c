from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from server.db import Database
from server.jobs import housekeeping, optimize, purge_outcomes
from server.models import MutationOutcome, utcnow
from tests.conftest import Factory


def test_refusals_are_kept_180_days_then_purged(db: Database) -> None:
    client = uuid.uuid4()
    now = utcnow()
    with db.write() as s:
        for n, age in enumerate((0, 29, 31, 179, 181, 400), start=1):
            s.add(
                MutationOutcome(
                    client_id=client,
                    mutation_id=n,
                    name="visit.record",
                    status="applied",
                    result={},
                    created_at=now - timedelta(days=age),
                )
            )
    with db.write() as s:
        assert purge_outcomes(s) == 2  # only those past the 180-day retention
    with db.read() as s:
        kept = sorted(o.mutation_id for o in s.exec(select(MutationOutcome)))
    assert kept == [1, 2, 3, 4]


def test_housekeeping_runs_on_an_empty_database(db: Database) -> None:
    with db.write() as s:
        assert housekeeping(s) == 0


def test_optimize_gives_the_planner_the_tables_real_sizes(db: Database, make: Factory) -> None:
    grid = make.grid()
    for _ in range(3):
        make.household(grid)
    with db.write() as s:
        optimize(s, sqlite=db.is_sqlite)
    with db.read() as s:
        if db.is_sqlite:
            stats = s.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'household'")).scalars().all()
            rows = {int(stat.split()[0]) for stat in stats}
        else:
            rows = {
                int(
                    s.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'household'")).scalar_one()
                )
            }
    assert rows == {3}
