"""Browsers' push subscriptions: checked before they are kept, so the server never posts blindly.

A subscription names the URL the server will later POST to. Only https URLs
on a known push service are taken (the setting `DOORSTEP_PUSH_HOSTS`, a list
of origins; an entry `https://*.notify.windows.com` takes that host's
subdomains), and the keys must be what RFC 8291 needs: a P-256 public point
and a 16-byte auth secret. An http origin is taken only when the setting lists
it as such (a local test receiver); the default list is https-only.

One installed app (sync client) has one subscription: browsers rotate them,
and the app sends its current one on every start, which replaces the last.
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import update
from sqlmodel import Session, col, select

from server.access import Actor, NotFound
from server.i18n import gettext as _
from server.models import PushDelivery, PushSubscription, SyncClient, utcnow
from sync.clients import check_owner

MAX_ENDPOINT = 2048
MAX_EXPIRATION_MS = 4_102_444_800_000  # 2100-01-01
MAX_PER_USER = 10
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
_DEFAULT_PORTS = {"https": 443, "http": 80}


class InvalidSubscription(ValueError):
    """The body is not a usable PushSubscription (400 with `code`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SubscriptionInput:
    endpoint: str
    p256dh: str
    auth: str
    expiration_time: datetime | None
    client_id: uuid.UUID | None


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL without credentials, else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def endpoint_allowed(endpoint: str, hosts: tuple[str, ...]) -> bool:
    """The endpoint's origin is one the setting lists (exactly, or under a `*.` entry)."""
    origin = origin_of(endpoint)
    if origin is None:
        return False
    scheme, _sep, host = origin.partition("://")
    for entry in hosts:
        entry = entry.strip().rstrip("/").lower()
        if "://*." in entry:
            entry_scheme, _sep, suffix = entry.partition("://*")
            if scheme == entry_scheme and ":" not in host and host.endswith(suffix) and host != suffix[1:]:
                return True
        elif origin == origin_of(entry):
            return True
    return False


def _decode(value: Any) -> bytes | None:
    if not isinstance(value, str) or not _B64URL.match(value):
        return None
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except ValueError:
        return None


def _check_keys(keys: Any) -> tuple[str, str]:
    bad = InvalidSubscription(
        "invalid_keys", _("订阅的密钥不对：需要 P-256 公钥（p256dh）和 16 字节的 auth。")
    )
    if not isinstance(keys, dict):
        raise bad
    point, secret = _decode(keys.get("p256dh")), _decode(keys.get("auth"))
    if point is None or secret is None or len(point) != 65 or point[0] != 4 or len(secret) != 16:
        raise bad
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise bad from None
    return keys["p256dh"].rstrip("="), keys["auth"].rstrip("=")


def _expiration(value: object) -> datetime | None:
    """Milliseconds since 1970 (the browser's `expirationTime`) as a time a database can keep."""
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSubscription("invalid_subscription", _("expirationTime 必须是数字或 null。"))
    if not 0 < value < MAX_EXPIRATION_MS:  # also refuses NaN, ±Infinity and 1e300
        raise InvalidSubscription("invalid_subscription", _("expirationTime 不是合理的时间。"))
    return datetime.fromtimestamp(value / 1000, UTC)


def parse(data: Any, hosts: tuple[str, ...]) -> SubscriptionInput:
    """The browser's `PushSubscription.toJSON()`, plus the app's `client_id`, checked."""
    if not isinstance(data, dict) or not isinstance(data.get("endpoint"), str):
        raise InvalidSubscription("invalid_subscription", _("需要浏览器的推送订阅（endpoint 和 keys）。"))
    endpoint = data["endpoint"].strip()
    if len(endpoint) > MAX_ENDPOINT or not endpoint_allowed(endpoint, hosts):
        raise InvalidSubscription(
            "endpoint_not_allowed", _("这个推送地址不是已知推送服务的 https 地址，服务器不会向它发送。")
        )
    p256dh, auth = _check_keys(data.get("keys"))
    expiration = _expiration(data.get("expirationTime"))
    client = data.get("client_id")
    try:
        client_id = uuid.UUID(client) if client is not None else None
    except (TypeError, ValueError, AttributeError):
        raise InvalidSubscription("invalid_subscription", _("client_id 必须是 UUID。")) from None
    return SubscriptionInput(
        endpoint=endpoint,
        p256dh=p256dh,
        auth=auth,
        expiration_time=expiration,
        client_id=client_id,
    )


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def drop(session: Session, subscription: PushSubscription) -> None:
    """Forget a subscription; what still waited for it will not go out."""
    session.execute(
        update(PushDelivery)
        .where(col(PushDelivery.subscription_id) == subscription.id, col(PushDelivery.status) == "waiting")
        .values(status="gone", finished_at=utcnow())
    )
    session.delete(subscription)


def save(
    session: Session, *, actor: Actor, subscription: SubscriptionInput, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Keep the subscription for the actor and their client; (row, created)."""
    if subscription.client_id is not None:
        check_owner(session.get(SyncClient, subscription.client_id), actor)
    now = utcnow()
    digest = endpoint_hash(subscription.endpoint)
    row = session.exec(select(PushSubscription).where(PushSubscription.endpoint_hash == digest)).first()
    created = row is None
    if row is None:
        row = PushSubscription(
            user_id=actor.id, endpoint=subscription.endpoint, endpoint_hash=digest, p256dh="", auth=""
        )
    elif row.user_id != actor.id:
        # The same browser, now signed in as somebody else: news for the last user stays unsent.
        drop(session, row)
        session.flush()
        row = PushSubscription(
            user_id=actor.id, endpoint=subscription.endpoint, endpoint_hash=digest, p256dh="", auth=""
        )
        created = True
    row.p256dh, row.auth = subscription.p256dh, subscription.auth
    row.client_id = subscription.client_id
    row.expiration_time = subscription.expiration_time
    row.user_agent = user_agent[:300]
    row.updated_at = now
    session.add(row)
    session.flush()
    _forget_replaced(session, actor, row)
    return row, created


def _forget_replaced(session: Session, actor: Actor, row: PushSubscription) -> None:
    """A client's older (rotated) subscription goes, and a user keeps at most MAX_PER_USER."""
    others = session.exec(
        select(PushSubscription)
        .where(PushSubscription.user_id == actor.id, PushSubscription.id != row.id)
        .order_by(col(PushSubscription.updated_at).desc())
    ).all()
    kept = 1
    for other in others:
        if (row.client_id is not None and other.client_id == row.client_id) or kept >= MAX_PER_USER:
            drop(session, other)
        else:
            kept += 1


def list_for(session: Session, actor: Actor) -> list[PushSubscription]:
    return list(
        session.exec(
            select(PushSubscription)
            .where(PushSubscription.user_id == actor.id)
            .order_by(col(PushSubscription.created_at))
        )
    )


def remove(session: Session, *, actor: Actor, subscription_id: uuid.UUID) -> None:
    """Delete one of the actor's own subscriptions; anybody else's is NotFound."""
    row = session.get(PushSubscription, subscription_id)
    if row is None or row.user_id != actor.id:
        raise NotFound("push_subscription")
    drop(session, row)


def public(row: PushSubscription) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "endpoint": row.endpoint,
        "client_id": str(row.client_id) if row.client_id else None,
        "user_agent": row.user_agent,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "last_success_at": row.last_success_at.isoformat() if row.last_success_at else None,
    }
