"""Photos: blobs stored by the SHA-256 of their bytes and the records that refer to them
(SYNC.md "Attachments").

Blobs live in the database, so every app process sees them and a backup of
the database holds the photos too. Who may read a blob follows from the
records that refer to it (`blob_ref`).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from server.access import Actor, NotFound, can_hold
from server.clock import LOCAL_TZ
from server.errors import InvalidInput
from server.i18n import gettext as _
from server.models import SYNC_TYPES, Blob, BlobHolder, BlobRef, utcnow

MAX_BLOB = 10 * 1024 * 1024
MAX_PHOTOS = 12
# A day's uploads per user (local day): far above a day at the doors (≈ 40 visits,
# a few photos each), low enough that one account cannot fill the database.
DAILY_PHOTOS = 300
DAILY_BYTES = 500 * 1024 * 1024
# A photo taken but never attached (a visit discarded on the phone) goes after a week.
UNREFERENCED_RETENTION = timedelta(days=7)
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class HashMismatch(Exception):
    """The bytes do not hash to the name they were sent under."""


class NotAnImage(Exception):
    """Only JPEG, PNG and WebP photos are kept."""


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class OverQuota(Exception):
    """The user has uploaded as much as a day allows; `retry_after` seconds until the next day."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after

    def message(self) -> str:
        return _("今天上传的照片已达上限（每天 %(photos)s 张或 %(mb)s MB），请明天再传。") % {
            "photos": DAILY_PHOTOS,
            "mb": DAILY_BYTES // (1024 * 1024),
        }


def store(session: Session, *, sha256: str, data: bytes, actor: Actor) -> bool:
    """Keep the photo for the actor; True when the actor had not uploaded it before.

    Whether someone else stored the same bytes is never told (SYNC.md "Attachments"):
    the uploader holds them from now on either way. Raises HashMismatch, NotAnImage
    or OverQuota."""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise HashMismatch(sha256)
    content_type = sniff(data)
    if content_type is None:
        raise NotAnImage(sha256)
    if session.get(BlobHolder, (sha256, actor.id)) is not None:
        return False
    _check_quota(session, actor, len(data))
    if session.get(Blob, sha256) is None:
        session.add(
            Blob(sha256=sha256, content_type=content_type, size=len(data), data=data, created_by=actor.id)
        )
    session.add(BlobHolder(sha256=sha256, user_id=actor.id))
    # The actor's own references made before the bytes arrived now open the blob.
    session.execute(
        update(BlobRef)
        .where(col(BlobRef.sha256) == sha256, col(BlobRef.created_by) == actor.id, col(BlobRef.pending))
        .values(pending=False)
    )
    return True


def _check_quota(session: Session, actor: Actor, size: int) -> None:
    now = utcnow().astimezone(LOCAL_TZ)
    midnight = datetime.combine(now.date(), time(), LOCAL_TZ)
    count, used = session.execute(
        select(func.count(), func.coalesce(func.sum(Blob.size), 0))
        .select_from(BlobHolder)
        .join(Blob, col(Blob.sha256) == col(BlobHolder.sha256))
        .where(col(BlobHolder.user_id) == actor.id, col(BlobHolder.created_at) >= midnight.astimezone(UTC))
    ).one()
    if count + 1 > DAILY_PHOTOS or used + size > DAILY_BYTES:
        raise OverQuota(int((midnight + timedelta(days=1) - now).total_seconds()) + 1)


def fetch(session: Session, *, sha256: str, actor: Actor) -> Blob:
    """The blob, if the actor holds a live record whose reference to it is not pending; NotFound otherwise."""
    blob = session.get(Blob, sha256) if _readable(session, sha256, actor) else None
    if blob is None:
        raise NotFound("blob")
    return blob


def _readable(session: Session, sha256: str, actor: Actor) -> bool:
    refs = session.exec(select(BlobRef).where(BlobRef.sha256 == sha256, col(BlobRef.pending).is_(False)))
    for ref in refs:
        model = SYNC_TYPES.get(ref.record_type)
        record = session.get(model, ref.record_id) if model else None
        if record is not None and record.deleted_at is None and can_hold(actor, record):
            return True
    return False


def _held(session: Session, sha256: str, actor: Actor | None) -> bool:
    return actor is not None and session.get(BlobHolder, (sha256, actor.id)) is not None


def claim(session: Session, *, actor: Actor | None, hashes: Iterable[str], field: str = "photos") -> None:
    """A record may name only photos its author uploaded or may already read (SYNC.md
    "Attachments"). Bytes not stored yet are accepted — a record may sync before its
    photos — and open the blob only once its author uploads them."""
    for sha in set(hashes):
        if session.get(Blob, sha) is None or _held(session, sha, actor) or _mine_pending(session, sha, actor):
            continue
        if actor is None or not _readable(session, sha, actor):
            raise InvalidInput({field: _("照片不是你上传的，也不在你可查看的记录中，不能引用。")})


def _mine_pending(session: Session, sha256: str, actor: Actor | None) -> bool:
    """The actor's own earlier reference, still waiting for its bytes (a replay names it again)."""
    if actor is None:
        return False
    found = session.exec(
        select(BlobRef.sha256).where(BlobRef.sha256 == sha256, BlobRef.created_by == actor.id).limit(1)
    )
    return found.first() is not None


def references(
    session: Session, *, actor: Actor | None, record_type: str, record_id: uuid.UUID, hashes: Iterable[str]
) -> list[BlobRef]:
    """New references of a record; pending where the author does not hold the bytes yet."""
    return [
        BlobRef(
            sha256=sha,
            record_type=record_type,
            record_id=record_id,
            created_by=actor.id if actor else None,
            pending=not (
                _held(session, sha, actor) or (actor is not None and _readable(session, sha, actor))
            ),
        )
        for sha in dict.fromkeys(hashes)
        if session.get(BlobRef, (sha, record_type, record_id)) is None
    ]


def attach(
    session: Session, *, actor: Actor | None, record_type: str, record_id: uuid.UUID, hashes: Iterable[str]
) -> None:
    session.add_all(
        references(session, actor=actor, record_type=record_type, record_id=record_id, hashes=hashes)
    )


def sweep(session: Session, *, keep: timedelta = UNREFERENCED_RETENTION) -> int:
    """Delete blobs no live reference names, stored more than `keep` ago (housekeeping)."""
    referred = select(BlobRef.sha256).where(col(BlobRef.pending).is_(False))
    stale = select(Blob.sha256).where(
        col(Blob.created_at) < utcnow() - keep, col(Blob.sha256).not_in(referred)
    )
    names = list(session.exec(stale))
    if not names:
        return 0
    session.execute(delete(BlobHolder).where(col(BlobHolder.sha256).in_(names)))
    session.execute(delete(Blob).where(col(Blob.sha256).in_(names)))
    return len(names)


def check_hashes(hashes: list[str]) -> list[str]:
    """Photo references must be SHA-256 hex names (SYNC.md "Attachments"); duplicates drop out."""
    if any(not SHA256.match(h) for h in hashes):
        raise InvalidInput({"photos": _("照片编号应为 64 位小写十六进制 SHA-256。")})
    return list(dict.fromkeys(hashes))
