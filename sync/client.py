"""A small sync client that speaks only the wire contract (SYNC.md).

Tests, benchmarks and the load suite use it to play a phone: an outbox of
mutations with per-client ids, a local copy of the server's data kept by
pulls, and the same drop-and-reapply rule the field app follows (rule 13).
It works over any `httpx.Client`, including Starlette's TestClient.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx


class SyncError(Exception):
    """The server refused a request as a whole (4xx): nothing to retry blindly."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class ServerBusy(Exception):
    """503 or a transport failure: try again later; nothing was lost."""


@dataclass
class Client:
    http: httpx.Client
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    next_id: int = 1
    outbox: list[dict[str, Any]] = field(default_factory=list)
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    store: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    cursor: str | None = None
    last_mutation_id: int = 0
    user: dict[str, Any] | None = None

    # -- signing in -------------------------------------------------------
    def login(self, username: str, password: str) -> dict[str, Any]:
        response = self.http.post("/sync/login", json={"username": username, "password": password})
        if response.status_code != 200:
            raise SyncError(response.status_code, _body(response))
        self.user = response.json()["user"]
        return self.user

    # -- the outbox -------------------------------------------------------
    def queue(self, name: str, args: dict[str, Any], at: datetime | None = None) -> int:
        mutation_id = self.next_id
        self.next_id += 1
        stamp = (at or datetime.now(UTC)).isoformat()
        self.outbox.append({"id": mutation_id, "name": name, "args": args, "at": stamp})
        return mutation_id

    @property
    def pending(self) -> int:
        return len(self.outbox)

    def device(self) -> dict[str, Any]:
        """What this client reports of itself (docs/sync.md "Device reports")."""
        return {
            "app_version": "python-client",
            "outbox_format": 1,
            "pending": len(self.outbox),
            "oldest_pending_at": min((m["at"] for m in self.outbox), default=None),
            "max_mutation_id": self.next_id - 1,
            "rejected": sum(1 for r in self.results.values() if r["status"] == "rejected"),
            "photos_waiting": 0,
        }

    def push(self, batch: int = 100) -> dict[str, Any] | None:
        """Send up to `batch` queued mutations; drop what the server has processed."""
        if not self.outbox:
            return None
        body = {
            "protocol": 1,
            "client_id": self.client_id,
            "mutations": self.outbox[:batch],
            "device": self.device(),
        }
        response = self._post("/sync/push", body)
        data = response.json()
        for result in data["results"]:
            if result["status"] != "out_of_order":
                self.results[result["id"]] = result
        self.outbox = [m for m in self.outbox if m["id"] not in self.results]
        self._acknowledge(data["last_mutation_id"])
        return data  # type: ignore[no-any-return]

    def _acknowledge(self, last: int) -> None:
        # An entry the server has processed stays queued until its result is
        # known: the next push resends it and the server answers it as a
        # replay (rule 3), so a lost response never hides a rejection.
        self.last_mutation_id = max(self.last_mutation_id, last)

    # -- pulling ----------------------------------------------------------
    def pull(self) -> int:
        """Pull every page; returns the number of changes applied."""
        applied = 0
        while True:
            body = {
                "protocol": 1,
                "client_id": self.client_id,
                "cursor": self.cursor,
                "device": self.device(),
            }
            response = self._post("/sync/pull", body)
            data = response.json()
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
            self._acknowledge(data["last_mutation_id"])  # rule 13
            if not data["more"]:
                return applied

    def sync(self, batch: int = 100) -> None:
        while self.outbox:
            before = self.pending
            self.push(batch)
            if self.pending == before:
                break
        self.pull()

    # -- photos -----------------------------------------------------------
    def upload(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        try:
            response = self.http.put(
                f"/sync/blobs/{sha}", content=data, headers={"Content-Type": "image/jpeg"}
            )
        except httpx.TransportError as exc:
            raise ServerBusy(str(exc)) from exc
        if response.status_code not in (200, 201):
            raise SyncError(response.status_code, _body(response))
        return sha

    # -- plumbing ---------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            response = self.http.post(path, json=body)
        except httpx.TransportError as exc:
            raise ServerBusy(str(exc)) from exc
        if response.status_code == 503:
            raise ServerBusy(response.headers.get("retry-after", ""))
        if response.status_code != 200:
            raise SyncError(response.status_code, _body(response))
        return response

    def records(self, record_type: str) -> dict[str, dict[str, Any]]:
        return {rid: data for (kind, rid), data in self.store.items() if kind == record_type}


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
