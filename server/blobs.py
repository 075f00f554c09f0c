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

from sqlmodel import Session, select

from server.access import Actor, NotFound, can_hold
from server.errors import InvalidInput
from server.i18n import gettext as _
from server.models import SYNC_TYPES, Blob, BlobRef

MAX_BLOB = 10 * 1024 * 1024
MAX_PHOTOS = 12
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


def store(session: Session, *, sha256: str, data: bytes, actor: Actor) -> bool:
    """Keep the photo; True when it is new. Raises HashMismatch or NotAnImage."""
    if hashlib.sha256(data).hexdigest() != sha256:
        raise HashMismatch(sha256)
    content_type = sniff(data)
    if content_type is None:
        raise NotAnImage(sha256)
    if session.get(Blob, sha256) is not None:
        return False
    session.add(
        Blob(sha256=sha256, content_type=content_type, size=len(data), data=data, created_by=actor.id)
    )
    return True


def fetch(session: Session, *, sha256: str, actor: Actor) -> Blob:
    """The blob, if the actor holds a live record that refers to it; NotFound otherwise."""
    refs = session.exec(select(BlobRef).where(BlobRef.sha256 == sha256)).all()
    for ref in refs:
        model = SYNC_TYPES.get(ref.record_type)
        record = session.get(model, ref.record_id) if model else None
        if record is not None and record.deleted_at is None and can_hold(actor, record):
            blob = session.get(Blob, sha256)
            if blob is not None:
                return blob
    raise NotFound("blob")


def attach(session: Session, *, record_type: str, record_id: uuid.UUID, hashes: Iterable[str]) -> None:
    for sha in set(hashes):
        if session.get(BlobRef, (sha, record_type, record_id)) is None:
            session.add(BlobRef(sha256=sha, record_type=record_type, record_id=record_id))


def check_hashes(hashes: list[str]) -> list[str]:
    """Photo references must be SHA-256 hex names (SYNC.md "Attachments"); duplicates drop out."""
    if any(not SHA256.match(h) for h in hashes):
        raise InvalidInput({"photos": _("照片编号应为 64 位小写十六进制 SHA-256。")})
    return list(dict.fromkeys(hashes))
