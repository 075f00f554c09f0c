"""Keys for other systems that read the Open311 export: issued once, kept as a hash, revoked."""

from __future__ import annotations

import secrets
import uuid

from sqlmodel import Session

from server import audit
from server.access import Actor
from server.errors import InvalidInput
from server.i18n import gettext as _
from server.models import ApiKey, utcnow


def issue_key(session: Session, *, actor: Actor, name: str) -> tuple[ApiKey, str]:
    """A new key for another system; the key itself is returned once and only its hash kept."""
    name = name.strip()
    if not name or len(name) > 60:
        raise InvalidInput({"name": _("名称：必须填写，最多 60 个字。")})
    key = "dsk_" + secrets.token_urlsafe(32)
    row = ApiKey(name=name, key_hash=ApiKey.hash_of(key), prefix=key[:10], created_by=actor.id)
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor, action="api_key.issue", record_type="api_key", record_id=row.id, name=name
    )
    return row, key


def revoke_key(session: Session, *, actor: Actor, key_id: uuid.UUID) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise InvalidInput({"key": _("没有这个密钥。")})
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, actor=actor, action="api_key.revoke", record_type="api_key", record_id=row.id)
    return row
