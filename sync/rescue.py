"""The rescue file (救援文件): a phone's unsynced work in one signed file, for when it cannot
sync (docs/sync.md "Rescue file"). Importing it replays the file through the normal push
(`sync.push`) under its own client id and mutation ids, so whatever already arrived is
answered as replayed and nothing doubles.

The file is JSON: `{"format": "doorstep-rescue", "payload": "<JSON text>", "signature": "<hex>"}`,
the signature an HMAC-SHA256 of the payload's UTF-8 bytes with the key the server issued to
that client (`key_for`), which binds the file to one client of one user.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from server import audit, blobs
from server.access import Actor
from server.auth import actor_for
from server.i18n import gettext as _
from server.models import Role, SyncClient, User
from server.people.vault import Vault
from sync.envelope import MAX_MUTATIONS, BadEnvelope, parse_push
from sync.push import push

FORMAT = "doorstep-rescue"
MAX_FILE = 64 * 1024 * 1024  # photos are at most 10 MB each; a phone rarely holds more than a few


class RescueRefused(Exception):
    """The file is refused as a whole; nothing was changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code, self.message = code, message


@dataclass(frozen=True)
class EntryOutcome:
    id: int
    name: str
    outcome: str  # applied, replayed, conflict, rejected, not_processed
    message: str = ""


@dataclass
class RescueReport:
    client_id: uuid.UUID
    worker: str
    entries: list[EntryOutcome] = field(default_factory=list)
    photos_stored: int = 0
    photos_refused: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for e in self.entries if e.outcome == outcome)


def key_for(secret: str, client_id: uuid.UUID, user_id: uuid.UUID) -> str:
    """The client's rescue key: derived, so the server keeps nothing per client."""
    message = f"rescue|{client_id}|{user_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(key: str, payload: str) -> str:
    return hmac.new(bytes.fromhex(key), payload.encode("utf-8"), hashlib.sha256).hexdigest()


def _refused_file() -> RescueRefused:
    return RescueRefused("not_a_rescue_file", _("这不是家门口的救援文件，或文件已损坏。"))


def _read(data: bytes) -> tuple[str, str, dict[str, Any]]:
    if len(data) > MAX_FILE:
        raise RescueRefused("too_large", _("救援文件太大（上限 64 MB）。"))
    try:
        outer = json.loads(data)
        payload = outer["payload"]
        signature = outer["signature"]
        inner = json.loads(payload)
    except (ValueError, TypeError, KeyError):
        raise _refused_file() from None
    if not isinstance(outer, dict) or outer.get("format") != FORMAT or not isinstance(inner, dict):
        raise _refused_file()
    if not isinstance(payload, str) or not isinstance(signature, str):
        raise _refused_file()
    return payload, signature, inner


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise _refused_file() from None


def _may_import(importer: Actor | None, owner: User) -> bool:
    """The shell, an admin, the worker themself, or staff of the worker's community."""
    if importer is None or importer.is_admin or importer.id == owner.id:
        return True
    return importer.role == Role.community_staff and importer.community_id == owner.community_id


def _photos(session: Session, owner: Actor, raw: Any, report: RescueReport) -> None:
    for photo in raw if isinstance(raw, list) else []:
        try:
            sha = str(photo["sha256"])
            content = base64.b64decode(photo["data"], validate=True)
            blobs.store(session, sha256=sha, data=content, actor=owner)
        except (KeyError, TypeError, binascii.Error, blobs.HashMismatch, blobs.NotAnImage, blobs.OverQuota):
            report.photos_refused += 1
        else:
            report.photos_stored += 1


def _outcome(result: dict[str, Any], name: str) -> EntryOutcome:
    status = result["status"]
    if result.get("replayed"):
        status = "replayed"
    elif status == "out_of_order":
        status = "not_processed"
    return EntryOutcome(id=result["id"], name=name, outcome=status, message=str(result.get("message", "")))


def import_file(
    session: Session, *, data: bytes, secret: str, vault: Vault, importer: Actor | None, ip: str = ""
) -> RescueReport:
    """Check the file (format, client, owner, signature, who imports), then push its photos
    and mutations as its own client would have. RescueRefused changes nothing."""
    payload, signature, inner = _read(data)
    client_id, user_id = _uuid(inner.get("client_id")), _uuid(inner.get("user_id"))
    client = session.get(SyncClient, client_id)
    if client is None or client.user_id != user_id:
        raise RescueRefused("client_not_yours", _("这个救援文件的设备不属于文件里写的用户，不能导入。"))
    if not hmac.compare_digest(sign(key_for(secret, client_id, user_id), payload), signature.lower()):
        raise RescueRefused("bad_signature", _("救援文件的签名不符：文件被改动过，或不是这台设备导出的。"))
    user = session.exec(select(User).where(User.id == user_id)).one()
    if not _may_import(importer, user):
        raise RescueRefused("forbidden", _("您只能导入本社区网格员的救援文件。"))
    owner = actor_for(session, user)
    mutations = inner.get("mutations")
    if not isinstance(mutations, list):
        raise _refused_file()
    report = RescueReport(client_id=client_id, worker=user.display_name)
    _photos(session, owner, inner.get("photos"), report)
    names = {m.get("id"): str(m.get("name")) for m in mutations if isinstance(m, dict)}
    for start in range(0, len(mutations), MAX_MUTATIONS):
        envelope = {
            "protocol": 1,
            "client_id": str(client_id),
            "mutations": mutations[start : start + MAX_MUTATIONS],
        }
        try:
            request = parse_push(envelope)
        except BadEnvelope as exc:
            raise RescueRefused(exc.code, exc.message) from None
        result = push(session, actor=owner, vault=vault, request=request, ip=ip)
        report.entries.extend(_outcome(r, names.get(r["id"], "")) for r in result.results)
        if result.halted:
            processed = {e.id for e in report.entries}
            report.entries.extend(
                EntryOutcome(id=m.id, name=m.name, outcome="not_processed")
                for m in request.mutations
                if m.id not in processed
            )
            break
    audit.record(
        session,
        actor=importer,
        action="rescue.import",
        record_type="sync_client",
        record_id=client_id,
        ip=ip,
        worker=user.username,
        applied=report.count("applied"),
        replayed=report.count("replayed"),
        conflict=report.count("conflict"),
        rejected=report.count("rejected"),
        photos=report.photos_stored,
    )
    return report
