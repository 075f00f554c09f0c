"""An asyncio phone for the load suite: the rules of `sync/client.py`, over `httpx.AsyncClient`.

The same outbox, results, local store and cursor as `sync.client.Client`
(SYNC.md): an entry stays queued until its result is known, so a push whose
response was lost is sent again and answered as a replay (rule 3); a `reset`
drops the local copy, never the outbox (rule 11); `last_mutation_id` is
acknowledged from pushes and pulls alike (rule 13). What it adds is what a
phone in a stairwell needs: transport errors, 502/503/504 and 429 are retried
with exponential backoff and jitter, honouring `Retry-After`; a 401 signs in
again; any other refusal is a bug and stops the phone (`Refused`).

Each phone binds its own loopback address (127.0.x.y), so the server's
per-IP login limit sees 500 phones, as it would in the field.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import struct
import time
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0


class Refused(Exception):
    """The server refused a request as a whole (4xx other than 401/429): a bug, not a fault."""

    def __init__(self, op: str, status: int, body: str) -> None:
        super().__init__(f"{op}: {status} {body[:300]}")
        self.status = status


class GaveUp(Exception):
    """The phone's deadline passed while it was still retrying."""


def phone_address(index: int) -> str:
    """127.0.2.1, 127.0.2.2, …: one source address per phone (loopback /8 on Linux)."""
    return f"127.0.{2 + index // 250}.{1 + index % 250}"


@dataclass
class Stats:
    """Shared by every phone: latencies per operation, errors by kind, throughput counters.

    Only what happens while `open` counts towards the run's figures; the final
    drain and the verification afterwards are not load.
    """

    open: bool = True
    # op -> (when it ended, seconds on the phone, milliseconds the server says it spent: Server-Timing)
    latencies: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    late_errors: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)

    def took(self, op: str, seconds: float, server_ms: float = float("nan")) -> None:
        if self.open:
            self.latencies.setdefault(op, []).append((time.monotonic(), seconds, server_ms))

    def error(self, kind: str) -> None:
        (self.errors if self.open else self.late_errors)[kind] += 1

    def count(self, what: str, n: int = 1) -> None:
        if self.open:
            self.counts[what] += n


def png(seed: int, size: int = 200 * 1024) -> bytes:
    """A distinct, valid PNG of about `size` bytes: random RGB pixels, stored uncompressed."""
    width = 256
    height = max(1, size // (width * 3 + 1))
    noise = random.Random(seed).randbytes(height * width * 3)
    rows = b"".join(b"\x00" + noise[y * width * 3 : (y + 1) * width * 3] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 0))
        + chunk(b"IEND", b"")
    )


@dataclass
class Photo:
    seed: int
    sha256: str


def new_photo(rng: random.Random) -> Photo:
    seed = rng.getrandbits(63)
    return Photo(seed, hashlib.sha256(png(seed)).hexdigest())


@dataclass
class Phone:
    index: int
    username: str
    password: str
    base_url: str
    stats: Stats
    rng: random.Random
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    next_id: int = 1
    outbox: list[dict[str, Any]] = field(default_factory=list)
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    store: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    cursor: str | None = None
    last_mutation_id: int = 0
    user: dict[str, Any] | None = None
    # Every mutation ever queued, by id, with what the verifier needs to know about it.
    sent: dict[int, dict[str, Any]] = field(default_factory=dict)
    photos_waiting: list[Photo] = field(default_factory=list)
    photos_uploaded: set[str] = field(default_factory=set)
    deadline: float = float("inf")
    ready_at: float = 0.0  # when its first sync of the morning was done
    first_sync_s: float = 0.0  # a new phone: seconds from signing in to its grid complete
    http: httpx.AsyncClient | None = None
    # Client ids of the full pulls made to check convergence: each registers a client (rule 1).
    fresh_client_ids: list[str] = field(default_factory=list)
    shared_address: str = ""  # all phones behind one address (a carrier's NAT, a training room)

    @property
    def address(self) -> str:
        return self.shared_address or phone_address(self.index)

    def open(self) -> None:
        transport = httpx.AsyncHTTPTransport(
            local_address=self.address,
            # Idle connections go before the server's 5 s keep-alive closes them:
            # reusing one the server is closing is a phone's bug, not a fault.
            limits=httpx.Limits(max_connections=4, keepalive_expiry=3.0),
        )
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(60.0, connect=5.0),
            headers={"Accept-Encoding": "br, gzip", "User-Agent": f"doorstep-load/{self.index}"},
        )

    async def close(self) -> None:
        if self.http is not None:
            await self.http.aclose()

    # -- the wire, with retries ------------------------------------------------------------
    async def _backoff(self, attempt: int, retry_after: float | None = None) -> None:
        wait = min(BACKOFF_MAX, BACKOFF_FIRST * 2**attempt) * self.rng.uniform(0.5, 1.0)
        if retry_after is not None:
            wait = retry_after + self.rng.uniform(0.0, 1.0)  # at least what the server asked
        if time.monotonic() + wait > self.deadline:
            raise GaveUp(self.username)
        await asyncio.sleep(wait)

    async def _send(
        self,
        op: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        assert self.http is not None
        attempt = 0
        extra: dict[str, Any] = {"timeout": timeout} if timeout else {}
        while True:
            if time.monotonic() > self.deadline:
                raise GaveUp(self.username)
            started = time.perf_counter()
            try:
                response = await self.http.request(
                    method, path, json=json, content=content, headers=headers, **extra
                )
            except httpx.TransportError as exc:
                self.stats.error(f"{op}: {type(exc).__name__}")
                await self._backoff(attempt)
                attempt += 1
                continue
            status = response.status_code
            if status in (200, 201):
                self.stats.took(op, time.perf_counter() - started, _server_ms(response))
                return response
            self.stats.error(f"{op}: HTTP {status}")
            if status == 401 and op != "login":
                await self.login()
                continue
            if status in RETRY_STATUSES:
                await self._backoff(attempt, _retry_after(response))
                attempt += 1
                continue
            raise Refused(op, status, response.text)

    # -- signing in ------------------------------------------------------------------------
    async def login(self) -> None:
        response = await self._send(
            "login", "POST", "/sync/login", json={"username": self.username, "password": self.password}
        )
        self.user = response.json()["user"]

    @property
    def grid_ids(self) -> list[str]:
        return list(self.user["grid_ids"]) if self.user else []

    # -- the outbox ------------------------------------------------------------------------
    def queue(
        self, name: str, args: dict[str, Any], *, bad: bool = False, photos: list[Photo] | None = None
    ) -> int:
        photos = photos or []
        mutation_id = self.next_id
        self.next_id += 1
        entry = {"id": mutation_id, "name": name, "args": args, "at": datetime.now(UTC).isoformat()}
        self.outbox.append(entry)
        self.sent[mutation_id] = {
            "name": name,
            "args": args,
            "bad": bad,
            "photos": [p.sha256 for p in photos],
        }
        self.photos_waiting += photos
        return mutation_id

    def device(self) -> dict[str, Any]:
        """What the phone reports of itself with each push and pull (docs/sync.md "Device reports"):
        the verifier reads each phone's balance back from the server's reconciliation."""
        return {
            "app_version": "load",
            "outbox_format": 1,
            "pending": len(self.outbox),
            "oldest_pending_at": min((m["at"] for m in self.outbox), default=None),
            "max_mutation_id": self.next_id - 1,
            "rejected": sum(1 for r in self.results.values() if r["status"] == "rejected"),
            "photos_waiting": len(self.photos_waiting),
        }

    async def push(self, batch: int = 100) -> None:
        """Send up to `batch` queued mutations; drop those whose result is now known."""
        body = {
            "protocol": 1,
            "client_id": self.client_id,
            "mutations": self.outbox[:batch],
            "device": self.device(),
        }
        data = (await self._send("push", "POST", "/sync/push", json=body)).json()
        fresh = 0
        for result in data["results"]:
            if result["status"] == "out_of_order":
                continue
            if result["id"] not in self.results:
                fresh += 1
            if result.get("replayed"):
                self.stats.count("replays")
            self.results[result["id"]] = result
        self.stats.count("mutations", fresh)
        self.outbox = [m for m in self.outbox if m["id"] not in self.results]
        self.last_mutation_id = max(self.last_mutation_id, data["last_mutation_id"])

    async def drain(self) -> None:
        while self.outbox:
            await self.push()

    # -- pulling ---------------------------------------------------------------------------
    async def pull(self, op: str = "pull") -> int:
        """Pull every page (rule 12); returns the number of changes applied."""
        applied = 0
        while True:
            body = {
                "protocol": 1,
                "client_id": self.client_id,
                "cursor": self.cursor,
                "device": self.device(),
            }
            # orjson: a phone parses in native code, and this script shares the server's cores.
            data = orjson.loads((await self._send(op, "POST", "/sync/pull", json=body)).content)
            self.stats.count("pulls")
            if data["reset"]:
                self.store.clear()  # rule 11: the local copy, never the outbox
            for change in data["changes"]:
                key = (change["type"], change["id"])
                if change["op"] == "put":
                    self.store[key] = {"version": change["version"], **change["data"]}
                else:
                    self.store.pop(key, None)
                applied += 1
            self.cursor = data["cursor"]
            self.last_mutation_id = max(self.last_mutation_id, data["last_mutation_id"])  # rule 13
            if not data["more"]:
                return applied

    async def fresh_copy(self) -> dict[tuple[str, str], dict[str, Any]]:
        """A full pull of this phone's scope under a new client id, as a new install would see it."""
        other = Phone(self.index, self.username, self.password, self.base_url, self.stats, self.rng)
        other.http, other.user, other.deadline = self.http, self.user, self.deadline
        await other.pull("fresh pull")
        self.fresh_client_ids.append(other.client_id)
        return other.store

    # -- photos ----------------------------------------------------------------------------
    async def upload_waiting(self) -> None:
        """Upload queued photos by hash, one at a time, oldest first."""
        while self.photos_waiting:
            photo = self.photos_waiting[0]
            await self._send(
                "upload",
                "PUT",
                f"/sync/blobs/{photo.sha256}",
                content=png(photo.seed),
                headers={"Content-Type": "image/png"},
                timeout=900.0,  # 200 KB at 1 KB/s
            )
            self.photos_uploaded.add(photo.sha256)
            self.photos_waiting.pop(0)
            self.stats.count("photos")

    def records(self, record_type: str) -> dict[str, dict[str, Any]]:
        return {rid: data for (kind, rid), data in self.store.items() if kind == record_type}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return min(60.0, max(0.0, float(value)))
    except ValueError:
        return None


def _server_ms(response: httpx.Response) -> float:
    for part in response.headers.get("server-timing", "").split(","):
        name, _, rest = part.strip().partition(";")
        if name == "app" and rest.startswith("dur="):
            return float(rest[4:])
    return float("nan")
