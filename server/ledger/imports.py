"""Importing the household ledger: read and check every row, then write the good ones, a
batch of whole households per transaction, through the office's own commands.

Idempotent: a resident is found by the keyed hash of their ID number (or, without one, by
name in the household), a household by grid and normalised address. The same file again
changes nothing; an edited row updates its resident in place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from server import audit
from server.access import Actor
from server.commands.households import add_household, join_address, update_household
from server.commands.residents import add_residents, link_tags, update_resident
from server.db import Database
from server.errors import DomainError
from server.i18n import gettext as _
from server.ledger import sheet
from server.ledger.columns import (
    HEADER_SEARCH_ROWS,
    Header,
    NoHeader,
    check_required,
    match_header,
    no_header_message,
)
from server.ledger.rows import LedgerRow, Refusal, RowReader, address_key, is_blank, load_reference
from server.models import Community, Grid, Household, Resident, Role
from server.people.vault import Vault

BATCH_HOUSEHOLDS = 200  # whole households per transaction: never half a household
SHELL = Actor(id=uuid.UUID(int=0), username="shell", display_name="命令行", role=Role.admin)
_COMPARED = ("name", "relation", "phone", "notes", "tags")


@dataclass
class Counts:
    """Rows (residents) added, updated, unchanged and refused; households added and updated."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    households_added: int = 0
    households_updated: int = 0

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Plan:
    """A file read and checked: its good rows grouped by household, in the file's order."""

    header: Header
    households: list[list[LedgerRow]]
    refusals: list[Refusal]
    rows: int
    sha256: str

    @property
    def good_rows(self) -> int:
        return sum(len(h) for h in self.households)


@dataclass
class Outcome:
    counts: Counts
    refusals: list[Refusal] = field(default_factory=list)  # the plan's and the writes', by row


class ImportRefused(ValueError):
    """The whole file cannot be imported (unreadable, no header, unknown community)."""


def community_id(session: Session, code: str | None) -> uuid.UUID | None:
    if not code:
        return None
    found = session.exec(
        select(Community.id).where(
            (Community.code == code) | (Community.name == code), col(Community.deleted_at).is_(None)
        )
    ).first()
    if found is None:
        raise ImportRefused(_("没有这个社区：%(name)s。", name=code))
    return found


def read_plan(db: Database, actor: Actor | None, path: Path, community: str | None = None) -> Plan:
    """Every row read and checked against the reference data; nothing written."""
    who = actor or SHELL
    with db.read() as session:
        ref = load_reference(session, who, community_id(session, community))
    if community is None and who.community_id is not None:
        ref.community_id = who.community_id
    try:
        rows = sheet.read_rows(path)
        header: Header | None = None
        reader: RowReader | None = None
        households: dict[tuple[uuid.UUID, str], list[LedgerRow]] = {}
        refusals: list[Refusal] = []
        first_row_of: dict[str, int] = {}
        total = 0
        for number, values in rows:
            if reader is None:
                header = match_header(number, values)
                if header is not None:
                    check_required(header)
                    reader = RowReader(header, ref)
                elif number >= HEADER_SEARCH_ROWS:
                    break
                continue
            if is_blank(values):
                continue
            total += 1
            row = reader.read(number, values)
            if isinstance(row, LedgerRow) and row.id_number:
                first = first_row_of.setdefault(row.id_number, number)
                if first != number:
                    row = Refusal(number, values, _("身份证号与第 %(row)s 行重复。", row=first))
            if isinstance(row, Refusal):
                refusals.append(row)
            else:
                households.setdefault(row.address_key, []).append(row)
    except sheet.UnreadableFile as exc:
        raise ImportRefused(str(exc)) from None
    except NoHeader as exc:
        raise ImportRefused(str(exc)) from None
    if header is None:
        raise ImportRefused(no_header_message())
    return Plan(header, list(households.values()), refusals, total, sheet.sha256(path))


class _RolledBack(Exception):
    """Ends a dry run's transaction: everything was checked and written, then undone."""

    def __init__(self, counts: Counts, refusals: list[Refusal]) -> None:
        super().__init__("dry run")
        self.counts = counts
        self.refusals = refusals


Progress = Callable[[int, int], None]  # rows done, rows in all
OnBatch = Callable[[Session, int, Counts, list[Refusal]], None]  # in the batch's transaction


def apply_plan(
    db: Database,
    vault: Vault,
    actor: Actor | None,
    plan: Plan,
    *,
    dry_run: bool = False,
    start: int = 0,
    progress: Progress | None = None,
    on_batch: OnBatch | None = None,
    batch_size: int | None = None,
) -> Outcome:
    """Write the plan's households from `start` on, BATCH_HOUSEHOLDS per transaction; a dry
    run writes each batch as for real and rolls it back. `on_batch` runs inside each batch's
    transaction with the households done so far, so a job that records it there resumes
    exactly where the last commit left off."""
    who = actor or SHELL
    outcome = Outcome(Counts(refused=len(plan.refusals)), list(plan.refusals))
    known = db.run_read(lambda session: _known_households(session, plan))
    done_rows = sum(len(h) for h in plan.households[:start])
    size = batch_size or BATCH_HOUSEHOLDS
    for begin in range(start, len(plan.households), size):
        batch = plan.households[begin : begin + size]

        def write(
            session: Session, batch: list[list[LedgerRow]] = batch, end: int = begin + len(batch)
        ) -> Any:
            writer = _Writer(session, who, vault, known)
            writer.write(batch)
            if dry_run:
                raise _RolledBack(writer.counts, writer.refusals)
            if on_batch is not None:
                on_batch(session, end, writer.counts, writer.refusals)
            return writer.counts, writer.refusals

        try:
            counts, refusals = db.run_write(write)
        except _RolledBack as undone:
            counts, refusals = undone.counts, undone.refusals
        outcome.counts.add(counts)
        outcome.refusals.extend(refusals)
        done_rows += sum(len(h) for h in batch)
        if progress is not None:
            progress(done_rows, plan.good_rows)
    outcome.refusals.sort(key=lambda r: r.number)
    return outcome


def audit_import(session: Session, actor: Actor | None, plan: Plan, counts: Counts, file_name: str) -> None:
    """The one audit entry of an import: who, which file (name and SHA-256), how many rows."""
    audit.record(
        session,
        actor=actor,
        action="import_households",
        record_type="ledger",
        file=file_name,
        sha256=plan.sha256,
        rows=plan.rows,
        counts=counts.as_dict(),
    )


def _known_households(session: Session, plan: Plan) -> dict[tuple[uuid.UUID, str], uuid.UUID]:
    grids = {rows[0].grid.id for rows in plan.households}
    known: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    if not grids:
        return known
    query = select(Household).where(col(Household.grid_id).in_(grids), Household.deleted_at == None)  # noqa: E711
    for household in session.exec(query):
        known.setdefault(
            address_key(
                household.grid_id, household.estate, household.building, household.unit, household.room
            ),
            household.id,
        )
    return known


class _Writer:
    """One batch of households, written in the caller's transaction: the new households and
    residents added and flushed at once, then the changed ones updated one by one."""

    def __init__(
        self, session: Session, actor: Actor, vault: Vault, known: dict[tuple[uuid.UUID, str], uuid.UUID]
    ) -> None:
        self.session = session
        self.actor = actor
        self.vault = vault
        self.known = known
        self.counts = Counts()
        self.refusals: list[Refusal] = []
        self.by_hash: dict[str, Resident] = {}
        self.by_household: dict[uuid.UUID, list[Resident]] = {}
        self.new_rows: list[tuple[Household, LedgerRow]] = []
        self.updates: list[tuple[Resident, LedgerRow, str]] = []
        self.household_updates: list[tuple[Household, dict[str, str]]] = []
        self.grids: list[Grid] = []
        self.households: list[Household] = []

    def write(self, batch: list[list[LedgerRow]]) -> None:
        grid_ids = {rows[0].grid.id for rows in batch}
        # Held here: the session's identity map keeps rows only while someone refers to them.
        self.grids = list(self.session.exec(select(Grid).where(col(Grid.id).in_(grid_ids))))
        self._load_residents(batch)
        with self.session.no_autoflush:  # a household with no resident left must never be written
            for rows in batch:
                self._household(rows)
            self._add_new()
        self.session.flush()
        for household, changes in self.household_updates:
            self._update_household(household, changes)
        for resident, row, id_hash in self.updates:
            self._update(resident, row, id_hash)

    def _load_residents(self, batch: list[list[LedgerRow]]) -> None:
        hashes = {self.vault.keyed_hash(r.id_number) for rows in batch for r in rows if r.id_number}
        ids = [self.known[rows[0].address_key] for rows in batch if rows[0].address_key in self.known]
        live = col(Resident.deleted_at).is_(None)
        if hashes:
            for resident in self.session.exec(
                select(Resident).where(col(Resident.id_hash).in_(hashes), live)
            ):
                self.by_hash[resident.id_hash] = resident
        if ids:
            for resident in self.session.exec(
                select(Resident).where(col(Resident.household_id).in_(ids), live)
            ):
                self.by_household.setdefault(resident.household_id, []).append(resident)
            self.households = list(self.session.exec(select(Household).where(col(Household.id).in_(ids))))

    def _household(self, rows: list[LedgerRow]) -> None:
        lead = next((r for r in rows if r.resident.get("relation") == "head"), rows[0])
        existing = self.known.get(lead.address_key)
        household = self.session.get(Household, existing) if existing is not None else None
        matched = [(row, *self._match(household, row)) for row in rows]
        if household is None:
            if all(refused for _row, _resident, refused in matched):
                self._refuse_each(matched)
                return
            try:
                household = add_household(self.session, actor=self.actor, data=_household_data(lead))
            except DomainError as exc:
                self._refuse_all(rows, exc.message)
                return
        else:
            changes = {k: v for k, v in lead.household.items() if getattr(household, k) != v}
            if changes:
                self.household_updates.append((household, changes))
        for row, resident, refused in matched:
            if refused:
                self._refuse_all([row], refused)
            elif resident is None:
                self.new_rows.append((household, row))
            else:
                self.updates.append((resident, row, self._hash(row)))

    def _match(self, household: Household | None, row: LedgerRow) -> tuple[Resident | None, str]:
        """The resident this row is (by ID number, else by name in the household) or None;
        and why the row is refused, if it names someone of another household."""
        id_hash = self._hash(row)
        resident = self.by_hash.get(id_hash) if id_hash else None
        if resident is None and household is not None:
            resident = next(
                (
                    r
                    for r in self.by_household.get(household.id, [])
                    if r.name == row.name and (not r.id_hash or not id_hash)
                ),
                None,
            )
        if resident is not None and (household is None or resident.household_id != household.id):
            return None, _("身份证号已登记在另一户：%(household)s。", household=self._masked(resident))
        return resident, ""

    def _hash(self, row: LedgerRow) -> str:
        return self.vault.keyed_hash(row.id_number) if row.id_number else ""

    def _add_new(self) -> None:
        items = [(h, {"name": r.name, "id_number": r.id_number, **r.resident}) for h, r in self.new_rows]
        answers = add_residents(self.session, actor=self.actor, vault=self.vault, items=items)
        added: list[Resident] = []
        for (_household, row), answer in zip(self.new_rows, answers, strict=True):
            if isinstance(answer, DomainError):
                self._refuse_all([row], answer.message)
            else:
                added.append(answer)
        homes = {r.household_id for r in added}
        for household in {h.id: h for h, _row in self.new_rows}.values():
            if household.id in homes:
                self.counts.households_added += 1
            else:
                self.session.expunge(household)  # none of its residents went in: nor does it
        self.counts.added += len(added)
        self.session.flush()
        link_tags(self.session, added)

    def _refuse_all(self, rows: list[LedgerRow], reason: str) -> None:
        self.refusals.extend(Refusal(r.number, r.cells, reason) for r in rows)
        self.counts.refused += len(rows)

    def _refuse_each(self, matched: list[tuple[LedgerRow, Resident | None, str]]) -> None:
        for row, _resident, reason in matched:
            self._refuse_all([row], reason)

    def _update_household(self, household: Household, changes: dict[str, str]) -> None:
        update_household(self.session, actor=self.actor, data={"household_id": household.id, "set": changes})
        self.counts.households_updated += 1

    def _update(self, resident: Resident, row: LedgerRow, id_hash: str) -> None:
        wanted = {"name": row.name, **row.resident}
        changes = {k: v for k, v in wanted.items() if k in _COMPARED and getattr(resident, k) != v}
        if id_hash and resident.id_hash != id_hash:
            changes["id_number"] = row.id_number
        if not changes:
            self.counts.unchanged += 1
            return
        try:
            update_resident(
                self.session,
                actor=self.actor,
                vault=self.vault,
                data={"resident_id": resident.id, "set": changes},
            )
        except DomainError as exc:
            self._refuse_all([row], exc.message)
            return
        self.counts.updated += 1

    def _masked(self, resident: Resident) -> str:
        household = self.session.get(Household, resident.household_id)
        if household is None:
            return _("另一户")
        head = self.session.exec(
            select(Resident.name).where(Resident.household_id == household.id, Resident.relation == "head")
        ).first()
        place = join_address(
            household.estate, household.building, "**" if household.unit or household.room else ""
        )
        return f"{place}（{_('户主')} {head[0]}{'*' * (len(head) - 1)}）" if head else place


def _household_data(lead: LedgerRow) -> dict[str, Any]:
    return {
        "grid_id": lead.grid.id,
        "estate": lead.estate,
        "building": lead.building,
        "unit": lead.unit,
        "room": lead.room,
        **lead.household,
    }
