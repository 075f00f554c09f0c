"""Coverage benchmark (issue 17): the office's care-visit coverage of a 40,000-household county.

    .venv/bin/python bench/coverage_bench.py                 # SQLite
    .venv/bin/python bench/coverage_bench.py --postgres URL  # the same on PostgreSQL (its public schema is dropped)

Seeds one community of 100 grids × 400 households (≈ 2.5 residents each, the demo's care
tags on a realistic share, the demo's visit rules, a year of visits) with bulk inserts, then
prints the median time of the coverage query, of the `/coverage` page, of one grid's page and
of the dashboard (requests and the coverage summary), in-process, over several runs, and the
query plans of the statements the coverage query runs. Prints numbers, never asserts:
targets are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert
from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from county import ESTATES, IdNumbers, _name, _with_versions, add_community  # noqa: E402
from sync_bench import PASSWORD, SECRET, fresh_database  # noqa: E402

from server.access import Actor  # noqa: E402
from server.app import create_app  # noqa: E402
from server.auth import actor_for  # noqa: E402
from server.clock import local_today  # noqa: E402
from server.commands.users import create_user  # noqa: E402
from server.db import Database  # noqa: E402
from server.demo.words import TAGS, VISIT_RULES  # noqa: E402
from server.models import (  # noqa: E402
    Grid,
    Household,
    Resident,
    ResidentTag,
    Tag,
    User,
    Visit,
    VisitRule,
)
from server.people import idnumber  # noqa: E402
from server.people.vault import Vault  # noqa: E402
from server.queries import coverage  # noqa: E402
from server.settings import Settings  # noqa: E402

GRIDS = 100
HOUSEHOLDS = 400  # per grid
RESIDENTS = 1000  # per grid
# Shares of residents carrying each care tag (the elderly tags among the old only).
CARE_TAGS = {"hardship": 0.02, "subsistence": 0.015, "disabled": 0.02, "key_attention": 0.005}
ALONE_OF_OLD = 0.15
# Ages as in a county's census (China 2020: 13.5 % are 65 or older, 2.5 % 80 or older; a rural
# county has more old people): (share, youngest, oldest).
AGES = ((0.18, 0, 17), (0.64, 18, 64), (0.14, 65, 79), (0.04, 80, 99))
RUNS = 9


def _born(rng: random.Random, today: date) -> date:
    _, youngest, oldest = rng.choices(AGES, [a[0] for a in AGES])[0]
    return today - timedelta(days=rng.randint(youngest * 365 + 1, oldest * 365 + 364))


def seed(db: Database, rng: random.Random) -> dict[str, Any]:
    vault = Vault(SECRET)
    ids = IdNumbers(rng)
    now = datetime.now(UTC)
    today = local_today()
    stamp = {"created_at": now, "updated_at": now, "field_versions": {}}
    counts: dict[str, int] = {}
    with db.write() as s:
        community_id = add_community(s, stamp, name="乐安县", code="county")
        tags = [
            {**stamp, "id": uuid.uuid4(), "code": t.code, "name": t.name, "category": t.category}
            | {"sensitive": t.sensitive, "active": True, "sort": (i + 1) * 10}
            for i, t in enumerate(TAGS)
        ]
        _with_versions(s, Tag, tags)
        tag_ids = {t["code"]: t["id"] for t in tags}
        _with_versions(
            s,
            VisitRule,
            [
                {**stamp, "id": uuid.uuid4(), "community_id": community_id, "name": r.name}
                | {"subject": "tag" if r.tag_code else "age", "tag_code": r.tag_code, "min_age": r.min_age}
                | {
                    "household_status": "",
                    "interval_days": r.interval_days,
                    "priority": r.priority,
                    "active": True,
                }
                for r in VISIT_RULES
            ],
        )
        intervals = {r.tag_code: r.interval_days for r in VISIT_RULES if r.tag_code}
        grids = [
            {**stamp, "id": uuid.uuid4(), "community_id": community_id, "name": f"第{n + 1}网格"}
            | {"code": f"G{n + 1:03d}"}
            for n in range(GRIDS)
        ]
        _with_versions(s, Grid, grids)
        households: list[dict[str, Any]] = []
        residents: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        visits: list[dict[str, Any]] = []
        for grid in grids:
            base = {**stamp, "community_id": community_id, "grid_id": grid["id"]}
            estate = rng.choice(ESTATES)
            homes = []
            for i in range(HOUSEHOLDS):
                parts = {"estate": estate, "building": f"{i // 24 + 1}栋", "unit": f"{i // 8 % 3 + 1}单元"}
                parts["room"] = f"{i % 8 // 2 + 1}0{i % 2 + 1}室"
                homes.append(
                    {**base, "id": uuid.uuid4(), **parts, "address": " ".join(parts.values())}
                    | {"kind": "registered", "status": "active", "phone": "", "notes": ""}
                )
            households += homes
            interval: dict[uuid.UUID, int] = {}
            for i in range(RESIDENTS):
                born = _born(rng, today)
                number = ids.make(born)
                parsed = idnumber.parse(number)
                age = today.year - born.year
                codes = [c for c, share in CARE_TAGS.items() if rng.random() < share]
                if age >= 65 and rng.random() < ALONE_OF_OLD:
                    codes.append("elderly_alone")
                home = homes[i % HOUSEHOLDS]["id"] if i < HOUSEHOLDS else rng.choice(homes)["id"]
                row = {**base, "id": uuid.uuid4(), "household_id": home, "name": _name(rng)}
                residents.append(
                    row
                    | {"relation": "head" if i < HOUSEHOLDS else "spouse", "id_cipher": vault.encrypt(number)}
                    | {"id_hash": vault.keyed_hash(number), "id_masked": parsed.masked}
                    | {
                        "birth_date": parsed.birth_date,
                        "sex": parsed.sex,
                        "phone": "",
                        "notes": "",
                        "tags": codes,
                    }
                )
                links += [{"resident_id": row["id"], "tag_id": tag_ids[c]} for c in codes]
                wanted = [intervals[c] for c in codes] + ([14] if age >= 80 else [])
                if wanted:
                    interval[home] = min([interval.get(home, 999), *wanted])
            for home in homes:
                visits += _year_of_visits(rng, base, home["id"], interval.get(home["id"]), now)
        _with_versions(s, Household, households)
        _with_versions(s, Resident, residents)
        _with_versions(s, Visit, visits)
        for start in range(0, len(links), 5000):
            s.execute(insert(ResidentTag), links[start : start + 5000])
        counts = {"households": len(households), "residents": len(residents), "visits": len(visits)}
        counts["tagged residents"] = len({link["resident_id"] for link in links})
        staff = create_user(
            s,
            username="county-staff",
            display_name="社区工作人员",
            role="community_staff",
            password=PASSWORD,
            community_code="county",
        )
    return {"counts": counts, "staff": staff, "grid_id": grids[0]["id"], "community_id": community_id}


def _year_of_visits(
    rng: random.Random, base: dict[str, Any], household_id: uuid.UUID, interval: int | None, now: datetime
) -> list[dict[str, Any]]:
    """A year of visits: a household under care about every interval, most on time, some late,
    a few not seen for months; everybody else a routine visit or two."""
    rows: list[dict[str, Any]] = []
    if interval is None:
        moments = [now - timedelta(days=rng.uniform(0, 365)) for _ in range(rng.randint(0, 2))]
    else:
        moments = []
        moment = now - timedelta(days=rng.uniform(0, interval * (4 if rng.random() < 0.1 else 1.3)))
        while moment > now - timedelta(days=365):
            moments.append(moment)
            moment -= timedelta(days=interval * rng.uniform(0.7, 1.2))
    for moment in moments:
        outcome = rng.choices(("completed", "nobody_home", "refused"), (0.9, 0.08, 0.02))[0]
        rows.append(
            {**base, "id": uuid.uuid4(), "household_id": household_id, "worker_id": None}
            | {"purpose": "care" if interval else "routine", "outcome": outcome, "notes": "", "photos": []}
            | {"at": moment}
        )
    return rows


def median_ms(fn: Callable[[], object], runs: int = RUNS) -> tuple[float, float, float, float]:
    """Median, min and max wall time of `fn` in ms, and its median CPU time: the machine is
    shared, and the CPU time of this process (SQLite runs in it) says what waiting for a core hid."""
    fn()  # warm-up: caches, the first connection
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(times), min(times), max(times), statistics.median(cpu)


def machine() -> str:
    """How busy and how fast this machine was: the load average and a bare loop of ten million additions."""
    start, total = time.perf_counter(), 0
    for i in range(10_000_000):
        total += i
    load = os.getloadavg()
    return f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; 10M additions {time.perf_counter() - start:.2f} s"


@contextmanager
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (and their parameters) run on `db` inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        seen.append((sql, params))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def explain(db: Database, sql: str, params: Any) -> str:
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + sql, params).all()
    lines = [f"{'  ' * (r[1] and 1)}{r[-1]}" for r in rows] if db.is_sqlite else [r[0] for r in rows]
    return "\n".join(line if len(line) <= 160 else line[:150] + " …" for line in lines)  # the id lists


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres", metavar="URL", help="a PostgreSQL database to use (its public schema is dropped)"
    )
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--plans", action="store_true", help="print the query plans of the coverage statements"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = fresh_database(args.postgres, folder)
        start = time.perf_counter()
        seeded = seed(db, random.Random(17))
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}")
        print(f"seeded in {time.perf_counter() - start:.1f} s: {seeded['counts']}")
        if not db.is_sqlite:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        with db.read() as s:
            user = s.get(User, seeded["staff"].id)
            assert user is not None
            actor: Actor = actor_for(s, user)
        today = local_today()

        def query() -> coverage.Coverage:
            with db.read() as s:
                return coverage.coverage(s, actor, today)

        found = query()
        total = found.total
        print(
            f"coverage: {len(found.grids)} grids, {total.households} households, {total.under_care} under care, "
            f"{total.within} within their interval ({total.percent}%), {len(total.overdue)} overdue, "
            f"{total.due_tomorrow} due tomorrow"
        )
        settings = Settings(
            data_dir=folder,
            database_url=args.postgres or f"sqlite:///{folder / 'bench.sqlite3'}",
            secret_key=SECRET,
            run_jobs=False,
        )
        app = create_app(settings, db=db, jobs=False)
        with TestClient(app) as client:
            login = client.post("/sync/login", json={"username": "county-staff", "password": PASSWORD})
            assert login.status_code == 200, login.text

            def page(path: str) -> Callable[[], object]:
                def get() -> object:
                    response = client.get(path)
                    assert response.status_code == 200, response.text[:300]
                    return response

                return get

            for name, fn in (
                ("coverage query (all grids)", query),
                ("GET /coverage", page("/coverage")),
                ("GET /coverage/{grid}", page(f"/coverage/{seeded['grid_id']}")),
                ("GET /demands/dashboard (with the coverage summary)", page("/demands/dashboard")),
            ):
                median, low, high, cpu = median_ms(fn, args.runs)
                print(
                    f"{name}: median {median:.0f} ms (min {low:.0f}, max {high:.0f}; CPU median {cpu:.0f} ms; "
                    f"{args.runs} runs)"
                )
            print(machine())
        if args.plans:
            with statements(db) as seen:
                query()
            for sql, params in seen:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                print("\n--", " ".join(sql.split())[:240])
                print(explain(db, sql, params))
        db.dispose()


if __name__ == "__main__":
    main()
