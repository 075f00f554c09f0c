"""The load suite end to end, small: a few phones for a few seconds with every fault on.

bench/load.py runs as a subprocess (it starts its own server on SQLite and
its own faults); the test reads the figures it writes and asserts what the
suite promises: nothing lost, nothing duplicated, every phone converged —
and that the faults really happened, so the run proved something.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_short_faulty_morning_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    figures_path = tmp_path / "figures.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            "--phones=6",
            "--duration=12",
            "--arrival=1",
            "--think=1",
            "--households=12",
            "--residents=30",
            "--visits=10",
            "--demands=4",
            "--photo-rate=0.3",
            "--bad-rate=0.05",
            "--drop=0.3",
            "--kill-every=4",
            "--slow=0.5",
            f"--json={figures_path}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert figures_path.exists(), run.stdout + run.stderr
    figures = json.loads(figures_path.read_text())
    checked = figures["verification"]
    assert run.returncode == 0, run.stdout + run.stderr

    assert checked["expected"] > 50
    assert checked["found"] == checked["expected"]
    assert checked["lost"] == 0
    assert checked["duplicated"] == 0
    assert checked["rejected_expected"] > 0
    assert checked["rejected_found"] == checked["rejected_expected"]
    assert checked["rejected_with_effects"] == 0
    assert checked["photos_lost"] == 0 and checked["photos_found"] == checked["photos_expected"] > 0
    assert checked["phones"] == 6 and checked["unconverged"] == 0
    assert checked["unresolved"] == 0 and checked["tables_off"] == 0 and checked["unexpected_rows"] == 0

    faults = figures["faults"]
    assert faults["kills"] >= 1
    assert faults["responses_dropped"] >= 1
    assert faults["slow_phones"] >= 1
    assert figures["throughput"]["replayed_results"] >= 1  # a cut response came back as a replay
    # Every phone in balance as the server's own reconciliation sees it (设备对账).
    assert checked["phones_owing"] == 0
    assert "phones in balance (server's reconciliation): 6/6" in run.stdout
    assert run.stdout.count(" 0 owed") == 6
    assert "RESULT: ok" in run.stdout


def test_the_verifier_counts_what_was_lost_duplicated_or_left_behind(tmp_path: Path) -> None:
    """A check that cannot fail proves nothing: a phone that believes a visit was applied that
    is not there, a request created twice, and a refused mutation that left a row."""
    sys.path.insert(0, str(ROOT / "bench"))
    import uuid
    from datetime import UTC, datetime

    from county import Sizes, seed
    from phone import Phone, Stats
    from sqlalchemy import insert, select
    from verify import verify

    from server import versions
    from server.db import Database
    from server.migrate import upgrade
    from server.models import Demand, DemandEvent, Household, Visit

    db = Database(f"sqlite:///{tmp_path / 'v.sqlite3'}")
    upgrade(db, tmp_path)
    county = seed(db, phones=1, sizes=Sizes(2, 2, 1, 1), secret_key="k" * 40, password="password-1")
    with db.read() as s:
        seed_version = versions.current(s)
        household_id = s.execute(select(Household.id)).scalars().first()
    assert household_id is not None
    user, grid = county.user_ids[0], county.grid_ids[0]
    lost_visit, doubled, ghost = str(uuid.uuid4()), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    base = {"community_id": county.community_id, "grid_id": grid, "field_versions": {}}
    with db.write() as s:
        [v1, v2, v3, v4] = versions.allocate(s, 4)
        s.execute(
            insert(Demand),
            [
                {
                    **base,
                    "id": doubled,
                    "version": v1,
                    "household_id": household_id,
                    "field": "property",
                    "description": "两次",
                    "source": "visit",
                    "status": "submitted",
                    "photos": [],
                }
            ],
        )
        s.execute(
            insert(DemandEvent),
            [
                {
                    **base,
                    "id": uuid.uuid4(),
                    "version": v,
                    "demand_id": doubled,
                    "kind": "created",
                    "actor_id": user,
                    "photos": [],
                    "at": now,
                }
                for v in (v2, v3)
            ],
        )
        s.execute(
            insert(Visit),
            [
                {
                    **base,
                    "id": ghost,
                    "version": v4,
                    "household_id": household_id,
                    "worker_id": user,
                    "purpose": "party",
                    "outcome": "completed",
                    "notes": "",
                    "photos": [],
                    "at": now,
                }
            ],
        )
    phone = Phone(0, county.usernames[0], "password-1", "http://unused", Stats(), random.Random(1))
    phone.user = {"id": str(user), "grid_ids": [str(grid)]}
    args = {"household_id": str(household_id), "purpose": "routine", "outcome": "completed"}
    phone.sent = {
        1: {"name": "visit.record", "args": {**args, "visit_id": lost_visit}, "bad": False, "photos": []},
        2: {"name": "demand.create", "args": {"demand_id": str(doubled)}, "bad": False, "photos": []},
        3: {"name": "visit.record", "args": {**args, "visit_id": str(ghost)}, "bad": True, "photos": []},
    }
    phone.results = {
        1: {"id": 1, "status": "applied"},
        2: {"id": 2, "status": "applied"},
        3: {"id": 3, "status": "rejected", "code": "invalid_args"},
    }
    report = verify(db, [phone], seeded=county.counts, seed_version=seed_version, unconverged=0)
    db.dispose()

    assert (report.expected, report.found, report.lost, report.duplicated) == (2, 0, 1, 1)
    assert report.rejected_expected == 1 and report.rejected_with_effects == 1
    assert report.counter_mismatches == 1  # the server never saw this client
    assert report.balances == [(county.usernames[0], "no client on the server")]
    assert report.phones_owing == 1
    assert not report.ok
