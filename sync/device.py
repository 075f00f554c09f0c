"""The optional `device` object of push and pull (SYNC.md "Optional fields"): what a phone
reports of itself, read leniently and kept per client for the office's reconciliation (对账).

A report never blocks a sync: a field of the wrong type is left out, a string is cut, a
number is clipped, and a report that is not an object is no report at all.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from server.commands.validation import BIGINT
from server.models import SyncClient, utcnow

TEXT = ("app_version", "browser")
COUNTS = (
    "outbox_format",
    "pending",
    "max_mutation_id",
    "rejected",
    "photos_waiting",
    "storage_used",
    "storage_quota",
)
FLAGS = ("persisted", "installed")
MOMENTS = ("oldest_pending_at",)
MAX_TEXT = 40
# A pull whose report says nothing new is written at most this often, for "last contact".
QUIET = timedelta(minutes=10)


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    kept = "".join(c for c in value if unicodedata.category(c)[0] != "C")
    kept = kept.encode("utf-8", "ignore").decode("utf-8")
    return kept[:MAX_TEXT] or None


def _count(value: Any) -> int | None:
    if type(value) is not int:
        return None
    return min(max(value, 0), BIGINT)


def _moment(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    try:
        return at.astimezone(UTC).isoformat()
    except (OverflowError, ValueError):
        return None


def read(raw: Any) -> dict[str, Any] | None:
    """The fields of a report that can be kept, or None when nothing can."""
    if not isinstance(raw, dict):
        return None
    report: dict[str, Any] = {}
    for name in TEXT:
        report[name] = _text(raw.get(name))
    for name in COUNTS:
        report[name] = _count(raw.get(name))
    for name in FLAGS:
        value = raw.get(name)
        report[name] = value if isinstance(value, bool) else None
    for name in MOMENTS:
        report[name] = _moment(raw.get(name))
    kept = {name: value for name, value in report.items() if value is not None}
    return kept or None


def stale(client: SyncClient | None, report: dict[str, Any] | None) -> bool:
    """Whether a pull carrying this report has something to write."""
    if report is None or client is None:
        return report is not None
    if client.device != report:
        return True
    seen = client.last_seen_at if client.last_seen_at.tzinfo else client.last_seen_at.replace(tzinfo=UTC)
    return utcnow() - seen > QUIET


def after_push(report: dict[str, Any] | None, answered: int) -> dict[str, Any] | None:
    """A push's report as it stands once the push has answered `answered` of its entries."""
    if report is None or "pending" not in report:
        return report
    pending = max(report["pending"] - answered, 0)
    left = {**report, "pending": pending}
    if not pending:
        left.pop("oldest_pending_at", None)
    return left


def keep(session: Session, client: SyncClient, report: dict[str, Any] | None) -> None:
    """The latest report of this client, replacing the one before."""
    if report is None:
        return
    client.device = report
    client.device_at = utcnow()
    session.add(client)
