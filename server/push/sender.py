"""Handing deliveries to push services (RFC 8030 / 8291 / 8292, through pywebpush).

Each send is an aes128gcm-encrypted payload of at most 3,993 bytes (a larger
one is never sent), signed with the server's VAPID key and a fresh claims dict
(`aud` the endpoint's origin, `exp` 12 hours ahead, `sub` the setting
`DOORSTEP_PUSH_SUBJECT`), with `Content-Type: application/octet-stream` and
`Content-Encoding: aes128gcm` (as RFC 8291's examples and the `web-push`
library send them), TTL (what is left of the message's 24 hours), Urgency and
Topic headers. Redirects are not followed, and the endpoint is checked against
the allowed push services again before every send.

What comes back decides what happens next, and every try is logged:

| answer | then |
|---|---|
| 2xx | sent |
| 404, 410 | the subscription is gone: deleted, with what still waited for it |
| 429, 5xx, no answer | tried again after `Retry-After` when given, else after 30 s, 60 s, 120 s … (at most 1 h, +0–25 % jitter); at most 8 tries, and never past the TTL |
| 413 | too large: not tried again |
| anything else | failed: not tried again |
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import requests
from pywebpush import WebPushException, webpush
from sqlmodel import Session, select

from server.clock import aware
from server.models import PushAttempt, PushDelivery, PushSubscription, utcnow
from server.push import keys, outbox
from server.push.subscriptions import drop, endpoint_allowed, origin_of
from server.settings import Settings

if TYPE_CHECKING:  # the database hands its sessions to the sender; the sender needs only its type
    from server.db import Database

log = logging.getLogger("doorstep.push")

MAX_PAYLOAD = 3993  # 4096-byte record minus the aes128gcm header (86), tag (16) and delimiter (1)
MAX_ATTEMPTS = 8
BACKOFF_BASE = 30.0
BACKOFF_CAP = 3600.0
JWT_LIFETIME = 12 * 3600
TIMEOUT = (5.0, 10.0)  # connect, read


class NoRedirects(requests.Session):
    """A push service answers; it never sends us elsewhere (no open redirect to arbitrary hosts)."""

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class Outcome:
    delivery_id: uuid.UUID
    subscription_id: uuid.UUID
    origin: str
    outcome: str  # sent | retry | gone | failed | too_large | expired
    status_code: int | None = None
    detail: str = ""
    retry_at: datetime | None = None
    tried: bool = False  # a request went out (or was attempted)
    duration_ms: int = 0


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed try."""
    delay: float = min(BACKOFF_BASE * 2.0 ** max(attempts - 1, 0), BACKOFF_CAP)
    # Jitter, not a secret.
    return delay * random.uniform(1.0, 1.25)  # nosec B311


def retry_after(value: str | None, now: datetime) -> datetime | None:
    """The moment a `Retry-After` header (seconds or an HTTP date) names, if it names one."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + timedelta(seconds=max(int(value), 1))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(moment, now + timedelta(seconds=1))


class Sender:
    """One sender; run as many as you like, in threads or processes, on one database."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        batch: int = outbox.BATCH,
    ) -> None:
        self.db = db
        self.settings = settings
        self.keys = keys.load(settings.data_dir, settings.vapid_private_key)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.batch = batch
        self.http = NoRedirects()

    def close(self) -> None:
        self.http.close()

    # -- the loop's one turn ----------------------------------------------------------------

    def run_once(self, now: datetime | None = None) -> list[Outcome]:
        """Compose what waits, take what is due, send it all; the outcome of each send."""
        moment = now or self.clock()
        if not self.db.run_read(lambda s: outbox.has_work(s, now=moment)):
            return []
        claimed = self.db.run_claim(
            lambda s: (
                outbox.compose(s, now=moment, claimer=self.name, limit=self.batch)
                + outbox.claim_due(s, now=moment, claimer=self.name, limit=self.batch)
            ),
        )
        return [self.deliver(delivery, moment) for delivery in claimed]

    def send_now(self, user_id: uuid.UUID, message: outbox.Message) -> list[Outcome]:
        """Send `message` to every subscription of the user at once (`doorstep push test`)."""
        moment = self.clock()

        def claim(session: Session) -> list[PushDelivery]:
            subscriptions = session.exec(select(PushSubscription).where(PushSubscription.user_id == user_id))
            rows = outbox.deliveries(message, user_id, list(subscriptions), now=moment, claimer=self.name)
            session.add_all(rows)
            session.flush()
            return rows

        return [self.deliver(delivery, moment) for delivery in self.db.run_claim(claim)]

    # -- one delivery -----------------------------------------------------------------------

    def deliver(self, delivery: PushDelivery, now: datetime) -> Outcome:
        subscription = self.db.run_read(lambda s: s.get(PushSubscription, delivery.subscription_id))
        outcome = self._send(delivery, subscription, now)
        self.db.run_claim(lambda s: _record(s, delivery, outcome, now))
        level = logging.INFO if outcome.outcome == "sent" else logging.WARNING
        log.log(
            level,
            "push %s to %s: %s %s %s",
            delivery.id,
            outcome.origin or "?",
            outcome.outcome,
            outcome.status_code or "",
            outcome.detail,
        )
        return outcome

    def _send(self, delivery: PushDelivery, sub: PushSubscription | None, now: datetime) -> Outcome:
        origin = (origin_of(sub.endpoint) or "") if sub else ""
        base = Outcome(delivery.id, delivery.subscription_id, origin, "failed")
        if sub is None:
            return replace(base, outcome="gone", detail="subscription removed")
        remaining = int((aware(delivery.expires_at) - now).total_seconds())
        if remaining <= 0:
            return replace(base, outcome="expired", detail="past its TTL")
        size = len(delivery.payload.encode())
        if size > MAX_PAYLOAD:
            return replace(
                base, outcome="too_large", detail=f"payload of {size} bytes; at most {MAX_PAYLOAD}"
            )
        if not endpoint_allowed(sub.endpoint, self.settings.push_hosts):
            return replace(base, detail="endpoint_not_allowed")
        claims: dict[str, str | int] = {  # fresh for every send: pywebpush writes into it
            "sub": self.settings.push_subject,
            "aud": origin,
            "exp": int(time.time()) + JWT_LIFETIME,
        }
        started = time.perf_counter()
        code: int | None = None
        after: str | None = None
        detail = ""
        network = False  # no answer: worth another try
        try:
            response = webpush(
                {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}},
                data=delivery.payload,
                vapid_private_key=self.keys.vapid(),
                vapid_claims=claims,
                content_encoding="aes128gcm",
                ttl=remaining,
                # RFC 8291's examples and the `web-push` library send both; a strict push
                # service (RFC 8030) refuses an encrypted body that names no media type.
                headers={
                    "Content-Type": "application/octet-stream",
                    "Urgency": delivery.urgency,
                    "Topic": delivery.topic,
                },
                timeout=TIMEOUT,
                requests_session=self.http,
            )
            code = int(getattr(response, "status_code", 0)) or None
        except WebPushException as exc:
            if exc.response is None:
                detail = str(exc)[:300]
            else:
                code = int(exc.response.status_code)
                after = exc.response.headers.get("Retry-After")
        except (requests.ConnectionError, requests.Timeout) as exc:
            detail, network = f"{type(exc).__name__}: {exc}"[:300], True
        except requests.RequestException as exc:
            detail = f"{type(exc).__name__}: {exc}"[:300]
        elapsed = int((time.perf_counter() - started) * 1000)
        tried = replace(base, status_code=code, detail=detail, tried=True, duration_ms=elapsed)
        if code is not None and 200 <= code < 300:
            return replace(tried, outcome="sent")
        if code in (404, 410):
            return replace(tried, outcome="gone", detail="the push service no longer knows this subscription")
        if network or code == 429 or (code is not None and code >= 500):
            return self._retry(delivery, tried, now, after)
        if code is None:
            return tried
        if code == 413:
            return replace(tried, outcome="too_large", detail="refused by the push service")
        return replace(tried, detail="refused by the push service")

    def _retry(self, delivery: PushDelivery, outcome: Outcome, now: datetime, after: str | None) -> Outcome:
        attempts = delivery.attempts + 1
        at = retry_after(after, now) or now + timedelta(seconds=backoff(attempts))
        if attempts >= MAX_ATTEMPTS:
            return replace(outcome, detail=f"{outcome.detail} (no tries left)".strip())
        if at >= aware(delivery.expires_at):
            return replace(
                outcome, outcome="expired", detail=f"{outcome.detail} (a retry would be past its TTL)".strip()
            )
        return replace(outcome, outcome="retry", retry_at=at)


def _record(session: Session, delivery: PushDelivery, outcome: Outcome, now: datetime) -> None:
    """The attempt in the log, and what it means for the delivery and the subscription."""
    session.add(
        PushAttempt(
            delivery_id=delivery.id,
            subscription_id=delivery.subscription_id,
            user_id=delivery.user_id,
            origin=outcome.origin,
            at=now,
            status_code=outcome.status_code,
            outcome=outcome.outcome,
            detail=outcome.detail,
            retry_at=outcome.retry_at,
            duration_ms=outcome.duration_ms,
        )
    )
    row = session.get(PushDelivery, delivery.id)
    if row is not None:
        row.attempts += int(outcome.tried)
        row.lease_until, row.claimed_by = None, ""
        if outcome.outcome == "retry":
            row.status, row.next_attempt_at = "waiting", outcome.retry_at or now
        else:
            row.status, row.finished_at = outcome.outcome, now
    sub = session.get(PushSubscription, delivery.subscription_id)
    if sub is not None and outcome.outcome == "sent":
        sub.last_success_at = now
    if sub is not None and outcome.outcome == "gone":
        drop(session, sub)


def send_pending(db: Database, settings: Settings) -> int:
    """The sender job's turn (inside `doorstep serve` and `doorstep worker`): how many sends."""
    sender = Sender(db, settings)
    try:
        return len(sender.run_once())
    finally:
        sender.close()
