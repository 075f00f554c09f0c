"""Time as people in the field see it: stored in UTC, shown and counted in Asia/Shanghai."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from server.models.base import utcnow

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_today() -> date:
    return utcnow().astimezone(LOCAL_TZ).date()
