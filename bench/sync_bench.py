"""Sync benchmark: push throughput against raw SQLite, first and empty pulls of a full grid.

    .venv/bin/python bench/sync_bench.py                 # SQLite
    .venv/bin/python bench/sync_bench.py --postgres URL  # the same on PostgreSQL

Prints numbers, never asserts: targets are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server import versions  # noqa: E402
from server.commands.users import create_user  # noqa: E402
from server.db import Database  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.models import Community, Demand, Grid, Household, Resident, Visit  # noqa: E402
from server.people import idnumber  # noqa: E402
from server.people.vault import Vault  # noqa: E402

SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
PASSWORD = "bench-password-1"
PUSH_BATCHES = 60
BATCH = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, *, seconds: float, name: str) -> None:
    """Until `url` answers 200; a server that never does is an error, not a slow result."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not start")


def fresh_database(url: str | None, folder: Path) -> Database:
    if url:
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db = Database(f"sqlite:///{folder / 'bench.sqlite3'}")
    upgrade(db, folder)
    return db


def rows_with_versions(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for row, version in zip(rows, versions.allocate(session, len(rows)), strict=True):
        row["version"] = version
    for start in range(0, len(rows), 1000):
        session.execute(insert(model), rows[start : start + 1000])


def seed_grid(
    db: Database, households: int = 500, residents: int = 1500, visits: int = 5000, demands: int = 500
) -> dict[str, Any]:
    """One full grid, as the issue sizes it, with a worker who holds it."""
    rng = random.Random(7)
    vault = Vault(SECRET)
    now = datetime.now(UTC)
    with db.write() as s:
        community = Community(name="基准社区", code="bench")
        s.add(community)
        s.flush()
        grid = Grid(community_id=community.id, name="基准网格", code="b1")
        s.add(grid)
        s.flush()
        base = {
            "community_id": community.id,
            "grid_id": grid.id,
            "created_at": now,
            "updated_at": now,
            "field_versions": {},
        }
        hh = [
            {
                **base,
                "id": uuid.uuid4(),
                "estate": "芙蓉花园",
                "building": f"{i // 40 + 1}栋",
                "unit": f"{i % 4 + 1}单元",
                "room": f"{i % 10 + 1}0{i % 4 + 1}室",
                "address": f"芙蓉花园 {i // 40 + 1}栋 {i % 4 + 1}单元 {i % 10 + 1}0{i % 4 + 1}室",
                "kind": "registered",
                "status": "active",
                "phone": f"138{rng.randrange(10**8):08d}",
                "notes": "",
                "lat": 27.43,
                "lng": 115.83,
            }
            for i in range(households)
        ]
        rows_with_versions(s, Household, hh)
        rs = []
        for i in range(residents):
            born = date(1940, 1, 1) + timedelta(days=rng.randrange(30000))
            number = idnumber.make("361025", born, rng.randrange(1000))
            parsed = idnumber.parse(number)
            rs.append(
                {
                    **base,
                    "id": uuid.uuid4(),
                    "household_id": hh[i % households]["id"],
                    "name": f"居民{i}",
                    "relation": "head",
                    "id_cipher": vault.encrypt(number),
                    "id_hash": vault.keyed_hash(number),
                    "id_masked": parsed.masked,
                    "birth_date": parsed.birth_date,
                    "sex": parsed.sex,
                    "phone": f"139{rng.randrange(10**8):08d}",
                    "notes": "",
                    "tags": [],
                }
            )
        rows_with_versions(s, Resident, rs)
        user = create_user(
            s,
            username="bw1",
            display_name="基准网格员",
            role="grid_worker",
            password=PASSWORD,
            community_code="bench",
            grid_codes=["b1"],
        )
        vs = [
            {
                **base,
                "id": uuid.uuid4(),
                "household_id": hh[i % households]["id"],
                "worker_id": user.id,
                "purpose": "routine",
                "outcome": "completed",
                "notes": "上门走访，了解近况，无特殊需求。",
                "photos": [],
                "at": now - timedelta(minutes=i),
            }
            for i in range(visits)
        ]
        rows_with_versions(s, Visit, vs)
        ds = [
            {
                **base,
                "id": uuid.uuid4(),
                "household_id": hh[i % households]["id"],
                "field": "infrastructure",
                "description": "楼道路灯坏了，晚上出门摸黑，希望尽快修好。",
                "source": "visit",
                "status": "dispatched",
                "priority": "normal",
                "contact_name": "",
                "contact_phone": "",
                "address": hh[i % households]["address"],
                "photos": [],
                "answer": "",
                "rating_comment": "",
                "rating_token": "",
            }
            for i in range(demands)
        ]
        rows_with_versions(s, Demand, ds)
        # A neighbouring grid whose worker writes while bw1 pulls (nothing new for bw1).
        other = Grid(community_id=community.id, name="邻近网格", code="b2")
        s.add(other)
        s.flush()
        next_door = Household(
            community_id=community.id, grid_id=other.id, estate="桂花苑", building="1栋", address="桂花苑 1栋"
        )
        s.add(next_door)
        create_user(
            s,
            username="bw2",
            display_name="邻近网格员",
            role="grid_worker",
            password=PASSWORD,
            community_code="bench",
            grid_codes=["b2"],
        )
        s.flush()
        other_household = str(next_door.id)
    return {
        "household_ids": [h["id"] for h in hh],
        "other_household": other_household,
        "worker_id": str(user.id),
    }


class Server:
    def __init__(self, database_url: str, data_dir: Path, workers: int = 1) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "DOORSTEP_DATA_DIR": str(data_dir),
            "DOORSTEP_DATABASE_URL": database_url,
            "DOORSTEP_SECRET_KEY": SECRET,
            "DOORSTEP_RUN_JOBS": "0",
        }
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "server.app:create_app",
            "--factory",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        if workers > 1:
            command += ["--workers", str(workers)]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_until_up(f"{self.url}/healthz", seconds=30, name="server")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=15)


class Floor:
    """bench/floor.py under uvicorn on its own copy of the seeded SQLite database."""

    def __init__(self, database: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "FLOOR_DATABASE": str(database)}
        command = [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "bench"), "floor:app"]
        command += ["--port", str(self.port), "--log-level", "warning", "--no-access-log"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("floor endpoint did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=15)


def server_ms(response: httpx.Response) -> float:
    timing = response.headers.get("server-timing", "")
    for part in timing.split(","):
        name, _, rest = part.strip().partition(";")
        if name == "app" and rest.startswith("dur="):
            return float(rest[4:])
    return float("nan")


class Raw:
    """The baseline: the same visit rows, executemany in batches of 100, one commit per batch."""

    def __init__(self, folder: Path) -> None:
        self.conn = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute(
            "CREATE TABLE visit (id TEXT PRIMARY KEY, household_id TEXT, purpose TEXT, outcome TEXT, notes TEXT, at TEXT, version INTEGER)"
        )

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        self.conn.execute("BEGIN")
        self.conn.executemany("INSERT INTO visit VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        self.conn.execute("COMMIT")


def bench_push(
    server: Server, household_ids: list[Any], folder: Path, floor: Floor | None, worker_id: str
) -> dict[str, float]:
    """Doorstep, the HTTP floor (SQLite only) and raw executemany, interleaved batch by batch
    in a rotating order, so the machine's moods fall on all three alike."""
    raw = Raw(folder)
    spent = {"doorstep": 0.0, "floor": 0.0, "raw": 0.0}
    with httpx.Client(base_url=server.url, timeout=60) as http, httpx.Client(timeout=60) as bare:
        http.post("/sync/login", json={"username": "bw1", "password": PASSWORD}).raise_for_status()
        client_id = str(uuid.uuid4())
        batches = []
        next_id = 1
        for _ in range(PUSH_BATCHES):
            mutations, rows = [], []
            for _ in range(BATCH):
                visit_id = str(uuid.uuid4())
                household = str(household_ids[next_id % len(household_ids)])
                at = datetime.now(UTC).isoformat()
                args = {
                    "visit_id": visit_id,
                    "household_id": household,
                    "purpose": "routine",
                    "outcome": "completed",
                    "notes": "基准测试走访",
                }
                mutations.append({"id": next_id, "name": "visit.record", "at": at, "args": args})
                rows.append((visit_id, household, "routine", "completed", "基准测试走访", at, next_id))
                next_id += 1
            body = json.dumps({"protocol": 1, "client_id": client_id, "mutations": mutations}).encode()
            batches.append((body, next_id - 1, rows))
        headers = {"Content-Type": "application/json"}

        def doorstep(body: bytes, last: int, rows: list[tuple[Any, ...]]) -> None:
            response = http.post("/sync/push", content=body, headers=headers)
            response.raise_for_status()
            assert response.json()["last_mutation_id"] == last

        def floor_push(body: bytes, last: int, rows: list[tuple[Any, ...]]) -> None:
            assert floor is not None
            response = bare.post(
                f"{floor.url}/sync/push", content=body, headers={**headers, "X-Worker": worker_id}
            )
            response.raise_for_status()
            assert response.json()["last_mutation_id"] == last

        def raw_write(body: bytes, last: int, rows: list[tuple[Any, ...]]) -> None:
            raw.write(rows)

        systems = {"doorstep": doorstep, "raw": raw_write}
        if floor is not None:
            systems["floor"] = floor_push
        for run in systems.values():
            run(*batches[0])  # warm-up, not counted
        names = list(systems)
        for n, batch in enumerate(batches[1:]):
            for name in names[n % len(names) :] + names[: n % len(names)]:
                start = time.perf_counter()
                systems[name](*batch)
                spent[name] += time.perf_counter() - start
    counted = (PUSH_BATCHES - 1) * BATCH
    return {name: counted / seconds for name, seconds in spent.items() if seconds}


def one_visit(client_id: str, mutation_id: int, household: str) -> dict[str, Any]:
    args = {
        "visit_id": str(uuid.uuid4()),
        "household_id": household,
        "purpose": "routine",
        "outcome": "completed",
        "notes": "基准测试走访",
    }
    mutation = {"id": mutation_id, "name": "visit.record", "at": datetime.now(UTC).isoformat(), "args": args}
    return {"protocol": 1, "client_id": client_id, "mutations": [mutation]}


def bench_incremental(
    server: Server, household_ids: list[Any], other_household: str, rounds: int = 30
) -> dict[str, float]:
    """Another phone of the grid records one visit; this phone's next pull carries it. Then a
    phone of the next grid records one; this phone's next pull has nothing new."""
    with (
        httpx.Client(base_url=server.url, timeout=60) as http,
        httpx.Client(base_url=server.url, timeout=60) as next_grid,
    ):
        http.post("/sync/login", json={"username": "bw1", "password": PASSWORD}).raise_for_status()
        next_grid.post("/sync/login", json={"username": "bw2", "password": PASSWORD}).raise_for_status()
        puller, writer, cursor = str(uuid.uuid4()), str(uuid.uuid4()), None
        while True:
            body = http.post("/sync/pull", json={"protocol": 1, "client_id": puller, "cursor": cursor}).json()
            cursor = body["cursor"]
            if not body["more"]:
                break
        served = []
        for n in range(1, rounds + 1):
            http.post("/sync/push", json=one_visit(writer, n, str(household_ids[n]))).raise_for_status()
            response = http.post("/sync/pull", json={"protocol": 1, "client_id": puller, "cursor": cursor})
            body = response.json()
            assert [c["type"] for c in body["changes"]] == ["visit"], body["changes"]
            cursor = body["cursor"]
            served.append(server_ms(response))
        neighbour, quiet = str(uuid.uuid4()), []
        for n in range(1, rounds + 1):
            next_grid.post("/sync/push", json=one_visit(neighbour, n, other_household)).raise_for_status()
            response = http.post("/sync/pull", json={"protocol": 1, "client_id": puller, "cursor": cursor})
            body = response.json()
            assert body["changes"] == [], body["changes"]
            cursor = body["cursor"]
            quiet.append(server_ms(response))
    return {
        "one_change_server_ms_median": statistics.median(served),
        "others_write_server_ms_median": statistics.median(quiet),
    }


def bench_pull(server: Server, encoding: str = "gzip") -> dict[str, float]:
    with httpx.Client(base_url=server.url, timeout=60, headers={"Accept-Encoding": encoding}) as http:
        http.post("/sync/login", json={"username": "bw1", "password": PASSWORD}).raise_for_status()
        firsts: list[tuple[float, float, int, int]] = []
        cursor = None
        for _ in range(3):
            client_id, cursor, wire, raw, ms, changes = str(uuid.uuid4()), None, 0, 0, 0.0, 0
            wall = time.perf_counter()
            while True:
                response = http.post(
                    "/sync/pull", json={"protocol": 1, "client_id": client_id, "cursor": cursor}
                )
                response.raise_for_status()
                wire += response.num_bytes_downloaded
                raw += len(response.content)
                ms += server_ms(response)
                body = response.json()
                changes += len(body["changes"])
                cursor = body["cursor"]
                if not body["more"]:
                    break
            firsts.append((ms, (time.perf_counter() - wall) * 1000, wire, changes))
        empties = []
        walls = []
        for _ in range(50):
            wall = time.perf_counter()
            response = http.post("/sync/pull", json={"protocol": 1, "client_id": client_id, "cursor": cursor})
            walls.append((time.perf_counter() - wall) * 1000)
            assert response.json()["changes"] == []
            empties.append(server_ms(response))
    best = min(firsts)
    return {
        "first_server_ms": best[0],
        "first_wall_ms": best[1],
        "first_wire_bytes": best[2],
        "first_changes": best[3],
        "raw_bytes": raw,
        "empty_server_ms_median": statistics.median(empties),
        "empty_wall_ms_median": statistics.median(walls),
    }


def run(label: str, postgres: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = fresh_database(postgres, folder)
        data = seed_grid(db)
        floor = None
        if postgres is None:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.dispose()
            shutil.copy(folder / "bench.sqlite3", folder / "floor.sqlite3")
            floor = Floor(folder / "floor.sqlite3")
        db.dispose()
        server = Server(postgres or f"sqlite:///{folder / 'bench.sqlite3'}", folder)
        try:
            pull = bench_pull(server)
            brotli_bytes = bench_pull(server, "br")["first_wire_bytes"]
            incremental = bench_incremental(server, data["household_ids"], data["other_household"])
            rates = bench_push(server, data["household_ids"], folder, floor, data["worker_id"])
        finally:
            server.stop()
            if floor is not None:
                floor.stop()
    push_rate, raw_rate = rates["doorstep"], rates["raw"]
    print(f"\n== {label} ==")
    print(
        f"push: {push_rate:,.0f} visit.record/s through HTTP (batches of {BATCH}); raw sqlite3 executemany {raw_rate:,.0f} rows/s"
        + (f"; the HTTP floor (bench/floor.py) {rates['floor']:,.0f} rows/s" if "floor" in rates else "")
        + "; interleaved batch by batch"
    )
    print(f"push ratio server/raw: 1/{raw_rate / push_rate:.1f}   (target ≥ 1/5)")
    if "floor" in rates:
        print(f"push ratio server/HTTP floor: {push_rate / rates['floor']:.2f}×   (target ≥ 0.67×)")
    print(
        f"first pull of a full grid: {pull['first_changes']:,} changes, {pull['first_wire_bytes'] / 1e6:.2f} MB gzip on the wire, "
        f"{brotli_bytes / 1e6:.2f} MB brotli ({pull['raw_bytes'] / 1e6:.2f} MB raw), "
        f"server {pull['first_server_ms']:.0f} ms, wall {pull['first_wall_ms']:.0f} ms   (targets ≤ 1 MB, ≤ 500 ms)"
    )
    print(
        f"incremental pull, nothing new: server {pull['empty_server_ms_median']:.2f} ms median (wall {pull['empty_wall_ms_median']:.2f} ms)   (target ≤ 5 ms)"
    )
    print(
        f"incremental pull of 1 change (another phone's visit): server {incremental['one_change_server_ms_median']:.2f} ms median"
        "   (targets ≤ 6 ms SQLite, ≤ 20 ms PostgreSQL)"
    )
    print(
        f"incremental pull, nothing new while the next grid writes: server {incremental['others_write_server_ms_median']:.2f} ms median"
        "   (target ≤ 5 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (its public schema is dropped!)")
    parser.add_argument("--only-postgres", action="store_true")
    args = parser.parse_args()
    if not args.only_postgres:
        run("SQLite", None)
    if args.postgres:
        run("PostgreSQL", args.postgres)


if __name__ == "__main__":
    main()
