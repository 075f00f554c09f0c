"""The phone's tasks (issue 17): how long the rules take over a 10,000-record grid in Chromium
at 360×740, offline, at full speed and at 4× CPU throttling.

    .venv/bin/python bench/tasks_bench.py

Two figures each: the rules alone over IndexedDB (`loadTasks` in static/app/tasks.js:
read every household, resident, visit, rule, card, request and conflict, then apply the
rules; the first run reads IndexedDB, later ones find the reads kept in memory while
the records stand) and opening the 工作台 (the same plus painting it). Prints numbers, never asserts:
targets are in docs/performance.md (≤ 200 ms median, ≤ 800 ms at 4×).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlalchemy import update
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from field_bench import THROTTLE, phone_page, rendered_after, sign_in
from sync_bench import Server, fresh_database, seed_grid

from server.db import Database
from server.models import Community, Resident, Tag, VisitRule

GRID = {"households": 2000, "residents": 5000, "visits": 2500, "demands": 500}  # 10,000 records
RUNS = 15

LOAD_TASKS = """async () => {
  const { loadTasks } = await import("/static/app/tasks.js");
  const t0 = performance.now();
  const { tasks } = await loadTasks(window.doorstep.db, window.doorstep.me);
  return [performance.now() - t0, tasks.length];
}"""


def care_for(db: Database) -> None:
    """The demo's rules, and every fourth resident tagged as one of them names."""
    with db.write() as s:
        community = s.exec(select(Community)).one()
        for code, name in (("elderly_alone", "独居老人"), ("low_income", "低保户"), ("disabled", "残疾人")):
            s.add(Tag(code=code, name=name))
        for name, subject, interval, extra in (
            ("独居老人", "tag", 7, {"tag_code": "elderly_alone"}),
            ("高龄老人", "age", 14, {"min_age": 80}),
            ("低保户", "tag", 30, {"tag_code": "low_income"}),
            ("残疾人", "tag", 30, {"tag_code": "disabled"}),
        ):
            s.add(
                VisitRule(
                    community_id=community.id, name=name, subject=subject, interval_days=interval, **extra
                )
            )
        ids = [row[0] for row in s.execute(Resident.__table__.select().with_only_columns(Resident.id))]  # type: ignore[attr-defined]
        for n, code in enumerate(("elderly_alone", "low_income", "disabled")):
            chosen = ids[n::12]
            for start in range(0, len(chosen), 500):
                s.execute(
                    update(Resident).where(Resident.id.in_(chosen[start : start + 500])).values(tags=[code])  # type: ignore[attr-defined]
                )


def timings(page: Page, url: str) -> tuple[list[float], list[float], int]:
    rules: list[float] = []
    opening: list[float] = []
    count = 0
    for n in range(RUNS):
        ms, count = page.evaluate(LOAD_TASKS)
        rules.append(float(ms))
        page.goto(url + "/app/#/households")
        page.wait_for_selector("#households", timeout=60_000)
        opening.append(rendered_after(page, "() => { location.hash = '#/'; }", n))
    return rules, opening, count


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = fresh_database(None, folder)
        seed_grid(db, **GRID)
        care_for(db)
        db.dispose()
        server = Server(f"sqlite:///{folder / 'bench.sqlite3'}", folder)
        try:
            with sync_playwright() as p:
                page = phone_page(p)
                sign_in(page, server.url)
                records = page.evaluate(
                    "async () => { const db = window.doorstep.db;"
                    " return await new Promise((ok) => { const r = db.transaction('records').objectStore('records').count(); r.onsuccess = () => ok(r.result); }); }"
                )
                page.context.set_offline(True)
                page.reload()
                page.wait_for_selector("#task-counts", timeout=60_000)
                fast = timings(page, server.url)
                cdp = page.context.new_cdp_session(page)
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
                slow = timings(page, server.url)
                page.context.close()
        finally:
            server.stop()
    print(f"\n== the phone's tasks: {records:,} records on the phone, offline, 360×740, {fast[2]} tasks ==")
    for name, (rules, opening, _), target in (("full speed", fast, 200), (f"CPU {THROTTLE}×", slow, 800)):
        print(
            f"{name}: rules over IndexedDB first {rules[0]:.0f} ms, then median {statistics.median(rules[1:]):.0f} ms "
            f"(max {max(rules[1:]):.0f}); "
            f"opening the 工作台 median {statistics.median(opening):.0f} ms (max {max(opening):.0f})"
            f"   (target ≤ {target} ms) over {RUNS}"
        )


if __name__ == "__main__":
    main()
