"""Resolving a conflict: someone with the right picks the server's or the client's value."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from server import audit
from server.access import Actor, Forbidden, get_visible
from server.commands.personal_data import record_phone_change
from server.commands.residents import sync_tag_links
from server.commands.validation import validate
from server.errors import InvalidInput, InvalidTransition
from server.i18n import gettext as _
from server.models import (
    SYNC_TYPES,
    Conflict,
    Demand,
    DemandStatus,
    Household,
    Resident,
    SyncRecord,
    TravelCard,
    utcnow,
)
from server.workflows import travel_cards as card_flow


class ConflictResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conflict_id: uuid.UUID
    choice: Literal["server", "client"]


def resolve_conflict(session: Session, *, actor: Actor, data: dict[str, Any], ip: str = "") -> Conflict:
    """The chosen value is kept and the choice audited, whichever path (office page or
    `conflict.resolve`) makes it."""
    args = validate(ConflictResolve, data)
    conflict = get_visible(session, actor, Conflict, args.conflict_id)
    if not (actor.is_staff or actor.is_worker):
        raise Forbidden(actor.role)
    if conflict.status != "open":
        raise InvalidTransition(_("这个冲突已经处理过了。"))
    if args.choice == "client":
        model = SYNC_TYPES[conflict.record_type]
        record = get_visible(session, actor, model, conflict.record_id)
        if not _fields_open(record):
            raise InvalidTransition(
                _("这条记录已进入后续流程，字段不能再改，只能保留现在的值（选择“服务器”）。")
            )
        if conflict.field == "id_hash":
            raise InvalidInput({"choice": _("身份证号不能这样恢复，请在居民页面重新录入。")})
        before = getattr(record, conflict.field)
        setattr(record, conflict.field, conflict.client_value)
        if isinstance(record, Household | Resident) and conflict.field == "phone":
            record_phone_change(session, actor=actor, record=record, old=before or "")
        if isinstance(record, Resident) and conflict.field == "tags":
            sync_tag_links(session, record)
    conflict.status = "resolved"
    conflict.resolution = args.choice
    conflict.resolved_by = actor.id
    conflict.resolved_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="resolve_conflict",
        record_type=conflict.record_type,
        record_id=conflict.record_id,
        ip=ip,
        field=conflict.field,
        choice=args.choice,
    )
    session.flush()
    return conflict


def _fields_open(record: SyncRecord) -> bool:
    """A record whose workflow has moved past editing keeps its current value: an old
    conflict must not change an approved application behind the review."""
    if isinstance(record, TravelCard):
        return record.status in card_flow.EDITABLE
    if isinstance(record, Demand):
        # A request's own fields are what was reported; only triage (still submitted) may revisit them.
        return record.status == DemandStatus.submitted
    return True
