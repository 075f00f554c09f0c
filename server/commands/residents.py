"""Domain commands for residents: add and edit, with the ID number kept encrypted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete
from sqlmodel import Session, col, select

from server import audit
from server.access import Actor, Forbidden, OutOfScope, can_hold, get_visible
from server.commands.households import check_phone
from server.commands.personal_data import record_change, record_phone_change
from server.commands.updates import UpdateResult, apply_changes
from server.commands.validation import validate
from server.errors import DomainError, IdReused, InvalidInput
from server.i18n import gettext as _
from server.models import Household, Resident, ResidentTag, Tag, utcnow
from server.people import idnumber
from server.people.vault import Vault

RELATIONS = ("head", "spouse", "child", "parent", "grandchild", "sibling", "tenant", "other")


class ResidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    resident_id: uuid.UUID | None = None
    household_id: uuid.UUID
    name: str = Field(min_length=1, max_length=40)
    relation: str = Field(default="head", max_length=20)
    id_number: str = Field(default="", max_length=20)
    phone: str = Field(default="", max_length=30)
    notes: str = Field(default="", max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=40)


class ResidentChanges(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=40)
    relation: str | None = Field(default=None, max_length=20)
    id_number: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=30)
    notes: str | None = Field(default=None, max_length=2000)
    tags: list[str] | None = Field(default=None, max_length=40)


class ResidentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resident_id: uuid.UUID
    base_version: int | None = Field(default=None, ge=0)
    set: dict[str, Any]


def check_id_number(value: str, *, today: date | None = None) -> idnumber.IdNumber | None:
    if not value:
        return None
    try:
        return idnumber.parse(value, today=today)
    except idnumber.InvalidIdNumber as exc:
        message = {
            "shape": _("身份证号应为 18 位（最后一位可以是 X），或 15 位旧号码。"),
            "checksum": _("身份证号校验位不对，请核对后重新输入。"),
            "birth_date": _("身份证号中的出生日期无效。"),
        }[exc.code]
        raise InvalidInput({"id_number": message}) from None


def check_relation(value: str) -> str:
    if value not in RELATIONS:
        raise InvalidInput({"relation": _("与户主关系：不是可选的值。")})
    return value


def check_tags(session: Session, codes: list[str]) -> list[str]:
    unique = sorted(set(codes))
    if not unique:
        return []
    known = known_tags(session, unique)
    unknown = [c for c in unique if c not in known]
    if unknown:
        raise _unknown_tags(unknown)
    return unique


def known_tags(session: Session, codes: list[str]) -> set[str]:
    """Those of `codes` that are live tags of the catalogue."""
    return set(session.exec(select(Tag.code).where(col(Tag.code).in_(codes), Tag.deleted_at == None)))  # noqa: E711


def _unknown_tags(codes: list[str]) -> InvalidInput:
    return InvalidInput({"tags": _("没有这些标签：%(codes)s", codes="、".join(codes))})


def sync_tag_links(session: Session, resident: Resident) -> None:
    """Mirror `resident.tags` into resident_tag, which the household filters use."""
    session.execute(delete(ResidentTag).where(col(ResidentTag.resident_id) == resident.id))
    if resident.tags:
        ids = session.exec(select(Tag.id).where(col(Tag.code).in_(resident.tags)))
        session.add_all(ResidentTag(resident_id=resident.id, tag_id=tag_id) for tag_id in ids)


def _set_id_number(resident: Resident, parsed: idnumber.IdNumber | None, vault: Vault) -> None:
    if parsed is None:
        resident.id_cipher = resident.id_hash = resident.id_masked = ""
        return
    resident.id_cipher = vault.encrypt(parsed.number)
    resident.id_hash = vault.keyed_hash(parsed.number)
    resident.id_masked = parsed.masked
    resident.birth_date = parsed.birth_date
    resident.sex = parsed.sex


def create_resident(session: Session, *, actor: Actor, vault: Vault, data: dict[str, Any]) -> Resident:
    if actor.is_department:
        raise Forbidden(actor.role)
    args = validate(ResidentCreate, data)
    household = get_visible(session, actor, Household, args.household_id)
    parsed = check_id_number(args.id_number)
    phone = check_phone(args.phone)
    check_relation(args.relation)
    tags = check_tags(session, args.tags)
    if args.resident_id is not None:
        existing = session.get(Resident, args.resident_id)
        if existing is not None:
            same = (
                existing.household_id == household.id
                and existing.name == args.name
                and existing.relation == args.relation
                and existing.phone == phone
                and existing.notes == args.notes
                and existing.tags == tags
                and existing.id_hash == (vault.keyed_hash(parsed.number) if parsed else "")
            )
            if same:
                return existing
            raise IdReused(_("这个编号已被另一位居民使用。"))
    resident = _new_resident(household, args, parsed, phone, tags, vault)
    session.add(resident)
    session.flush()
    sync_tag_links(session, resident)
    return resident


def add_residents(
    session: Session, *, actor: Actor, vault: Vault, items: list[tuple[Household, dict[str, Any]]]
) -> list[Resident | DomainError]:
    """New residents (each into its household, which may not be flushed yet), checked as
    `create_resident` checks one, for a caller that writes many at once (the ledger
    import): each answer is the resident added to the session or why it was refused. The
    caller flushes, then calls `link_tags`. No client ids, so no replays."""
    if actor.is_department:
        raise Forbidden(actor.role)
    checked: list[tuple[Household, ResidentCreate, idnumber.IdNumber | None, str] | DomainError] = []
    codes: set[str] = set()
    for household, data in items:
        if not can_hold(actor, household):
            raise OutOfScope("household")
        try:
            args = validate(ResidentCreate, {**data, "household_id": household.id})
            check_relation(args.relation)
            checked.append((household, args, check_id_number(args.id_number), check_phone(args.phone)))
            codes.update(args.tags)
        except DomainError as exc:
            checked.append(exc)
    known = known_tags(session, sorted(codes)) if codes else set()
    answers: list[Resident | DomainError] = []
    for item in checked:
        if isinstance(item, DomainError):
            answers.append(item)
            continue
        household, args, parsed, phone = item
        unknown = sorted(set(args.tags) - known)
        if unknown:
            answers.append(_unknown_tags(unknown))
            continue
        resident = _new_resident(household, args, parsed, phone, sorted(set(args.tags)), vault)
        session.add(resident)
        answers.append(resident)
    return answers


def link_tags(session: Session, residents: list[Resident]) -> None:
    """resident_tag rows of flushed new residents (`sync_tag_links` for many, none to delete)."""
    codes = {code for r in residents for code in r.tags}
    if not codes:
        return
    ids = dict(session.exec(select(Tag.code, Tag.id).where(col(Tag.code).in_(codes))).all())
    session.add_all(ResidentTag(resident_id=r.id, tag_id=ids[code]) for r in residents for code in r.tags)


def _new_resident(
    household: Household,
    args: ResidentCreate,
    parsed: idnumber.IdNumber | None,
    phone: str,
    tags: list[str],
    vault: Vault,
) -> Resident:
    resident = Resident(
        id=args.resident_id or uuid.uuid4(),
        household_id=household.id,
        community_id=household.community_id,
        grid_id=household.grid_id,
        name=args.name,
        relation=args.relation,
        phone=phone,
        notes=args.notes,
        tags=tags,
        # Given, not left to the fields' default factories: pydantic inspects a factory's
        # signature at every call, a tenth of a 50,000-row ledger import's time.
        created_at=(now := utcnow()),
        updated_at=now,
        field_versions={},
    )
    _set_id_number(resident, parsed, vault)
    return resident


def update_resident(
    session: Session,
    *,
    actor: Actor,
    vault: Vault,
    data: dict[str, Any],
    client_id: str | None = None,
    at: datetime | None = None,
) -> tuple[Resident, UpdateResult]:
    args = validate(ResidentUpdate, data)
    resident = get_visible(session, actor, Resident, args.resident_id)
    changes_model = validate(ResidentChanges, args.set)
    changes = {k: getattr(changes_model, k) for k in changes_model.model_fields_set}
    if not changes:
        raise InvalidInput({"set": _("没有要修改的内容。")})
    if "name" in changes and not changes["name"]:
        raise InvalidInput({"name": _("姓名：必须填写。")})
    if "relation" in changes:
        changes["relation"] = check_relation(changes["relation"] or "other")
    if "phone" in changes:
        changes["phone"] = check_phone(changes["phone"] or "")
    if "notes" in changes:
        changes["notes"] = changes["notes"] or ""
    if "tags" in changes:
        changes["tags"] = check_tags(session, changes["tags"] or [])
    id_number = changes.pop("id_number", None)
    if id_number is not None:
        parsed = check_id_number(id_number)
        new_hash = vault.keyed_hash(parsed.number) if parsed else ""
        if new_hash != resident.id_hash:
            # The cipher differs on every encryption, so compare and track by the keyed hash.
            changes["id_hash"] = new_hash
    phone_before, id_before = resident.phone, resident.id_masked
    result = apply_changes(
        session,
        actor=actor,
        record=resident,
        changes=changes,
        base_version=args.base_version,
        client_id=client_id,
        at=at,
    )
    record_phone_change(session, actor=actor, record=resident, old=phone_before)
    if "id_hash" in result.applied:
        _set_id_number(resident, parsed, vault)
        masked = (id_before, resident.id_masked)
        record_change(session, actor=actor, record=resident, field="id_number", masked=masked)
    if "tags" in result.applied:
        sync_tag_links(session, resident)
    session.flush()
    return resident, result


@dataclass(frozen=True)
class Revealed:
    resident_id: uuid.UUID
    id_number: str
    phone: str


def reveal_resident(
    session: Session, *, actor: Actor, vault: Vault, resident_id: uuid.UUID, ip: str = ""
) -> Revealed:
    """A resident's full ID number and phone for the caller; the view is logged in the same
    transaction, so no number is ever decrypted for a person without an audit row."""
    resident = get_visible(session, actor, Resident, resident_id)
    id_number = vault.decrypt(resident.id_cipher) if resident.id_cipher else ""
    audit.record(
        session,
        actor=actor,
        action="reveal_id_number",
        record_type="resident",
        record_id=resident.id,
        ip=ip,
        fields=["id_number", "phone"],
    )
    return Revealed(resident.id, id_number, resident.phone)
