"""Memory of concurrent first pulls: RSS the server adds while 16 phones each take the first
pull of a 10,000-record grid at the same moment (issue 23: ≤ 60 MB added).

    .venv/bin/python bench/pull_memory.py                 # SQLite
    .venv/bin/python bench/pull_memory.py --postgres URL  # the same on PostgreSQL

The server is `doorstep serve`'s app under one uvicorn process (bench/sync_bench.py's
`Server`). Its RSS is read from /proc: once it is up, after one warm-up first pull (the
statements, caches and allocator arenas a single pull needs), and its peak (`VmHWM`, reset
through `clear_refs` after the warm-up, and sampled every 5 ms as a check) while the
concurrent pulls run. "Added" is the peak less the RSS after the warm-up.

Prints numbers, never asserts: the target is in docs/performance.md.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from sync_bench import PASSWORD, Server, fresh_database, seed_grid

PHONES = 16
MB = 1024 * 1024


def status(pid: int, field: str) -> int:
    """A `Vm…` line of /proc/PID/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def signed_in(url: str, encoding: str) -> httpx.Client:
    http = httpx.Client(base_url=url, timeout=300, headers={"Accept-Encoding": encoding})
    http.post("/sync/login", json={"username": "bw1", "password": PASSWORD}).raise_for_status()
    return http


def first_pull(http: httpx.Client) -> tuple[int, int]:
    """One new phone, signed in: pull every page. (changes, bytes on the wire)."""
    try:
        client_id, cursor, changes, wire = str(uuid.uuid4()), None, 0, 0
        while True:
            response = http.post("/sync/pull", json={"protocol": 1, "client_id": client_id, "cursor": cursor})
            response.raise_for_status()
            wire += response.num_bytes_downloaded
            body = response.json()
            changes += len(body["changes"])
            cursor = body["cursor"]
            if not body["more"]:
                return changes, wire
    finally:
        http.close()


def concurrent(server: Server, phones: int, encoding: str) -> dict[str, float]:
    pid = server.process.pid
    before = status(pid, "VmRSS")
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    gate = threading.Barrier(phones)
    # Signed in beforehand, one after the other: each sign-in's argon2 check takes 19 MiB
    # for a moment, which is the login's memory, not the pull's.
    clients = [signed_in(server.url, encoding) for _ in range(phones)]
    before = status(pid, "VmRSS")

    def phone(http: httpx.Client) -> None:
        try:
            gate.wait()
            results.append(first_pull(http))
        except BaseException as exc:  # counted and printed, never hidden
            errors.append(exc)

    hwm_reset = reset_peak(pid)
    sampled = before
    threads = [threading.Thread(target=phone, args=(http,)) for http in clients]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        sampled = max(sampled, status(pid, "VmRSS"))
        time.sleep(0.005)
    seconds = time.perf_counter() - wall
    peak = max(sampled, status(pid, "VmHWM")) if hwm_reset else sampled
    return {
        "before": before,
        "peak": peak,
        "sampled": sampled,
        "after": status(pid, "VmRSS"),
        "seconds": seconds,
        "changes": min(r[0] for r in results) if results else 0,
        "wire": sum(r[1] for r in results),
        "ok": len(results),
        "errors": len(errors),
        "hwm": hwm_reset,
    }


def run(label: str, postgres: str | None, phones: int, encoding: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = fresh_database(postgres, folder)
        seed_grid(db, visits=7500)  # 500 + 1,500 + 7,500 + 500 = 10,000 records, as the issue sizes a grid
        db.dispose()
        server = Server(postgres or f"sqlite:///{folder / 'bench.sqlite3'}", folder)
        try:
            pid = server.process.pid
            started = status(pid, "VmRSS")
            changes, _ = first_pull(signed_in(server.url, encoding))
            warm = status(pid, "VmRSS")
            one = concurrent(server, 1, encoding)
            many = concurrent(server, phones, encoding)
        finally:
            server.stop()
    print(f"\n== {label}: {phones} concurrent first pulls of {changes:,} changes each ({encoding}) ==")
    print(
        f"server RSS: {started / MB:.1f} MB started, {warm / MB:.1f} MB after one warm-up first pull "
        f"(+{(warm - started) / MB:.1f} MB)"
    )
    print(
        f"one more first pull: peak {one['peak'] / MB:.1f} MB, added {(one['peak'] - one['before']) / MB:.1f} MB, "
        f"{one['seconds'] * 1000:.0f} ms"
    )
    added = (many["peak"] - many["before"]) / MB
    print(
        f"{phones} at once: peak {many['peak'] / MB:.1f} MB (sampled every 5 ms {many['sampled'] / MB:.1f} MB"
        f"{'' if many['hwm'] else '; VmHWM could not be reset'}), RSS after {many['after'] / MB:.1f} MB; "
        f"{many['ok']} complete ({many['changes']:,} changes each), {many['errors']} errors, "
        f"{many['seconds']:.1f} s wall, {many['wire'] / MB:.1f} MB on the wire in all"
    )
    print(
        f"RSS added by {phones} concurrent first pulls: {added:.1f} MB, {added / phones:.1f} MB a phone"
        f"   (target ≤ 60 MB: {'met' if added <= 60 else 'missed'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (its public schema is dropped!)")
    parser.add_argument("--only-postgres", action="store_true")
    parser.add_argument("--phones", type=int, default=PHONES)
    parser.add_argument(
        "--encoding", default="br", help="Accept-Encoding of the phones (br, as Chromium asks)"
    )
    args = parser.parse_args()
    if not args.only_postgres:
        run("SQLite", None, args.phones, args.encoding)
    if args.postgres:
        run("PostgreSQL", args.postgres, args.phones, args.encoding)


if __name__ == "__main__":
    main()
