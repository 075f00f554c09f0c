"""Time as people in the field see it: stored in UTC, shown and counted in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from server.models.base import utcnow

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_today() -> date:
    return utcnow().astimezone(LOCAL_TZ).date()


def aware(moment: datetime) -> datetime:
    """A stored time as an aware one: SQLite gives naive datetimes back, which are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def in_local(moment: datetime) -> datetime:
    """A stored time in Asia/Shanghai; at the very end of the calendar, where the zone's
    offset would leave it, the time as stored (UTC): no stored time may break a page."""
    try:
        return aware(moment).astimezone(LOCAL_TZ)
    except OverflowError:
        return aware(moment)


def step_time(at: datetime | None, floor: datetime | None = None) -> datetime:
    """When a step happened: the phone's `at` (SYNC.md), but never in the future and never
    before the record's last change (a phone's clock can be wrong). A naive `at` is local."""
    now = utcnow()
    if at is None:
        return now
    moment = min(at if at.tzinfo else at.replace(tzinfo=LOCAL_TZ), now)
    if floor is not None:
        moment = max(moment, aware(floor))
    return moment.astimezone(UTC)
