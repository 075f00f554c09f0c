"""Can any push service be reached? Per push-service origin, the last success and failure.

In mainland China FCM (Chrome's push service) does not answer, and domestic
browsers often have no push at all: the inbox (`server.push.inbox`) carries
every notice anyway, but an operator must see that Web Push is not doing the
work. The sender's log of tries (`PushAttempt`, kept 30 days) already holds
every answer; this reads it: per origin the latest `sent` and the latest
failure (no answer, 429, 5xx, a refusal), and overall how long no push service
has taken a message while sends kept failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from server.clock import aware
from server.models import PushAttempt, utcnow

FAILURES = ("retry", "failed")
NOT_TRIED = "endpoint_not_allowed"  # refused before any request: says nothing of the service


@dataclass(frozen=True)
class Origin:
    origin: str
    last_success: datetime | None
    last_failure: datetime | None
    last_detail: str  # what the last failure said

    @property
    def reachable(self) -> bool:
        return self.last_failure is None or (
            self.last_success is not None and aware(self.last_success) > aware(self.last_failure)
        )


@dataclass(frozen=True)
class Reachability:
    origins: list[Origin]
    # Hours since any push service last took a message, while sends have been failing since;
    # None when the latest answer anywhere was a success (or nothing was ever sent).
    unreachable_hours: float | None


def _latest(session: Session, *where: Any) -> dict[str, datetime]:
    query = (
        select(PushAttempt.origin, func.max(PushAttempt.at)).where(*where).group_by(col(PushAttempt.origin))
    )
    return {origin: aware(at) for origin, at in session.exec(query).all() if origin}


def reachability(session: Session, *, now: datetime | None = None) -> Reachability:
    now = now or utcnow()
    failing = (col(PushAttempt.outcome).in_(FAILURES), col(PushAttempt.detail) != NOT_TRIED)
    successes = _latest(session, PushAttempt.outcome == "sent")
    failures = _latest(session, *failing)
    origins = []
    for origin in sorted(set(successes) | set(failures)):
        detail = ""
        if origin in failures:
            last = session.exec(
                select(PushAttempt)
                .where(PushAttempt.origin == origin, *failing)
                .order_by(col(PushAttempt.at).desc())
                .limit(1)
            ).first()
            if last is not None:
                code = f"{last.status_code} " if last.status_code else ""
                detail = f"{code}{last.detail}".strip()
        origins.append(Origin(origin, successes.get(origin), failures.get(origin), detail))
    last_success = max(successes.values(), default=None)
    last_failure = max(failures.values(), default=None)
    if last_failure is None or (last_success is not None and last_success > last_failure):
        return Reachability(origins, None)
    since = last_success
    if since is None:  # never a success: since the first failure kept
        first = session.exec(select(func.min(PushAttempt.at)).where(*failing)).one()
        since = aware(first) if first else now
    return Reachability(origins, max((now - since).total_seconds() / 3600, 0.0))
