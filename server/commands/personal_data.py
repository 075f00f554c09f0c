"""Audit rows for personal data (PRODUCT.md "Language, data and privacy"): what a pull
delivered in bulk, and every change of a phone or an ID number — masked, never the number."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from server import audit
from server.access import Actor
from server.models import Household, Resident, SyncRecord
from server.people import phone as phones


def record_pull(
    session: Session,
    *,
    actor: Actor,
    client_id: uuid.UUID,
    records: int,
    phones_sent: int,
    id_numbers_sent: int,
    ip: str = "",
) -> None:
    """One row per pull page that carried phone numbers or ID numbers. The pull reads in a
    snapshot, so this is its own small write after the page is built."""
    if not (phones_sent or id_numbers_sent):
        return
    audit.record(
        session,
        actor=actor,
        action="sync_pull_personal",
        record_type="sync_client",
        record_id=client_id,
        ip=ip,
        records=records,
        phones=phones_sent,
        id_numbers=id_numbers_sent,
    )


def record_phone_change(session: Session, *, actor: Actor, record: Household | Resident, old: str) -> None:
    """After an update: `old` is the record's phone before it, audited if it changed."""
    if old != record.phone:
        masked = (phones.mask(old), phones.mask(record.phone))
        record_change(session, actor=actor, record=record, field="phone", masked=masked)


def record_change(
    session: Session, *, actor: Actor, record: SyncRecord, field: str, masked: tuple[str, str]
) -> None:
    """`masked` (old, new): the log must not become a copy of the numbers."""
    old, new = masked
    audit.record(
        session,
        actor=actor,
        action="change_personal",
        record_type=record.sync_type,
        record_id=record.id,
        field=field,
        old=old,
        new=new,
    )
