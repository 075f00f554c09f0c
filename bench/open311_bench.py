"""Open311 (issue 20): how long `requests.xml` and `requests.json` take for 1,000 requests in
the 90-day window (the spec's page: every request is masked and serialised), in process on
SQLite, and how fast the shared masking scrubs hostile text.

    .venv/bin/python bench/open311_bench.py

Prints numbers, never asserts.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import update
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync_bench import SECRET, fresh_database, seed_grid

from server import preferences
from server.app import create_app
from server.models import Demand
from server.people import masking
from server.settings import Settings

RUNS = 9
TEXT = (
    "詹 民 华反映：3栋2单元301室漏水，电话１３９ ０７９４ １２３４，身份证360121500101123，+86 139-0794-1234"
)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = fresh_database(None, Path(folder))
        seed_grid(db, households=500, residents=1500, visits=0, demands=1000)
        with db.write() as s:
            s.execute(update(Demand).values(description=TEXT))
            preferences.set(s, "open311.publishing", "public", None)
        settings = Settings(
            data_dir=Path(folder), database_url=str(db.engine.url), secret_key=SECRET, run_jobs=False
        )
        with TestClient(create_app(settings, db=db, jobs=False)) as client:
            for fmt in ("xml", "json"):
                times, size, count = [], 0, 0
                for _ in range(RUNS):
                    t0 = time.perf_counter()
                    response = client.get(f"/open311/v2/requests.{fmt}")
                    times.append((time.perf_counter() - t0) * 1000)
                    size = len(response.content)
                    count = response.text.count("<request>") if fmt == "xml" else len(response.json())
                print(
                    f"requests.{fmt}: {count} requests, {size / 1024:.0f} KB, "
                    f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms"
                )
        db.dispose()
    n = 10_000
    t0 = time.perf_counter()
    for _ in range(n):
        masking.scrub(TEXT, ["詹民华", "王先生"])
    print(
        f"masking.scrub: {(time.perf_counter() - t0) / n * 1e6:.0f} µs a description ({len(TEXT)} characters)"
    )


if __name__ == "__main__":
    main()
