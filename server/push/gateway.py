"""The county gateway: notices posted as signed JSON to a county's own SMS or work-messaging bridge.

A third channel beside the inbox (always) and Web Push (where a push service
answers). `docs/gateway.md` is the contract a county's IT team writes its
bridge against. Each turn of the job:

1. `enqueue`: notices of the last 24 hours that a person opted in to
   (`GatewayOptIn`: the kinds they chose, or else urgent notices only) and that
   have no `GatewayDelivery` yet get one. In quiet hours (`push.quiet_hours`)
   only urgent notices do; the rest wait until the quiet hours end. Nothing is
   queued while the endpoint is unset or its origin is not allow-listed
   (`DOORSTEP_GATEWAY_HOSTS`), so nothing ever goes outside the list.
2. `claim_due`: deliveries whose time has come, claimed with a lease.
3. `post`: one HTTPS POST each, `X-Doorstep-Timestamp` and
   `X-Doorstep-Signature: sha256=HMAC-SHA256(secret, timestamp + "." + body)`,
   `Idempotency-Key` the notice id. 2xx: sent, never again. 429, 5xx or no
   answer: again after 30 s, 60 s, 120 s … (at most 1 h), at most 8 tries.
   Any other answer: failed. Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from sqlmodel import Session, col, select

from server import preferences
from server.models import GatewayDelivery, GatewayOptIn, Notice, User, utcnow
from server.push.outbox import is_quiet
from server.push.sender import TIMEOUT, NoRedirects
from server.push.subscriptions import endpoint_allowed
from server.settings import Settings

if TYPE_CHECKING:
    from server.db import Database

log = logging.getLogger("doorstep.gateway")

LOOKBACK = timedelta(hours=24)
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
BACKOFF_BASE = 30.0
BACKOFF_CAP = 3600.0
URGENT = "high"
SIGNATURE = "X-Doorstep-Signature"
TIMESTAMP = "X-Doorstep-Timestamp"
IDEMPOTENCY = "Idempotency-Key"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under the shared secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def wanted(optin: GatewayOptIn, notice: Notice) -> bool:
    return notice.kind in optin.kinds if optin.kinds else notice.urgency == URGENT


def configured(settings: Settings) -> bool:
    """An endpoint and a secret are set, and the endpoint's origin is allow-listed."""
    return bool(settings.gateway_url and settings.gateway_secret) and endpoint_allowed(
        settings.gateway_url, settings.gateway_hosts
    )


def enqueue(session: Session, *, now: datetime) -> int:
    """Step 1: a delivery for each recent notice its person wants by the gateway."""
    quiet = is_quiet(now, preferences.get(session, "push.quiet_hours"))
    queued = select(GatewayDelivery.notice_id)
    rows = session.exec(
        select(Notice, GatewayOptIn)
        .join(GatewayOptIn, col(GatewayOptIn.user_id) == Notice.user_id)
        .where(col(Notice.created_at) >= now - LOOKBACK, col(Notice.id).not_in(queued))
    ).all()
    added = 0
    for notice, optin in rows:
        if wanted(optin, notice) and not (quiet and notice.urgency != URGENT):
            session.add(GatewayDelivery(notice_id=notice.id, user_id=notice.user_id, next_attempt_at=now))
            added += 1
    session.flush()
    return added


def claim_due(session: Session, *, now: datetime) -> list[uuid.UUID]:
    """Step 2: deliveries due (or abandoned by a sender that died), claimed."""
    due = (col(GatewayDelivery.status) == "waiting") & (col(GatewayDelivery.next_attempt_at) <= now) | (
        col(GatewayDelivery.status) == "sending"
    ) & (col(GatewayDelivery.lease_until) < now)
    rows = session.exec(select(GatewayDelivery).where(due).limit(100).with_for_update(skip_locked=True)).all()
    for row in rows:
        row.status, row.lease_until = "sending", now + LEASE
    session.flush()
    return [row.id for row in rows]


def payload(notice: Notice, user: User, public_url: str) -> dict[str, Any]:
    link = notice.link if notice.link.startswith("http") else f"{public_url}{notice.link}"
    return {
        "id": str(notice.id),
        "kind": notice.kind,
        "urgency": notice.urgency,
        "title": notice.title,
        "body": notice.body,
        "link": link,
        "subject": {"type": notice.subject_type, "id": str(notice.subject_id) if notice.subject_id else None},
        "created_at": notice.created_at.isoformat(),
        "recipient": {
            "user_id": str(user.id),
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role,
        },
    }


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str = ""


class Gateway:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.http = NoRedirects()

    def close(self) -> None:
        self.http.close()

    def run_once(self, now: datetime | None = None) -> int:
        """One turn: queue, claim, post; how many posts went out."""
        if not configured(self.settings):
            return 0
        moment = now or utcnow()
        self.db.run_write(lambda s: enqueue(s, now=moment))
        claimed = self.db.run_claim(lambda s: claim_due(s, now=moment))
        for delivery_id in claimed:
            self._deliver(delivery_id, moment)
        return len(claimed)

    def _deliver(self, delivery_id: uuid.UUID, now: datetime) -> None:
        def load(session: Session) -> bytes | None:
            delivery = session.get(GatewayDelivery, delivery_id)
            notice = session.get(Notice, delivery.notice_id) if delivery else None
            user = session.get(User, notice.user_id) if notice else None
            if notice is None or user is None:
                return None
            data = payload(notice, user, self.settings.public_url)
            return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

        body = self.db.run_read(load)
        answer = self.post(body, str(delivery_id)) if body is not None else Answer(None, "notice gone")
        self.db.run_claim(lambda s: _record(s, delivery_id, answer, now))

    def post(self, body: bytes, delivery_id: str) -> Answer:
        timestamp = int(time.time())
        notice_id = json.loads(body)["id"]
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP: str(timestamp),
            SIGNATURE: sign(self.settings.gateway_secret, timestamp, body),
            IDEMPOTENCY: notice_id,
        }
        try:
            response = self.http.post(self.settings.gateway_url, data=body, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            log.warning("gateway %s: %s", delivery_id, exc)
            return Answer(None, f"{type(exc).__name__}: {exc}"[:300])
        return Answer(response.status_code)


def _retryable(answer: Answer) -> bool:
    return answer.status is None or answer.status == 429 or answer.status >= 500


def _record(session: Session, delivery_id: uuid.UUID, answer: Answer, now: datetime) -> None:
    row = session.get(GatewayDelivery, delivery_id)
    if row is None:
        return
    row.attempts += 1
    row.last_status, row.last_error, row.lease_until = answer.status, answer.error, None
    if answer.status is not None and 200 <= answer.status < 300:
        row.status, row.finished_at = "sent", now
    elif _retryable(answer) and row.attempts < MAX_ATTEMPTS and answer.error != "notice gone":
        delay = min(BACKOFF_BASE * 2.0 ** (row.attempts - 1), BACKOFF_CAP)
        # Jitter, not a secret.
        row.status, row.next_attempt_at = "waiting", now + timedelta(seconds=delay * random.uniform(1, 1.25))  # nosec B311
    else:
        row.status, row.finished_at = "failed", now


def send_gateway(db: Database, settings: Settings) -> int:
    """The gateway job's turn (inside `doorstep serve` and `doorstep worker`)."""
    gateway = Gateway(db, settings)
    try:
        return gateway.run_once()
    finally:
        gateway.close()
