"""Hold a county's morning: N phones against `doorstep serve`, with faults, verified from the database.

    .venv/bin/python bench/load.py                                    # 500 phones, 5 min, SQLite
    .venv/bin/python bench/load.py --postgres URL --workers 2         # PostgreSQL, 2 app processes
    .venv/bin/python bench/load.py --phones 50 --duration 30 --faults # what CI runs

At 8:00 every grid worker of a county opens the app at once after a weekend
offline: each phone (its own user, client and source address) signs in,
pulls its whole grid, then loops — records 1–20 mutations (bench/fieldwork.py),
pushes them, pulls what changed, waits `--think` seconds — until `--duration`
is over. Then the faults stop, every phone syncs once more, pulls its scope
afresh under a new client id, and the database is checked
(bench/verify.py). Prints throughput, latency percentiles, errors by kind and
the server's RSS; exits 1 when anything was lost, duplicated or did not
converge. The script starts and stops the servers it needs; with
`--postgres` the database's public schema is dropped first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


import httpx  # noqa: E402
from county import Sizes, seed  # noqa: E402
from faults import FaultyLink, allow_connections, database_outage, every  # noqa: E402
from fieldwork import Mix, Worker  # noqa: E402
from phone import GaveUp, Phone, Refused, Stats  # noqa: E402
from processes import ServerProcess  # noqa: E402
from sqlalchemy import text  # noqa: E402
from verify import Report, verify  # noqa: E402

from server import versions  # noqa: E402
from server.db import Database  # noqa: E402
from server.migrate import upgrade  # noqa: E402

SECRET = "load-secret-key-0123456789-abcdefghijklmnop"
PASSWORD = "load-password-1"
FAULT_DEFAULTS = {"drop": 0.05, "kill_every": 10.0, "db_outage_every": 15.0, "slow": 0.1}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--phones", type=int, default=500)
    p.add_argument("--duration", type=float, default=300.0, help="seconds of load after 8:00")
    p.add_argument("--think", type=float, default=15.0, help="mean seconds a worker spends between syncs")
    p.add_argument(
        "--postgres", metavar="URL", help="run on this PostgreSQL database (its public schema is dropped)"
    )
    p.add_argument(
        "--workers", type=int, default=None, help="app processes (default 1 on SQLite, 2 on PostgreSQL)"
    )
    p.add_argument("--households", type=int, default=Sizes.households, help="per grid")
    p.add_argument("--residents", type=int, default=Sizes.residents, help="per grid")
    p.add_argument("--visits", type=int, default=Sizes.visits, help="seeded visits per grid")
    p.add_argument("--demands", type=int, default=Sizes.demands, help="requests dispatched to each grid")
    p.add_argument(
        "--photo-rate", type=float, default=0.10, help="share of visits and requests with a 200 KB photo"
    )
    p.add_argument(
        "--bad-rate", type=float, default=0.01, help="share of mutations that are refused on purpose"
    )
    p.add_argument("--faults", action="store_true", help="every fault on, at its default unless given")
    p.add_argument("--drop", type=float, help="share of pushes whose response is cut after the commit")
    p.add_argument("--kill-every", type=float, help="SIGKILL the server every K seconds and restart it")
    p.add_argument(
        "--db-outage-every", type=float, help="PostgreSQL only: the database refuses everyone for 3 s"
    )
    p.add_argument("--slow", type=float, help="share of phones whose uploads crawl at 1 KB/s")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = p.parse_args(argv)
    for name, default in FAULT_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, default if args.faults else 0.0)
    if not args.postgres:
        args.db_outage_every = 0.0
        if args.workers not in (None, 1):
            p.error("SQLite is served by one process: --workers 1")
    args.workers = args.workers or (2 if args.postgres else 1)
    return args


def fresh_database(args: argparse.Namespace, folder: Path) -> str:
    if args.postgres:
        allow_connections(args.postgres)  # in case an interrupted run left an outage behind
        url = str(args.postgres)
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        url = f"sqlite:///{folder / 'doorstep.sqlite3'}"
        db = Database(url)
    upgrade(db, folder)
    db.dispose()
    return url


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": ordered[-1] * 1000,
    }


async def life(phone: Phone, worker: Worker, stop_at: float, think: float) -> None:
    """One worker's morning: sign in, pull the grid, then record-push-pull-wait until `stop_at`."""
    await asyncio.sleep(phone.rng.uniform(0, 2))
    await phone.login()
    await phone.pull("first pull")
    uploads = asyncio.create_task(upload_loop(phone, stop_at))
    try:
        while time.monotonic() < stop_at:
            worker.record(phone.rng.randint(1, 20))
            await phone.drain()
            await phone.pull()
            pause = phone.rng.uniform(0.5, 1.5) * think
            await asyncio.sleep(max(0.0, min(pause, stop_at - time.monotonic())))
    finally:
        await uploads


async def upload_loop(phone: Phone, stop_at: float) -> None:
    while time.monotonic() < stop_at:
        await phone.upload_waiting()
        await asyncio.sleep(0.5)


async def guarded(phone: Phone, work: Any, stats: Stats) -> bool:
    try:
        await work
        return True
    except (GaveUp, Refused) as exc:
        stats.error(f"phone stopped: {type(exc).__name__}")
        print(f"  ! {phone.username}: {exc}", file=sys.stderr)
        return False


async def finish(phone: Phone) -> None:
    """After the morning: everything still queued goes up, then one pull."""
    await phone.drain()
    await phone.upload_waiting()
    await phone.pull()


def differences(mine: dict[Any, Any], fresh: dict[Any, Any]) -> str:
    missing = [k for k in fresh if k not in mine]
    extra = [k for k in mine if k not in fresh]
    changed = [k for k in mine if k in fresh and mine[k] != fresh[k]]
    return f"missing {missing[:3]} extra {extra[:3]} different {changed[:3]}"


async def sample_rss(server: ServerProcess, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.to_thread(server.sample_rss)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    cpu_before = os.times()
    with tempfile.TemporaryDirectory(prefix="doorstep-load-") as tmp:
        folder = Path(tmp)
        url = fresh_database(args, folder)
        db = Database(url)
        started = time.perf_counter()
        sizes = Sizes(args.households, args.residents, args.visits, args.demands)
        county = seed(
            db, phones=args.phones, sizes=sizes, secret_key=SECRET, password=PASSWORD, rng_seed=args.seed
        )
        with db.read() as s:
            seed_version = versions.current(s)
        db.dispose()
        seeding = time.perf_counter() - started
        print(
            f"seeded {args.phones} grids × ({sizes.households} households, {sizes.residents} residents, "
            f"{sizes.visits} visits, {sizes.demands} dispatched requests) in {seeding:.1f} s",
            flush=True,
        )

        env = {
            **os.environ,
            "DOORSTEP_DATA_DIR": str(folder),
            "DOORSTEP_DATABASE_URL": url,
            "DOORSTEP_SECRET_KEY": SECRET,
        }
        server = ServerProcess(env=env, log_path=folder / "server.log", workers=args.workers)
        await asyncio.to_thread(server.start)
        async with httpx.AsyncClient(base_url=server.url) as http:
            consent = (await http.get("/app/consent.json")).json()["version"]

        rng = random.Random(args.seed)
        link: FaultyLink | None = None
        base_url = server.url
        if args.drop or args.slow:
            link = FaultyLink(server.port, drop=args.drop, rng=random.Random(rng.random()))
            await link.start()
            base_url = f"http://127.0.0.1:{link.port}"
        stats = Stats()
        mix = Mix(photo_rate=args.photo_rate, bad_rate=args.bad_rate, consent_version=consent)
        phones = [
            Phone(i, name, PASSWORD, base_url, stats, random.Random(rng.getrandbits(64)))
            for i, name in enumerate(county.usernames)
        ]
        if link is not None:
            link.slow = {p.address for p in phones if p.rng.random() < args.slow}
        slow_phones = len(link.slow) if link else 0
        for phone in phones:
            phone.open()

        # The morning.
        print(
            f"8:00 — {args.phones} phones for {args.duration:.0f} s on "
            f"{'PostgreSQL' if args.postgres else 'SQLite'} ({args.workers} app process"
            f"{'es' if args.workers > 1 else ''}); faults: drop {args.drop:.0%}, kill every {args.kill_every:g} s, "
            f"database outage every {args.db_outage_every:g} s, {slow_phones} slow phones",
            flush=True,
        )
        t0 = time.monotonic()
        stop_at = t0 + args.duration
        for phone in phones:
            phone.deadline = stop_at + 300
        quiet = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(server, quiet))
        killer = (
            asyncio.create_task(every(args.kill_every, quiet, server.restart)) if args.kill_every else None
        )
        outage = (
            asyncio.create_task(every(args.db_outage_every, quiet, lambda: database_outage(url, 3.0)))
            if args.db_outage_every
            else None
        )
        lives = [
            asyncio.create_task(guarded(p, life(p, Worker(p, mix), stop_at, args.think), stats))
            for p in phones
        ]
        await asyncio.wait(lives, timeout=max(0.0, stop_at - time.monotonic()))
        stats.open = False
        elapsed = time.monotonic() - t0

        # Calm: faults off, the server up, slow phones on wifi; each phone ends its cycle.
        quiet.set()
        kills = await killer if killer else 0
        outages = await outage if outage else 0
        if link is not None:
            link.calm()
        if server.process is None or server.process.poll() is not None:
            await asyncio.to_thread(server.start)
        alive = await asyncio.gather(*lives)
        for phone in phones:
            phone.deadline = time.monotonic() + 300
        limit = asyncio.Semaphore(50)

        async def final(phone: Phone) -> bool:
            async with limit:
                return await guarded(phone, finish(phone), stats)

        synced = await asyncio.gather(*(final(p) for p in phones))

        async def compare(phone: Phone) -> bool:
            async with limit:
                fresh = await phone.fresh_copy()
            if fresh != phone.store:
                print(
                    f"  ! {phone.username} did not converge: {differences(phone.store, fresh)}",
                    file=sys.stderr,
                )
                return False
            return True

        converged = await asyncio.gather(*(compare(p) for p in phones if p.user is not None))
        unconverged = sum(1 for ok in converged if not ok) + sum(1 for p in phones if p.user is None)
        await sampler
        server.sample_rss()
        for phone in phones:
            await phone.close()
        if link is not None:
            await link.close()
        server.stop()

        db = Database(url)
        report = verify(db, phones, seeded=county.counts, seed_version=seed_version, unconverged=unconverged)
        db.dispose()
    cpu = os.times()
    figures = {
        "database": "postgresql" if args.postgres else "sqlite",
        "workers": args.workers,
        "phones": args.phones,
        "duration_s": round(elapsed, 1),
        "think_s": args.think,
        "sizes": sizes.__dict__,
        "faults": {
            "drop": args.drop,
            "kill_every": args.kill_every,
            "db_outage_every": args.db_outage_every,
            "slow_phones": slow_phones,
            "responses_dropped": link.dropped if link else 0,
            "kills": kills,
            "outages": outages,
        },
        "throughput": {
            "mutations_per_s": stats.counts["mutations"] / elapsed,
            "pulls_per_s": stats.counts["pulls"] / elapsed,
            "photos_per_s": stats.counts["photos"] / elapsed,
            "mutations": stats.counts["mutations"],
            "replayed_results": stats.counts["replays"],
            "pulls": stats.counts["pulls"],
        },
        "latency": {op: percentiles(samples) for op, samples in sorted(stats.latencies.items())},
        "errors": dict(stats.errors),
        "errors_after": dict(stats.late_errors),
        "phones_stopped": sum(1 for ok in alive if not ok) + sum(1 for ok in synced if not ok),
        "server_rss_max_mb": server.rss_max_kb / 1024,
        "machine": {
            "cores": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "load_generator_cpu_s": (cpu.user + cpu.system) - (cpu_before.user + cpu_before.system),
        },
        "verification": report.as_dict(),
    }
    print_report(figures, report)
    return figures


def print_report(f: dict[str, Any], report: Report) -> None:
    t = f["throughput"]
    print(
        f"\n== load: {f['phones']} phones, {f['duration_s']:.0f} s, {f['database']}, {f['workers']} app process(es) =="
    )
    print(
        f"throughput: {t['mutations_per_s']:,.1f} mutations/s ({t['mutations']:,}), "
        f"{t['pulls_per_s']:,.1f} pulls/s ({t['pulls']:,}), {t['photos_per_s']:.1f} photos/s"
    )
    for op, p in f["latency"].items():
        if p["n"]:
            print(
                f"  {op:<11} n={p['n']:>7,}  p50 {p['p50_ms']:7.1f} ms  p95 {p['p95_ms']:7.1f} ms  "
                f"p99 {p['p99_ms']:7.1f} ms  max {p['max_ms']:8.1f} ms"
            )
    errors = sum(f["errors"].values())
    print(
        f"errors during the run: {errors:,} {json.dumps(f['errors'], ensure_ascii=False) if errors else ''}"
    )
    if f["errors_after"]:
        print(f"errors while settling: {json.dumps(f['errors_after'], ensure_ascii=False)}")
    faults = f["faults"]
    print(
        f"faults: {faults['responses_dropped']} push responses cut after commit, {faults['kills']} SIGKILLs, "
        f"{faults['outages']} database outages, {faults['slow_phones']} slow phones; "
        f"{t['replayed_results']:,} results answered as replays"
    )
    m = f["machine"]
    print(
        f"server RSS max {f['server_rss_max_mb']:.0f} MB; load generator CPU {m['load_generator_cpu_s']:.0f} s; "
        f"load average {m['loadavg_before'][0]:.1f} before, {m['loadavg_after'][0]:.1f} after ({m['cores']} cores)"
    )
    push, pull = f["latency"].get("push", {}), f["latency"].get("pull", {})
    if not any(faults[k] for k in ("drop", "kill_every", "db_outage_every", "slow_phones")):
        print(
            f"targets (no faults): errors {errors} (0), p99 push {push.get('p99_ms', 0):.0f} ms (≤ 1000), "
            f"p99 incremental pull {pull.get('p99_ms', 0):.0f} ms (≤ 300)"
        )
    for line in report.lines():
        print(line)
    print("RESULT:", "ok" if report.ok and not f["phones_stopped"] else "FAILED")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    try:
        with runner:
            figures = runner.run(run(args))
    finally:
        if args.postgres:
            allow_connections(args.postgres)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    ok = figures["verification"]["ok"] and not figures["phones_stopped"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
