"""Doorstep against a CouchDB-protocol peer: npm `pouchdb-server` on LevelDB, one fdatasync
per request (issue 23), the same work interleaved batch by batch in one run.

    .venv/bin/python bench/peer_bench.py                 # Doorstep on SQLite
    .venv/bin/python bench/peer_bench.py --postgres URL  # Doorstep on PostgreSQL (schema dropped!)

The peer is installed with `npm install --prefix` into a scratch folder outside the
repository (`--peer-dir`, default /tmp/doorstep-peer) and started there. PouchDB's LevelDB
adapter writes each `_bulk_docs` as one LevelDB batch without `sync`; CouchDB itself fsyncs
before it answers a write (no `delayed_commits` since 3.0), so the bench gives the peer a LevelDOWN
wrapper (`syncdown.js`, written into the scratch folder) that asks every write for
`sync: true`, which LevelDB 1.20 turns into one fdatasync of its log. The bench counts
the peer's fsync/fdatasync calls over a few pushes with `strace -f -c` (when strace is
there) and prints them.

Both sides hold the same grid: the 10,000 records of `seed_grid(visits=7500)`, put into the
peer as the very `data` of Doorstep's first pull (one document per record, `_id`
`type:id`), so both send the same fields. The peer holds only that grid: it filters
nothing, where Doorstep reads the caller's scope.

- push: 59 batches of 100 visits after a warm-up batch, one client, each answered
  before the next: Doorstep `/sync/push` with `visit.record`s, the peer `_bulk_docs`;
  the two alternate batch by batch, the first of each pair rotating;
- first pull: every page, Doorstep `/sync/pull` (2,000 changes a page) and the peer's
  `_changes?include_docs=true&limit=2000` from `since=0` (the cheapest way to read a
  database from CouchDB's protocol: the replication protocol adds `_revs_diff` and
  `_bulk_get` rounds), wall time on the client, 5 rounds alternating;
- wire bytes of a first pull as a phone asks (`Accept-Encoding: gzip, deflate, br`,
  Chromium's) and with gzip only;
- empty pull: the next pull with nothing new, wall time, median of 50 alternating.

Prints numbers and the goals met or missed, never asserts: targets are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sync_bench import BATCH, PASSWORD, Server, free_port, fresh_database, seed_grid, wait_until_up

PEER_PACKAGE = "pouchdb-server@4.2.0"
PUSH_BATCHES = 60
PULL_ROUNDS = 5
EMPTY_ROUNDS = 50
PAGE = 2000
PHONE_ENCODING = "gzip, deflate, br"

# Every write of the peer's LevelDB with `sync: true`: put, del, array batch, chained batch.
SYNCDOWN = """'use strict';
// Written by bench/peer_bench.py: LevelDOWN with every write synced (fdatasync of the log).
var leveldown = require('leveldown');
function synced(options) { return Object.assign({}, options, { sync: true }); }
module.exports = function SyncDown(location) {
  var db = leveldown(location);
  var put = db._put, del = db._del, batch = db._batch, chained = db._chainedBatch;
  db._put = function (key, value, options, callback) { return put.call(this, key, value, synced(options), callback); };
  db._del = function (key, options, callback) { return del.call(this, key, synced(options), callback); };
  db._batch = function (operations, options, callback) { return batch.call(this, operations, synced(options), callback); };
  db._chainedBatch = function () {
    var b = chained.call(this), write = b._write;
    b._write = function (options, callback) { return write.call(this, synced(options), callback); };
    return b;
  };
  return db;
};
"""


def install_peer(folder: Path) -> Path:
    """pouchdb-server, pinned, in `folder` (never in the repository); its binary."""
    binary = folder / "node_modules" / ".bin" / "pouchdb-server"
    if not binary.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(folder), "--no-audit", "--no-fund", PEER_PACKAGE],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    (folder / "syncdown.js").write_text(SYNCDOWN)
    return binary


class Peer:
    def __init__(self, binary: Path, folder: Path, data: Path) -> None:
        self.port = free_port()
        data.mkdir(parents=True, exist_ok=True)
        # The custom backend is given bare database names: they live in the working folder.
        command = [str(binary), "--port", str(self.port), "--dir", str(data), "--no-stdout-logs"]
        command += ["--config", str(data / "config.json"), "--level-backend", str(folder / "syncdown.js")]
        env = {**os.environ, "NODE_PATH": str(folder / "node_modules")}
        self.process = subprocess.Popen(
            command, cwd=data, env=env, start_new_session=True, stdout=subprocess.DEVNULL
        )
        self.url = f"http://127.0.0.1:{self.port}"
        wait_until_up(f"{self.url}/", seconds=60, name="pouchdb-server")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=15)


def doorstep_first_pull(http: httpx.Client) -> tuple[int, int, list[dict[str, Any]]]:
    client_id, cursor, wire, changes = str(uuid.uuid4()), None, 0, []
    while True:
        response = http.post("/sync/pull", json={"protocol": 1, "client_id": client_id, "cursor": cursor})
        response.raise_for_status()
        wire += response.num_bytes_downloaded
        body = response.json()
        changes += body["changes"]
        cursor = body["cursor"]
        if not body["more"]:
            return wire, len(changes), changes


def doorstep_cursor(http: httpx.Client) -> tuple[str, str]:
    client_id, cursor = str(uuid.uuid4()), None
    while True:
        body = http.post("/sync/pull", json={"protocol": 1, "client_id": client_id, "cursor": cursor}).json()
        cursor = body["cursor"]
        if not body["more"]:
            return client_id, cursor


def peer_first_pull(http: httpx.Client) -> tuple[int, int, Any]:
    since: Any = 0
    wire = count = 0
    while True:
        response = http.get(
            "/grid/_changes", params={"include_docs": "true", "limit": str(PAGE), "since": str(since)}
        )
        response.raise_for_status()
        wire += response.num_bytes_downloaded
        body = response.json()
        count += len(body["results"])
        since = body["last_seq"]
        if len(body["results"]) < PAGE:
            return wire, count, since


def load_peer(peer: Peer, changes: list[dict[str, Any]]) -> None:
    with httpx.Client(base_url=peer.url, timeout=300) as http:
        http.put("/grid").raise_for_status()
        docs = [
            {"_id": f"{c['type']}:{c['id']}", "type": c["type"], "version": c["version"], **c.get("data", {})}
            for c in changes
            if c["op"] == "put"
        ]
        for start in range(0, len(docs), 1000):
            response = http.post("/grid/_bulk_docs", json={"docs": docs[start : start + 1000]})
            response.raise_for_status()
            assert all("ok" in r for r in response.json()), response.text[:300]


def fsyncs_per_request(peer: Peer, household_ids: list[Any], worker_id: str, requests: int = 20) -> str:
    """The peer's fsync-family system calls over `requests` pushes of one visit, by strace."""
    if not shutil.which("strace"):
        return "strace not installed: not counted"
    out = Path(tempfile.mkstemp(suffix=".strace")[1])
    traced = "trace=fsync,fdatasync,sync_file_range,msync"
    tracer = subprocess.Popen(
        ["strace", "-f", "-c", "-e", traced, "-o", str(out), "-p", str(peer.process.pid)],
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    with httpx.Client(base_url=peer.url, timeout=60) as http:
        for n in range(requests):
            doc = peer_visit(str(uuid.uuid4()), str(household_ids[n]), worker_id)
            http.post("/grid/_bulk_docs", json={"docs": [doc]}).raise_for_status()
    time.sleep(0.5)
    tracer.send_signal(signal.SIGINT)
    tracer.wait(timeout=15)
    text = out.read_text()
    out.unlink()
    calls = {
        m[1]: int(m[0])
        for m in re.findall(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", text, re.M)
    }
    calls.pop("total", None)
    if not calls:
        return f"strace counted nothing ({text.strip()[:200]!r})"
    shown = ", ".join(f"{name} {count / requests:.2f}" for name, count in sorted(calls.items()))
    return f"per _bulk_docs request, over {requests}: {shown}"


def peer_visit(visit_id: str, household: str, worker_id: str) -> dict[str, Any]:
    return {
        "_id": f"visit:{visit_id}",
        "type": "visit",
        "household_id": household,
        "worker_id": worker_id,
        "purpose": "routine",
        "outcome": "completed",
        "notes": "基准测试走访",
        "photos": [],
        "at": datetime.now(UTC).isoformat(),
    }


def alternate(systems: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    """Each system once a round, the first of the round rotating; seconds per call."""
    spent: dict[str, list[float]] = {name: [] for name in systems}
    names = list(systems)
    for n in range(rounds):
        for name in names[n % len(names) :] + names[: n % len(names)]:
            start = time.perf_counter()
            systems[name]()
            spent[name].append(time.perf_counter() - start)
    return spent


def bench_push(server: Server, peer: Peer, household_ids: list[Any], worker_id: str) -> dict[str, float]:
    headers = {"Content-Type": "application/json"}
    with (
        httpx.Client(base_url=server.url, timeout=60) as http,
        httpx.Client(base_url=peer.url, timeout=60) as bare,
    ):
        http.post("/sync/login", json={"username": "bw1", "password": PASSWORD}).raise_for_status()
        client_id = str(uuid.uuid4())
        batches = []
        next_id = 1
        for _ in range(PUSH_BATCHES):
            mutations, docs = [], []
            for _ in range(BATCH):
                visit_id = str(uuid.uuid4())
                household = str(household_ids[next_id % len(household_ids)])
                doc = peer_visit(visit_id, household, worker_id)
                args = {
                    "visit_id": visit_id,
                    "household_id": household,
                    "purpose": "routine",
                    "outcome": "completed",
                    "notes": "基准测试走访",
                }
                mutations.append({"id": next_id, "name": "visit.record", "at": doc["at"], "args": args})
                docs.append(doc)
                next_id += 1
            body = json.dumps({"protocol": 1, "client_id": client_id, "mutations": mutations}).encode()
            batches.append((body, next_id - 1, json.dumps({"docs": docs}).encode()))
        place = {"n": 0}

        def doorstep() -> None:
            body, last, _ = batches[place["n"]]
            response = http.post("/sync/push", content=body, headers=headers)
            response.raise_for_status()
            reply = response.json()
            assert reply["last_mutation_id"] == last
            assert all(r["status"] == "applied" for r in reply["results"]), reply["results"][:3]

        def couch() -> None:
            response = bare.post("/grid/_bulk_docs", content=batches[place["n"]][2], headers=headers)
            response.raise_for_status()
            assert all("ok" in r for r in response.json()), response.text[:300]

        systems = {"doorstep": doorstep, "peer": couch}
        spent = {"doorstep": 0.0, "peer": 0.0}
        for run in systems.values():
            run()  # warm-up, not counted
        for n in range(1, PUSH_BATCHES):
            place["n"] = n
            names = list(systems)
            for name in names[n % 2 :] + names[: n % 2]:
                start = time.perf_counter()
                systems[name]()
                spent[name] += time.perf_counter() - start
    counted = (PUSH_BATCHES - 1) * BATCH
    return {name: counted / seconds for name, seconds in spent.items()}


def bench_pulls(server: Server, peer: Peer) -> dict[str, Any]:
    phone = {"Accept-Encoding": PHONE_ENCODING}
    with (
        httpx.Client(base_url=server.url, timeout=120, headers=phone) as http,
        httpx.Client(base_url=peer.url, timeout=120, headers=phone) as bare,
    ):
        http.post("/sync/login", json={"username": "bw1", "password": PASSWORD}).raise_for_status()
        counts: dict[str, int] = {}
        wires: dict[str, int] = {}

        def doorstep() -> None:
            wires["doorstep"], counts["doorstep"], _ = doorstep_first_pull(http)

        def couch() -> None:
            wires["peer"], counts["peer"], _ = peer_first_pull(bare)

        doorstep()
        couch()  # warm-up of both (statements, caches, the peer's view of its sequence)
        firsts = alternate({"doorstep": doorstep, "peer": couch}, PULL_ROUNDS)
        http.headers["Accept-Encoding"] = bare.headers["Accept-Encoding"] = "gzip"
        gzip_wire = {"doorstep": doorstep_first_pull(http)[0], "peer": peer_first_pull(bare)[0]}
        http.headers["Accept-Encoding"] = bare.headers["Accept-Encoding"] = PHONE_ENCODING

        client_id, cursor = doorstep_cursor(http)
        _, _, since = peer_first_pull(bare)

        def doorstep_empty() -> None:
            body = http.post(
                "/sync/pull", json={"protocol": 1, "client_id": client_id, "cursor": cursor}
            ).json()
            assert body["changes"] == [] and not body["more"], body

        def couch_empty() -> None:
            params = {"include_docs": "true", "limit": str(PAGE), "since": str(since)}
            body = bare.get("/grid/_changes", params=params).json()
            assert body["results"] == [], body

        empties = alternate({"doorstep": doorstep_empty, "peer": couch_empty}, EMPTY_ROUNDS)
    return {"firsts": firsts, "counts": counts, "wire": wires, "gzip_wire": gzip_wire, "empties": empties}


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def run(label: str, postgres: str | None, peer_dir: Path) -> None:
    binary = install_peer(peer_dir)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = fresh_database(postgres, folder)
        data = seed_grid(db, visits=7500)  # 10,000 records: 500 + 1,500 + 7,500 + 500
        db.dispose()
        server = Server(postgres or f"sqlite:///{folder / 'bench.sqlite3'}", folder)
        peer = None
        try:
            with httpx.Client(base_url=server.url, timeout=120) as http:
                http.post("/sync/login", json={"username": "bw1", "password": PASSWORD}).raise_for_status()
                _, _, changes = doorstep_first_pull(http)
            peer = Peer(binary, peer_dir, folder / "peer")
            load_peer(peer, changes)
            pulls = bench_pulls(server, peer)
            rates = bench_push(server, peer, data["household_ids"], data["worker_id"])
            fsyncs = fsyncs_per_request(peer, data["household_ids"], data["worker_id"])
        finally:
            server.stop()
            if peer is not None:
                peer.stop()
    first = {name: statistics.median(s) * 1000 for name, s in pulls["firsts"].items()}
    empty = {name: statistics.median(s) * 1000 for name, s in pulls["empties"].items()}
    wire, gz = pulls["wire"], pulls["gzip_wire"]
    push_ratio = rates["doorstep"] / rates["peer"]
    print(f"\n== {label}: Doorstep against {PEER_PACKAGE} (LevelDB, every write synced) ==")
    print(f"peer fsyncs: {fsyncs}")
    print(
        f"push, {PUSH_BATCHES - 1} batches of {BATCH} visits, alternating: Doorstep {rates['doorstep']:,.0f} rows/s, "
        f"peer _bulk_docs {rates['peer']:,.0f} rows/s; Doorstep ÷ peer {push_ratio:.2f}×   "
        f"(goal ≥ 1.0×, stretch 1.5×: {verdict(push_ratio >= 1.0)})"
    )
    ratio = first["doorstep"] / first["peer"]
    print(
        f"first pull, median of {PULL_ROUNDS} alternating: Doorstep {first['doorstep']:.0f} ms "
        f"({pulls['counts']['doorstep']:,} changes), peer _changes {first['peer']:.0f} ms "
        f"({pulls['counts']['peer']:,} docs); Doorstep ÷ peer {ratio:.2f}× time, "
        f"{1 / ratio:.2f}× faster   (goal ≥ 2× faster: {verdict(ratio <= 0.5)})"
    )
    wire_ratio = wire["doorstep"] / wire["peer"]
    print(
        f"first pull on the wire as a phone asks ({PHONE_ENCODING}): Doorstep {wire['doorstep'] / 1e6:.3f} MB, "
        f"peer {wire['peer'] / 1e6:.3f} MB; Doorstep ÷ peer {wire_ratio:.2f}×   (goal ≤ 0.7×: {verdict(wire_ratio <= 0.7)}); "
        f"gzip only: {gz['doorstep'] / 1e6:.3f} vs {gz['peer'] / 1e6:.3f} MB = {gz['doorstep'] / gz['peer']:.2f}×"
    )
    empty_ratio = empty["doorstep"] / empty["peer"]
    print(
        f"empty pull, median of {EMPTY_ROUNDS} alternating: Doorstep {empty['doorstep']:.2f} ms, peer {empty['peer']:.2f} ms; "
        f"Doorstep ÷ peer {empty_ratio:.2f}×   (goal ≤ 1.0×: {verdict(empty_ratio <= 1.0)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres", help="also run Doorstep on this PostgreSQL URL (its public schema is dropped!)"
    )
    parser.add_argument("--only-postgres", action="store_true")
    parser.add_argument("--peer-dir", type=Path, default=Path("/tmp/doorstep-peer"))
    args = parser.parse_args()
    if Path(args.peer_dir).resolve().is_relative_to(Path(__file__).resolve().parent.parent):
        sys.exit("--peer-dir must be outside the repository")
    if not args.only_postgres:
        run("SQLite", None, args.peer_dir)
    if args.postgres:
        run("PostgreSQL", args.postgres, args.peer_dir)


if __name__ == "__main__":
    main()
