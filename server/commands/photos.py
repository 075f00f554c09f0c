"""Linking records to the photos (blobs) they refer to, which decides who may fetch a blob."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from sqlmodel import Session

from server.commands.errors import InvalidInput
from server.i18n import gettext as _
from server.models import BlobRef

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PHOTOS = 12


def attach(session: Session, *, record_type: str, record_id: uuid.UUID, hashes: Iterable[str]) -> None:
    for sha in set(hashes):
        if session.get(BlobRef, (sha, record_type, record_id)) is None:
            session.add(BlobRef(sha256=sha, record_type=record_type, record_id=record_id))


def check_hashes(hashes: list[str]) -> list[str]:
    """Photo references must be SHA-256 hex names (SYNC.md "Attachments"); duplicates drop out."""
    if any(not SHA256.match(h) for h in hashes):
        raise InvalidInput({"photos": _("照片编号应为 64 位小写十六进制 SHA-256。")})
    return list(dict.fromkeys(hashes))
