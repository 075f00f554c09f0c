"""Ledger benchmark: importing 50,000 residents in 20,000 households, exporting 100,000 visits.

    .venv/bin/python bench/ledger_bench.py                 # SQLite
    .venv/bin/python bench/ledger_bench.py --postgres URL  # the same on PostgreSQL
    .venv/bin/python bench/ledger_bench.py --residents 5000 --households 2000   # smaller

Each part runs in a child process of its own, so its peak RSS is its own (the import's is
taken right after the import, before the dry run reads the file a second time). Besides the
wall-clock time it prints the process's CPU seconds and the load average: on a machine shared
with other work the wall clock measures the neighbours too. (On PostgreSQL the server's own
CPU is not in the process's.) Prints numbers, never asserts: targets are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sync_bench import fresh_database as empty_database  # noqa: E402
from server.db import Database  # noqa: E402
from server.ledger.columns import COLUMNS  # noqa: E402
from server.models import Community, Grid, Tag  # noqa: E402
from server.people import idnumber  # noqa: E402
from server.people.vault import Vault  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
GRIDS = 20
TAGS = (("alone", "独居老人"), ("dibao", "低保户"), ("disabled", "残疾人"), ("elderly", "高龄老人"))
RELATIONS = ("户主", "配偶", "子女", "父母", "孙辈")


def fresh_database(url: str | None, folder: Path) -> Database:
    """An empty migrated database (sync_bench's) with one community, its grids and the tags."""
    db = empty_database(url, folder)
    with db.write() as session:
        community = Community(name="乐安社区", code="lean")
        session.add(community)
        session.flush()
        session.add_all(
            Grid(community_id=community.id, name=f"第{g + 1}网格", code=f"g{g + 1}") for g in range(GRIDS)
        )
        session.add_all(Tag(code=code, name=name) for code, name in TAGS)
    return db


def ledger(path: Path, residents: int, households: int) -> Path:
    """One row per resident, households of 1 to 4 people, the way an office's sheet looks."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("一户一档")
    sheet.append([c.header for c in COLUMNS if not c.optional])  # the columns every ledger has
    for n in range(residents):
        h = n % households  # every household gets residents // households or one more
        member = n // households
        born = date(1930 + n % 80, 1 + n % 12, 1 + n % 28)
        sheet.append(
            [
                f"第{h % GRIDS + 1}网格",
                f"幸福{h // 2000 + 1}区",
                f"{h // 40 % 50 + 1}栋",
                f"{h // 10 % 4 + 1}单元",
                f"{h % 10 + 101}室",
                "户籍",
                f"居民{n}",
                RELATIONS[member % len(RELATIONS)],
                idnumber.make(f"36{n // 1000 % 100:02d}21", born, n % 1000),
                f"13{n % 1_000_000_000:09d}",
                TAGS[n % len(TAGS)][1] if n % 3 == 0 else "",
                "",
            ]
        )
    book.save(path)
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_part(url: str | None, residents: int, households: int) -> dict[str, Any]:
    from server.ledger.imports import apply_plan, read_plan

    with tempfile.TemporaryDirectory() as folder:
        db = fresh_database(url, Path(folder))
        path = ledger(Path(folder) / "ledger.xlsx", residents, households)
        vault = Vault(SECRET)
        load = os.getloadavg()[0]
        started, cpu_started = time.perf_counter(), time.process_time()
        plan = read_plan(db, None, path, "lean")
        read = time.perf_counter() - started
        outcome = apply_plan(db, vault, None, plan)
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        import_rss = peak_rss_mb()  # one import: one plan, as `doorstep import` holds
        rows = plan.rows
        del plan
        again_started = time.perf_counter()
        again = apply_plan(db, vault, None, read_plan(db, None, path, "lean"), dry_run=True)
        again_seconds = time.perf_counter() - again_started
        db.dispose()
    return {
        "rows": rows,
        "read_seconds": round(read, 1),
        "seconds": round(total, 1),
        "rows_per_second": round(rows / total),
        "cpu_seconds": round(cpu, 1),
        "rows_per_cpu_second": round(rows / cpu),
        "load_average": round(load, 1),
        "added": outcome.counts.added,
        "households": outcome.counts.households_added,
        "refused": outcome.counts.refused,
        "unchanged_dry_run_rows_per_second": round(rows / again_seconds),
        "unchanged": again.counts.unchanged,
        "peak_rss_mb": round(import_rss),
        "peak_rss_mb_after_the_dry_run": round(peak_rss_mb()),
    }


def export_part(url: str | None, visits: int, _households: int) -> dict[str, Any]:
    """`visits` visits over 2,000 households in one community, exported as 走访台账."""
    import uuid
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from server import versions
    from server.ledger.exports import export_ledger
    from server.models import Household, Visit

    with tempfile.TemporaryDirectory() as folder:
        db = fresh_database(url, Path(folder))
        start = datetime(2026, 1, 1, tzinfo=UTC)
        with db.write() as session:
            grid = session.exec(select(Grid)).first()
            assert grid is not None
            homes = [
                {"id": uuid.uuid4(), "community_id": grid.community_id, "grid_id": grid.id, "estate": "幸福小区",
                 "building": f"{h // 100 + 1}栋", "room": f"{h % 100 + 101}", "address": f"幸福小区 {h // 100 + 1}栋 {h % 100 + 101}",
                 "kind": "registered", "status": "active", "phone": "", "notes": "", "field_versions": {},
                 "created_at": start, "updated_at": start}
                for h in range(2000)
            ]  # fmt: skip
            for row, version in zip(homes, versions.allocate(session, len(homes)), strict=True):
                row["version"] = version
            session.execute(insert(Household), homes)
        for first in range(0, visits, 10_000):
            with db.write() as session:
                rows = [
                    {"id": uuid.uuid4(), "household_id": homes[n % 2000]["id"], "community_id": grid.community_id,
                     "grid_id": grid.id, "purpose": "routine", "outcome": "completed", "notes": f"走访记录 {n}",
                     "photos": [], "at": start + timedelta(minutes=5 * n), "field_versions": {},
                     "created_at": start, "updated_at": start}
                    for n in range(first, min(first + 10_000, visits))
                ]  # fmt: skip
                for row, version in zip(rows, versions.allocate(session, len(rows)), strict=True):
                    row["version"] = version
                session.execute(insert(Visit), rows)
        before = peak_rss_mb()
        load = os.getloadavg()[0]
        started, cpu_started = time.perf_counter(), time.process_time()
        count = export_ledger(db, Vault(SECRET), None, "visits", Path(folder) / "visits.xlsx")
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        size = (Path(folder) / "visits.xlsx").stat().st_size
        db.dispose()
    return {
        "rows": count,
        "seconds": round(seconds, 1),
        "rows_per_second": round(count / seconds),
        "cpu_seconds": round(cpu, 1),
        "load_average": round(load, 1),
        "file_mb": round(size / 2**20, 1),
        "peak_rss_mb_before_export": round(before),
        "peak_rss_mb": round(peak_rss_mb()),
    }


PARTS = {"import": import_part, "export": export_part}


def child(part: str, url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    size = args.visits if part == "export" else args.residents  # the export part's rows are visits
    command = [
        sys.executable,
        __file__,
        "--part",
        part,
        "--residents",
        str(size),
        "--households",
        str(args.households),
    ]
    if url:
        command += ["--postgres", url]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="a PostgreSQL URL whose public schema the bench may drop")
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--part", choices=sorted(PARTS))
    parser.add_argument("--only", choices=sorted(PARTS), help="run one part")
    args = parser.parse_args()
    if args.part:
        print(json.dumps(PARTS[args.part](args.postgres, args.residents, args.households)))
        return
    database = "PostgreSQL" if args.postgres else "SQLite"
    for part in [args.only] if args.only else PARTS:
        print(
            f"{part} ({database}):",
            json.dumps(child(part, args.postgres, args), ensure_ascii=False),
            flush=True,
        )


if __name__ == "__main__":
    main()
