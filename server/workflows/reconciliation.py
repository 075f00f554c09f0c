"""The rule of reconciliation (对账): whether a phone and the server agree, from the server's
counter and the phone's latest report of itself (sync/device.py). Pure functions.

A phone is in balance when the server's `last_mutation_id` equals the highest id the phone
holds and nothing waits on it (no entry unanswered, no photo to upload). Otherwise it owes:
the ids above the server's counter, or the entries it still reported waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

# A phone that owes work and has not been heard of for this long is silent: someone should call.
SILENT_AFTER = timedelta(days=3)
# The dashboard counts phones owing work older than this.
LATE_AFTER = timedelta(hours=24)


class Standing(StrEnum):
    unknown = "unknown"  # never reported (an old app, or a client that only signed in)
    in_balance = "in_balance"
    owing = "owing"
    silent = "silent"


@dataclass(frozen=True)
class Balance:
    standing: Standing
    owed: int  # entries the server has not got
    photos: int  # photos still to upload
    oldest: datetime | None  # when the oldest waiting entry was made, on the phone's clock
    silent_for: timedelta  # since the last contact

    @property
    def owes(self) -> bool:
        return self.standing in (Standing.owing, Standing.silent)

    def oldest_days(self, now: datetime) -> int | None:
        """Whole days since the oldest waiting entry was made (0 within the first day)."""
        return None if self.oldest is None else max((now - self.oldest).days, 0)

    def owed_longer_than(self, span: timedelta, now: datetime) -> bool:
        return self.owes and self.oldest is not None and now - self.oldest > span


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def balance(
    *, last_mutation_id: int, report: dict[str, Any] | None, last_contact: datetime, now: datetime
) -> Balance:
    silent_for = max(now - _aware(last_contact), timedelta(0))
    if not report:
        return Balance(Standing.unknown, 0, 0, None, silent_for)
    held = report.get("max_mutation_id")
    pending = int(report.get("pending") or 0)
    photos = int(report.get("photos_waiting") or 0)
    beyond = max(int(held) - last_mutation_id, 0) if isinstance(held, int) else 0
    owed = max(beyond, pending)
    if not owed and not photos:
        return Balance(Standing.in_balance, 0, 0, None, silent_for)
    oldest = _moment(report.get("oldest_pending_at"))
    standing = Standing.silent if silent_for > SILENT_AFTER else Standing.owing
    return Balance(standing, owed, photos, oldest, silent_for)
