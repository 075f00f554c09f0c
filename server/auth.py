"""Signing in: argon2 password hashes, database-backed sessions, login rate limits.

The cookie carries a random token, signed; the database keeps only its
SHA-256, with the user and an expiry that slides with use (field-app sessions
last at least 30 days, SYNC.md "Signing in"). Sessions live in the database so
that any app process can check them and an admin can end them.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, Signer
from sqlalchemy import delete
from sqlmodel import Session, select

from server import throttle
from server.access import Actor
from server.models import Role, User, UserGrid, UserSession, utcnow

SESSION_COOKIE = "doorstep_session"
SESSION_LIFETIME = timedelta(days=30)
SESSION_REFRESH = timedelta(hours=1)
MAX_USERNAME = 150
MAX_PASSWORD = 1024

# OWASP's argon2id profile (19 MiB, 2 passes, 1 lane): about 30 ms per check on
# these 2-core servers, so 500 phones signing in at 8:00 cost seconds, not minutes.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verifying against this keeps unknown usernames as slow as wrong passwords.
_DUMMY_HASH = _hasher.hash("doorstep-dummy-password")


class WeakPassword(ValueError):
    """Shorter than 8 characters."""


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise WeakPassword(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def well_formed(username: object, password: object) -> bool:
    """Text a person could type in: strings of sane length, no NUL or lone surrogates
    (which PostgreSQL and argon2 refuse), a username without control characters."""
    if not isinstance(username, str) or not isinstance(password, str):
        return False
    if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD or "\x00" in password:
        return False
    try:
        (username + password).encode()
    except UnicodeEncodeError:
        return False
    return username.isprintable()


def actor_for(session: Session, user: User) -> Actor:
    grids = session.exec(select(UserGrid.grid_id).where(UserGrid.user_id == user.id)).all()
    return Actor(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        community_id=user.community_id,
        department_id=user.department_id,
        grid_ids=frozenset(grids) if user.role == Role.grid_worker else frozenset(),
        locale=user.locale,
    )


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    cookie: str
    csrf_token: str


@dataclass(frozen=True)
class Refused:
    """Returned, not raised: the failed attempt must still be counted and committed."""

    code: str  # bad_credentials | account_disabled | rate_limited | invalid_input
    retry_after: int = 0  # seconds, when rate_limited


_CACHE: dict[str, tuple[float, Actor, UserSession]] = {}


class Sessions:
    # A session checked within the last few seconds is trusted without asking
    # the database again: a phone syncing in a loop costs one lookup, not three
    # queries per request. Sign-out and password resets in this process take
    # effect at once; in other processes within CACHE_SECONDS.
    CACHE_SECONDS = 5.0
    CACHE_SIZE = 20_000

    def __init__(self, secret_key: str) -> None:
        self._signer = Signer(secret_key, salt="doorstep-session")

    def cached(self, cookie: str) -> tuple[Actor, UserSession] | None:
        hit = _CACHE.get(cookie)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1], hit[2]

    def remember(self, cookie: str, found: tuple[Actor, UserSession]) -> None:
        if len(_CACHE) > self.CACHE_SIZE:
            _CACHE.clear()
        _CACHE[cookie] = (time.monotonic() + self.CACHE_SECONDS, *found)

    @staticmethod
    def forget(cookie: str | None = None, *, user_id: uuid.UUID | None = None) -> None:
        if cookie is not None:
            _CACHE.pop(cookie, None)
        if user_id is not None:
            for key, (_, actor, _record) in list(_CACHE.items()):
                if actor.id == user_id:
                    _CACHE.pop(key, None)

    def _token_of(self, cookie: str) -> str | None:
        try:
            return self._signer.unsign(cookie).decode()
        except BadSignature:
            return None

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def login(
        self, session: Session, *, username: str, password: str, ip: str = "", user_agent: str = ""
    ) -> SignedIn | Refused:
        """Check credentials (throttled after failures, `server.throttle`) and open a session."""
        username = username.strip()
        wait = throttle.wait(session, username, ip)
        if wait:
            return Refused("rate_limited", retry_after=wait)
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
        if user is None or not ok or not user.active:
            throttle.failed(session, username, ip)
            # Only the right password learns that the account is disabled: the phone
            # then wipes that account's data (docs/offline.md "Sign-out").
            return Refused("account_disabled" if user is not None and ok else "bad_credentials")
        throttle.succeeded(session, username, ip)
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        token = secrets.token_urlsafe(32)
        now = utcnow()
        record = UserSession(
            id=self._key(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(24),
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
            user_agent=user_agent[:200],
        )
        session.add(record)
        session.flush()
        return SignedIn(actor_for(session, user), self._signer.sign(token).decode(), record.csrf_token)

    def lookup(self, session: Session, cookie: str) -> tuple[Actor, UserSession] | None:
        token = self._token_of(cookie)
        if token is None:
            return None
        record = session.get(UserSession, self._key(token))
        now = utcnow()
        if record is None or record.expires_at <= now:
            return None
        user = session.get(User, record.user_id)
        if user is None or not user.active or record.created_at < user.sessions_valid_after:
            return None
        return actor_for(session, user), record

    def needs_refresh(self, record: UserSession) -> bool:
        return utcnow() - record.last_seen_at > SESSION_REFRESH

    @staticmethod
    def refresh(session: Session, session_id: str) -> None:
        record = session.get(UserSession, session_id)
        if record is not None:
            now = utcnow()
            record.last_seen_at = now
            record.expires_at = now + SESSION_LIFETIME

    def logout(self, session: Session, cookie: str) -> None:
        self.forget(cookie)
        token = self._token_of(cookie)
        if token is not None:
            session.execute(delete(UserSession).where(UserSession.id == self._key(token)))  # type: ignore[arg-type]

    @staticmethod
    def end_all(session: Session, user_id: uuid.UUID) -> None:
        Sessions.forget(user_id=user_id)
        session.execute(delete(UserSession).where(UserSession.user_id == user_id))  # type: ignore[arg-type]

    @staticmethod
    def purge_expired(session: Session) -> int:
        result = session.execute(delete(UserSession).where(UserSession.expires_at < utcnow()))  # type: ignore[arg-type]
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
