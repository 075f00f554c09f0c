"""Hold a county's morning: N phones against `doorstep serve`, with faults, verified from the database.

    .venv/bin/python bench/load.py                                     # 500 phones, 5 min, SQLite
    .venv/bin/python bench/load.py --postgres URL                      # PostgreSQL, 2 app processes + worker
    .venv/bin/python bench/load.py --phones 50 --duration 30 --think 5 --faults   # what CI runs

Friday: every worker signs in and pulls its grid (each phone is its own user,
client and source address). Monday 8:00, after a weekend offline, every phone
opens the app within `--arrival` seconds: it pushes the 1–20 things it
recorded over the weekend, pulls what changed, and then loops — records 1–20
mutations (bench/fieldwork.py), pushes, pulls, waits about `--think` seconds —
until `--duration` is over. With `--fresh-phones N` the first N phones are
new instead (a training day): none of them signed in on Friday, and at 8:00
sharp all N sign in and take their first full pull at the same moment; the
run prints sign-in → grid complete per phone and fails, when no fault is on,
unless every one completed, with p95 ≤ 30 s and no error on the way.

    .venv/bin/python bench/load.py --phones 100 --fresh-phones 100 --households 500 \
        --residents 1500 --visits 7500 --demands 500 --duration 60    # the training day

Then the faults stop, every phone syncs once more and pulls its scope afresh
under a new client id, and the database is checked (bench/verify.py), with
each phone's balance as the server's reconciliation (设备对账) sees it from the
phones' device reports: "0 owed" on every phone, or the run fails. Prints
throughput, latency percentiles, errors by kind, the server's RSS and how busy
the machine was; exits 1 when anything was lost, duplicated or did not
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
from county import County, Sizes, seed  # noqa: E402
from faults import FaultyLink, allow_connections, database_outage, every  # noqa: E402
from fieldwork import Mix, Worker  # noqa: E402
from loadreport import figures_of, print_report  # noqa: E402
from phone import GaveUp, Phone, Refused, Stats, phone_address  # noqa: E402
from processes import JobsProcess, ServerProcess, machine_ticks  # noqa: E402
from sqlalchemy import text  # noqa: E402
from verify import verify  # noqa: E402

from server import versions  # noqa: E402
from server.db import Database  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.push.triggers import remind  # noqa: E402

SECRET = "load-secret-key-0123456789-abcdefghijklmnop"
PASSWORD = "load-password-1"
FAULT_DEFAULTS = {"drop": 0.05, "kill_every": 10.0, "db_outage_every": 15.0, "slow": 0.1}
OUTAGE_SECONDS = 3.0
FRIDAY_AT_ONCE = 16  # phones signing in and pulling at the same time on Friday
SETTLE_AT_ONCE = 50


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--phones", type=int, default=500)
    p.add_argument("--duration", type=float, default=300.0, help="seconds from 8:00 (default 300)")
    p.add_argument(
        "--arrival", type=float, help="the phones open the app within this many seconds of 8:00 (default 60)"
    )
    p.add_argument(
        "--think", type=float, default=60.0, help="mean seconds between a phone's syncs (default 60)"
    )
    p.add_argument(
        "--fresh-phones",
        type=int,
        nargs="?",
        const=-1,
        default=0,
        metavar="N",
        help="N new phones (all if N is left out) sign in and take their first full pull at 8:00 sharp",
    )
    p.add_argument(
        "--postgres", metavar="URL", help="PostgreSQL database to use (its public schema is dropped)"
    )
    p.add_argument("--workers", type=int, help="app processes (1 on SQLite; default 2 on PostgreSQL)")
    p.add_argument("--households", type=int, default=Sizes.households, help="per grid (default 60)")
    p.add_argument("--residents", type=int, default=Sizes.residents, help="per grid (default 180)")
    p.add_argument("--visits", type=int, default=Sizes.visits, help="seeded visits per grid (default 120)")
    p.add_argument("--demands", type=int, default=Sizes.demands, help="requests dispatched to each grid (10)")
    p.add_argument("--photo-rate", type=float, default=0.10, help="visits and requests with a 200 KB photo")
    p.add_argument("--bad-rate", type=float, default=0.01, help="mutations refused on purpose")
    p.add_argument("--faults", action="store_true", help="every fault on, at its default unless given")
    p.add_argument("--drop", type=float, help="share of pushes whose response is cut after commit (0.05)")
    p.add_argument("--kill-every", type=float, help="SIGKILL the server every K s, then restart it (10)")
    p.add_argument("--db-outage-every", type=float, help="PostgreSQL: the database refuses all for 3 s (15)")
    p.add_argument("--slow", type=float, help="share of phones whose uploads crawl at 1 KB/s (0.1)")
    p.add_argument(
        "--one-address",
        action="store_true",
        help="every phone signs in and syncs from one source address (carrier NAT, a training room)",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--samples", metavar="PATH", help="every request's timing as CSV (op, s after 8:00, ms)")
    args = p.parse_args(argv)
    for name, default in FAULT_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, default if args.faults else 0.0)
    if args.arrival is None:
        args.arrival = min(60.0, args.duration / 5)
    if not args.postgres:
        args.db_outage_every = 0.0
        if args.workers not in (None, 1):
            p.error("SQLite is served by one process: --workers 1")
    args.workers = args.workers or (2 if args.postgres else 1)
    if not 0 <= args.fresh_phones <= args.phones:
        args.fresh_phones = args.phones
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


# -- one phone's week ----------------------------------------------------------------------------


async def friday(phone: Phone) -> None:
    await phone.login()
    await phone.pull("first pull")


def is_fresh(phone: Phone, args: argparse.Namespace) -> bool:
    return bool(phone.index < args.fresh_phones)


async def monday(phone: Phone, worker: Worker, stop_at: float, args: argparse.Namespace) -> None:
    """Open the app within `--arrival` of 8:00 (a new phone: at 8:00 sharp, signing in and
    taking its grid first), push the weekend's work, then sync every `--think` s."""
    if is_fresh(phone, args):
        started = time.monotonic()
        await phone.login()
        await phone.pull("first pull")
        phone.first_sync_s = time.monotonic() - started
    else:
        await asyncio.sleep(phone.rng.uniform(0, args.arrival))
    uploads = asyncio.create_task(upload_loop(phone, stop_at))
    try:
        while time.monotonic() < stop_at:
            worker.record(phone.rng.randint(1, 20))
            await phone.drain()
            await phone.pull()
            phone.ready_at = phone.ready_at or time.monotonic()
            pause = phone.rng.uniform(0.5, 1.5) * args.think
            await asyncio.sleep(max(0.0, min(pause, stop_at - time.monotonic())))
    finally:
        await uploads


async def upload_loop(phone: Phone, stop_at: float) -> None:
    """Photos go up by hash on their own, so a slow upload never holds the outbox back."""
    while time.monotonic() < stop_at:
        await phone.upload_waiting()
        await asyncio.sleep(0.5)


async def finish(phone: Phone) -> None:
    """After the morning: everything still queued goes up, then one pull."""
    await phone.drain()
    await phone.upload_waiting()
    await phone.pull()


async def guarded(phone: Phone, work: Any, stats: Stats) -> bool:
    """Run one phone's work; a phone that gives up or is refused is reported, never fatal to the run."""
    try:
        await work
        return True
    except (GaveUp, Refused) as exc:
        stats.error(f"phone stopped: {type(exc).__name__}")
        print(f"  ! {phone.username}: {exc}", file=sys.stderr)
        return False


async def at_most(n: int, phones: list[Phone], work: Any, stats: Stats) -> list[bool]:
    gate = asyncio.Semaphore(n)

    async def one(phone: Phone) -> bool:
        async with gate:
            return await guarded(phone, work(phone), stats)

    return list(await asyncio.gather(*(one(p) for p in phones)))


def differences(mine: dict[Any, Any], fresh: dict[Any, Any]) -> str:
    missing = [k for k in fresh if k not in mine]
    extra = [k for k in mine if k not in fresh]
    changed = [k for k in mine if k in fresh and mine[k] != fresh[k]]
    return f"missing {missing[:3]} extra {extra[:3]} different {changed[:3]}"


# -- the run -------------------------------------------------------------------------------------


@dataclass
class Morning:
    t0: float
    elapsed: float
    settled: float  # when every phone had done its first sync of the morning
    kills: int
    outages: int
    stopped: int
    usage: dict[str, float]


async def sample_rss(server: ServerProcess, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.to_thread(server.sample_rss)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


def _cpu_now(server: ServerProcess) -> tuple[tuple[int, int], float, float]:
    server.sample_rss()
    own = os.times()
    return machine_ticks(), server.cpu_seconds, own.user + own.system


def _usage(before: Any, after: Any, elapsed: float) -> dict[str, float]:
    """Cores in use during the run: the whole machine, the server, this script, everything else."""
    (busy0, total0), server0, own0 = before
    (busy1, total1), server1, own1 = after
    machine = (busy1 - busy0) / max(1, total1 - total0) * (os.cpu_count() or 1)
    server, own = (server1 - server0) / elapsed, (own1 - own0) / elapsed
    return {
        "machine_cores_busy": machine,
        "server_cores": server,
        "load_generator_cores": own,
        "other_cores": max(0.0, machine - server - own),
    }


async def the_morning(
    args: argparse.Namespace,
    phones: list[Phone],
    mix: Mix,
    server: ServerProcess,
    link: FaultyLink | None,
    url: str,
    stats: Stats,
) -> Morning:
    before = _cpu_now(server)
    t0 = time.monotonic()
    stop_at = t0 + args.duration
    for phone in phones:
        phone.deadline = stop_at + 300
    quiet = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(server, quiet))
    killer = asyncio.create_task(every(args.kill_every, quiet, server.restart)) if args.kill_every else None
    outage = (
        asyncio.create_task(every(args.db_outage_every, quiet, lambda: database_outage(url, OUTAGE_SECONDS)))
        if args.db_outage_every
        else None
    )
    lives = [asyncio.create_task(guarded(p, monday(p, Worker(p, mix), stop_at, args), stats)) for p in phones]
    await asyncio.wait(lives, timeout=max(0.0, stop_at - time.monotonic()))
    stats.open = False
    elapsed = time.monotonic() - t0
    usage = _usage(before, _cpu_now(server), elapsed)

    # Calm: faults off, the server up, slow phones on wifi; each phone ends the cycle it is in.
    quiet.set()
    kills = await killer if killer else 0
    outages = await outage if outage else 0
    await sampler
    if link is not None:
        link.calm()
    if server.process is None or server.process.poll() is not None:
        await asyncio.to_thread(server.start)
    alive = await asyncio.gather(*lives)
    settled = max(p.ready_at for p in phones) if all(p.ready_at for p in phones) else stop_at
    return Morning(t0, elapsed, settled, kills, outages, sum(1 for ok in alive if not ok), usage)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="doorstep-load-") as tmp:
        folder = Path(tmp)
        url = fresh_database(args, folder)
        sizes = Sizes(args.households, args.residents, args.visits, args.demands)
        started = time.perf_counter()
        db = Database(url)
        county: County = seed(
            db, phones=args.phones, sizes=sizes, secret_key=SECRET, password=PASSWORD, rng_seed=args.seed
        )
        if args.fresh_phones:
            # A training day comes to a server that has been running: the reminders its jobs
            # would have sent by now are sent, not all written in the rush (docs/performance.md).
            with db.write() as s:
                remind(s)
        with db.read() as s:
            seed_version = versions.current(s)
        db.dispose()
        print(
            f"seeded {args.phones} grids × ({sizes.households} households, {sizes.residents} residents, "
            f"{sizes.visits} visits, {sizes.demands} dispatched requests) in {time.perf_counter() - started:.1f} s",
            flush=True,
        )

        env = {**os.environ, "DOORSTEP_DATA_DIR": str(folder), "DOORSTEP_DATABASE_URL": url}
        env["DOORSTEP_SECRET_KEY"] = SECRET
        jobs: JobsProcess | None = None
        if args.postgres:
            # A city's shape (docs/operations.md): app processes without jobs, one `doorstep worker`.
            jobs = JobsProcess(env=env, log_path=folder / "worker.log")
            env = {**env, "DOORSTEP_RUN_JOBS": "0"}
        server = ServerProcess(env=env, log_path=folder / "server.log", workers=args.workers)
        await asyncio.to_thread(server.start)
        if jobs is not None:
            jobs.start()
            server.companions.append(jobs)
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
        phones = [
            Phone(i, name, PASSWORD, base_url, stats, random.Random(rng.getrandbits(64)))
            for i, name in enumerate(county.usernames)
        ]
        if args.one_address:
            for phone in phones:
                phone.shared_address = phone_address(0)
        # Slow links are chosen by source address, so behind one address there are none.
        chosen = [] if args.one_address or not link else rng.sample(phones, round(args.slow * len(phones)))
        slow = {p.address for p in chosen}
        for phone in phones:
            phone.open()
            phone.deadline = time.monotonic() + 900

        # Friday (sessions last 30 days: Monday needs no sign-in).
        started = time.monotonic()
        old = [p for p in phones if not is_fresh(p, args)]
        stopped = await at_most(FRIDAY_AT_ONCE, old, friday, stats)
        friday_s = time.monotonic() - started
        print(
            f"Friday: {len(old)} phones signed in and pulled their grids ({FRIDAY_AT_ONCE} at a time) "
            f"in {friday_s:.1f} s; {args.fresh_phones} new phones wait for 8:00",
            flush=True,
        )
        if link is not None:
            link.slow = set(slow)
        print(
            f"Monday 8:00: {args.phones} phones open the app within {args.arrival:g} s and sync every "
            f"~{args.think:g} s for {args.duration:g} s, on {'PostgreSQL' if args.postgres else 'SQLite'} "
            f"({args.workers} app process{'es' if args.workers > 1 else ''}"
            f"{' and a doorstep worker' if jobs else ', jobs inside'}); faults: drop {args.drop:.0%}, "
            f"SIGKILL every {args.kill_every:g} s, database outage every {args.db_outage_every:g} s, "
            f"{len(slow)} slow phones",
            flush=True,
        )
        mix = Mix(photo_rate=args.photo_rate, bad_rate=args.bad_rate, consent_version=consent)
        morning = await the_morning(args, phones, mix, server, link, url, stats)

        for phone in phones:
            phone.deadline = time.monotonic() + 300
        unsynced = await at_most(SETTLE_AT_ONCE, phones, finish, stats)
        converged: list[bool] = []

        async def compare(phone: Phone) -> None:
            fresh = await phone.fresh_copy()
            converged.append(fresh == phone.store)
            if fresh != phone.store:
                print(
                    f"  ! {phone.username} did not converge: {differences(phone.store, fresh)}",
                    file=sys.stderr,
                )

        signed = [p for p in phones if p.user is not None]
        await at_most(SETTLE_AT_ONCE, signed, compare, stats)
        unconverged = len(phones) - sum(converged)
        server.sample_rss()
        for phone in phones:
            await phone.close()
        if link is not None:
            await link.close()
        server.stop()
        if jobs is not None:
            jobs.stop()

        db = Database(url)
        report = verify(db, phones, seeded=county.counts, seed_version=seed_version, unconverged=unconverged)
        db.dispose()
    if args.samples:
        with open(args.samples, "w") as out:
            out.write("op,at_s,wall_ms,server_ms\n")
            for op, samples in sorted(stats.latencies.items()):
                out.writelines(
                    f"{op},{at - morning.t0:.3f},{wall * 1000:.1f},{ms:.1f}\n" for at, wall, ms in samples
                )
    figures = figures_of(
        args,
        sizes=sizes,
        stats=stats,
        morning=morning,
        friday_s=friday_s,
        slow_phones=len(slow),
        dropped=link.dropped if link else 0,
        early_exits=server.early_exits,
        rss_max_mb=server.rss_max_kb / 1024,
        stopped=morning.stopped + sum(1 for ok in stopped + unsynced if not ok),
        records_per_phone=sum(len(p.store) for p in phones) / max(1, len(phones)),
        first_syncs=[p.first_sync_s for p in phones if is_fresh(p, args)],
        report=report,
    )
    print_report(figures, report)
    return figures


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
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
