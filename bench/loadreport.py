"""The load suite's figures: percentiles, throughput, errors, machine load, as a dict and as text."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from typing import Any

from county import Sizes
from phone import Stats
from verify import Report

TARGET_PUSH_P99_MS = 1000
TARGET_PULL_P99_MS = 300
TARGET_FIRST_SYNC_P95_S = 30.0  # a training day: new phones, sign-in → grid complete (issue 23)
FAULTS = ("drop", "kill_every", "db_outage_every", "slow_phones")


def percentiles(samples: list[tuple[float, float, float]], since: float, until: float) -> dict[str, float]:
    """p50/p95/p99/max of the phones' wall time, and p50/p99 of the server's own time, in ms."""
    walls = sorted(seconds * 1000 for at, seconds, _ in samples if since <= at <= until)
    servers = sorted(ms for at, _, ms in samples if since <= at <= until and ms == ms)
    if not walls:
        return {"n": 0}

    def q(ordered: list[float], fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")

    return {
        "n": len(walls),
        "p50_ms": q(walls, 0.50),
        "p95_ms": q(walls, 0.95),
        "p99_ms": q(walls, 0.99),
        "max_ms": walls[-1],
        "server_p50_ms": q(servers, 0.50),
        "server_p99_ms": q(servers, 0.99),
    }


def training_day(first_syncs: list[float], errors: dict[str, int], faults: bool) -> dict[str, Any]:
    """New phones at 8:00 sharp: seconds from sign-in to grid complete (0 for one that never got there)."""
    done = sorted(s for s in first_syncs if s > 0)

    def q(fraction: float) -> float:
        return done[min(len(done) - 1, int(fraction * len(done)))] if done else float("nan")

    on_the_way = sum(n for kind, n in errors.items() if kind.startswith(("login", "first pull")))
    met = bool(done) and len(done) == len(first_syncs) and q(0.95) <= TARGET_FIRST_SYNC_P95_S
    return {
        "phones": len(first_syncs),
        "completed": len(done),
        "p50_s": q(0.50),
        "p95_s": q(0.95),
        "max_s": done[-1] if done else float("nan"),
        "errors": on_the_way,
        "met": met and (faults or on_the_way == 0),
        "judged": not faults,  # with faults on, errors are the point: the figures are only shown
    }


def figures_of(
    args: argparse.Namespace,
    *,
    sizes: Sizes,
    stats: Stats,
    morning: Any,
    friday_s: float,
    slow_phones: int,
    dropped: int,
    early_exits: int,
    rss_max_mb: float,
    stopped: int,
    records_per_phone: float,
    first_syncs: list[float],
    report: Report,
) -> dict[str, Any]:
    t0, elapsed = morning.t0, morning.elapsed
    end = t0 + elapsed
    ops = sorted(stats.latencies.items())
    faulty = any((args.drop, args.kill_every, args.db_outage_every, slow_phones))
    training = training_day(first_syncs, dict(stats.errors), faulty) if first_syncs else None
    return {
        "database": "postgresql" if args.postgres else "sqlite",
        "workers": args.workers,
        "jobs": "doorstep worker" if args.postgres else "inside the app process",
        "phones": args.phones,
        "duration_s": round(elapsed, 1),
        "arrival_s": args.arrival,
        "think_s": args.think,
        "fresh_phones": args.fresh_phones,
        "training_day": training,
        "sizes": asdict(sizes),
        "records_per_phone": round(records_per_phone),
        "friday_s": friday_s,
        "friday": {op: percentiles(samples, 0, t0) for op, samples in ops if op in ("login", "first pull")},
        "faults": {
            "drop": args.drop,
            "kill_every": args.kill_every,
            "db_outage_every": args.db_outage_every,
            "slow_phones": slow_phones,
            "responses_dropped": dropped,
            "kills": morning.kills,
            "outages": morning.outages,
            "starts_refused": early_exits,
        },
        "throughput": {
            "mutations_per_s": stats.counts["mutations"] / elapsed,
            "pulls_per_s": stats.counts["pulls"] / elapsed,
            "photos_per_s": stats.counts["photos"] / elapsed,
            "mutations": stats.counts["mutations"],
            "pulls": stats.counts["pulls"],
            "photos": stats.counts["photos"],
            "replayed_results": stats.counts["replays"],
        },
        "latency": {op: percentiles(samples, t0, end) for op, samples in ops},
        "settled_after_s": morning.settled - t0,
        "latency_settled": {op: percentiles(samples, morning.settled, end) for op, samples in ops},
        "errors": dict(stats.errors),
        "errors_after": dict(stats.late_errors),
        "phones_stopped": stopped,
        "server_rss_max_mb": rss_max_mb,
        "machine": {"cores": os.cpu_count(), **morning.usage, "loadavg_after": os.getloadavg()},
        "verification": report.as_dict(),
        "ok": report.ok and not stopped and (training is None or not training["judged"] or training["met"]),
    }


def _row(op: str, p: dict[str, float]) -> str:
    return (
        f"  {op:<10} n={p['n']:>7,}  p50 {p['p50_ms']:7.1f}  p95 {p['p95_ms']:7.1f}  p99 {p['p99_ms']:7.1f}  "
        f"max {p['max_ms']:8.1f} ms   (server p50 {p['server_p50_ms']:6.1f}, p99 {p['server_p99_ms']:6.1f} ms)"
    )


def print_report(f: dict[str, Any], report: Report) -> None:
    t, m, faults = f["throughput"], f["machine"], f["faults"]
    print(
        f"\n== load: {f['phones']} phones on {f['database']} ({f['workers']} app process(es), jobs {f['jobs']}), "
        f"{f['duration_s']:.0f} s from 8:00, arrival within {f['arrival_s']:g} s, a sync every ~{f['think_s']:g} s, "
        f"{f['records_per_phone']:,} records per phone =="
    )
    print(f"Friday ({f['friday_s']:.1f} s):")
    for op, p in f["friday"].items():
        if p["n"]:
            print(_row(op, p))
    print(
        f"throughput: {t['mutations_per_s']:,.1f} mutations/s ({t['mutations']:,}), "
        f"{t['pulls_per_s']:,.1f} pulls/s ({t['pulls']:,}), {t['photos_per_s']:.1f} photos/s of 200 KB"
    )
    print("latency from 8:00 (the phone's wall time; the server's own time from Server-Timing):")
    for op, p in f["latency"].items():
        if p["n"]:
            print(_row(op, p))
    if f["settled_after_s"] < f["duration_s"]:
        print(f"latency once every phone had synced once ({f['settled_after_s']:.0f} s after 8:00):")
        for op, p in f["latency_settled"].items():
            if p["n"] and op in ("push", "pull", "upload"):
                print(_row(op, p))
    else:
        print("(not every phone finished a sync before the end: no figures for after the rush)")
    errors = sum(f["errors"].values())
    print(
        f"errors during the run: {errors:,} {json.dumps(f['errors'], ensure_ascii=False) if errors else ''}"
    )
    if f["errors_after"]:
        print(f"errors while settling after the run: {json.dumps(f['errors_after'], ensure_ascii=False)}")
    print(
        f"faults: {faults['responses_dropped']} push responses cut after commit, {faults['kills']} SIGKILLs, "
        f"{faults['outages']} database outages ({faults['starts_refused']} server starts exited while the "
        f"database was away and were started again), {faults['slow_phones']} slow phones; "
        f"{t['replayed_results']:,} results answered as replays"
    )
    if (day := f["training_day"]) is not None:
        verdict = ("met" if day["met"] else "NOT met") if day["judged"] else "not judged: faults on"
        print(
            f"training day: {day['phones']} new phones signed in and took their first full pull at 8:00 sharp; "
            f"{day['completed']} completed; sign-in → grid complete p50 {day['p50_s']:.1f} s, "
            f"p95 {day['p95_s']:.1f} s, max {day['max_s']:.1f} s; {day['errors']} errors on the way "
            f"(goal: p95 ≤ {TARGET_FIRST_SYNC_P95_S:g} s, 0 errors): {verdict}"
        )
    print(f"server RSS max {f['server_rss_max_mb']:.0f} MB (all its processes)")
    print(
        f"CPU during the run, in cores of {m['cores']}: machine {m['machine_cores_busy']:.2f} busy = server "
        f"{m['server_cores']:.2f} + this script {m['load_generator_cores']:.2f} + everything else "
        f"{m['other_cores']:.2f}{' (PostgreSQL among it)' if f['database'] == 'postgresql' else ''}"
    )
    if not any(faults[k] for k in FAULTS):
        push, pull = f["latency"].get("push", {}), f["latency"].get("pull", {})
        met = (
            errors == 0
            and push.get("p99_ms", 0) <= TARGET_PUSH_P99_MS
            and pull.get("p99_ms", 0) <= TARGET_PULL_P99_MS
        )
        print(
            f"targets without faults: errors {errors} (0), p99 push {push.get('p99_ms', 0):.0f} ms "
            f"(≤ {TARGET_PUSH_P99_MS}), p99 incremental pull {pull.get('p99_ms', 0):.0f} ms "
            f"(≤ {TARGET_PULL_P99_MS}): {'met' if met else 'NOT met'}"
        )
    for line in report.lines():
        print(line)
    print("RESULT:", "ok" if f["ok"] else "FAILED")
