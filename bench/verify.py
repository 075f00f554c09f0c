"""After the run, from the database: what the phones believe happened, happened exactly once.

- Every mutation a phone holds an `applied`/`conflict` result for took effect
  exactly once: its record exists (visits, requests, residents, applications
  by the id the phone chose), a request has one `created` event, an accepted
  request one `accepted` event by that worker, a household holds the value of
  the last update the phone made to each field, each photo is stored and
  linked to its record.
- Every mutation a phone holds a `rejected` result for changed nothing (its id
  is nowhere), and every stored refusal is the one the phone was told.
- Each client's `last_mutation_id` is the highest id its phone sent.
- Nothing else changed: rows per table are what was seeded plus what the
  phones were told was applied; no new row belongs to no acknowledged mutation.

Phones' copies against a fresh full pull are compared in `load.py` (it needs
the network); the count comes in as `unconverged`.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from county import table_counts
from phone import Phone
from sqlalchemy import select
from sqlmodel import col

from server.db import Database
from server.models import (
    Blob,
    BlobRef,
    Demand,
    DemandEvent,
    Household,
    MutationOutcome,
    Resident,
    SyncClient,
    TravelCard,
    TravelCardEvent,
    Visit,
    utcnow,
)
from server.workflows.reconciliation import Standing, balance

CREATES = {
    "visit.record": ("visit", "visit_id"),
    "resident.create": ("resident", "resident_id"),
    "demand.create": ("demand", "demand_id"),
    "travel_card.create": ("travel_card", "application_id"),
}
CHECKED = (
    "visit",
    "resident",
    "resident_tag",
    "demand",
    "demand_event",
    "travel_card",
    "travel_card_event",
    "household",
    "community",
    "grid",
    "department",
    "tag",
    "user",
    "user_grid",
    "conflict",
    "tombstone",
    "blob",
    "blob_ref",
    "mutation_outcome",
    "sync_client",
)


@dataclass
class Report:
    expected: int = 0  # mutations the phones hold applied/conflict for
    found: int = 0  # … that took effect exactly once
    lost: int = 0
    duplicated: int = 0
    rejected_expected: int = 0  # bad on purpose
    rejected_found: int = 0  # … refused, and left nothing behind
    rejected_with_effects: int = 0
    refused_unexpectedly: Counter[str] = field(default_factory=Counter)
    unresolved: int = 0  # still queued, or with no result, at the end
    unexpected_rows: Counter[str] = field(default_factory=Counter)
    counter_mismatches: int = 0
    outcome_mismatches: int = 0
    photos_expected: int = 0
    photos_found: int = 0
    photos_lost: int = 0
    phones: int = 0
    unconverged: int = 0
    tables: list[tuple[str, int, int, int]] = field(default_factory=list)  # name, seeded, expected, found
    other_tables: list[tuple[str, int, int]] = field(default_factory=list)  # name, seeded, found
    problems: list[str] = field(default_factory=list)
    # Each phone's balance as the server's reconciliation (设备对账) sees it: "0 owed", or not.
    balances: list[tuple[str, str]] = field(default_factory=list)  # username, balance in words

    @property
    def phones_owing(self) -> int:
        return sum(1 for _, said in self.balances if said != "0 owed")

    @property
    def tables_off(self) -> int:
        return sum(1 for _, _, expected, found in self.tables if expected != found)

    @property
    def ok(self) -> bool:
        return not (
            self.lost
            or self.duplicated
            or self.rejected_with_effects
            or self.unresolved
            or self.unconverged
            or self.counter_mismatches
            or self.outcome_mismatches
            or self.photos_lost
            or self.tables_off
            or sum(self.unexpected_rows.values())
            or self.rejected_found != self.rejected_expected
            or self.phones_owing
        )

    def lines(self) -> list[str]:
        out = [
            "verification, from the database:",
            f"  acknowledged mutations: expected {self.expected:,}  found {self.found:,}  "
            f"lost {self.lost:,}  duplicated {self.duplicated:,}",
            f"  refused on purpose:     expected {self.rejected_expected:,}  refused and left nothing "
            f"{self.rejected_found:,}  left traces {self.rejected_with_effects:,}",
            f"  photos:                 expected {self.photos_expected:,}  found {self.photos_found:,}  "
            f"lost {self.photos_lost:,}",
            f"  phones converged:       {self.phones - self.unconverged:,}/{self.phones:,} "
            "(local copy == fresh full pull of its scope)",
            f"  unresolved at the end {self.unresolved:,}; client counters off {self.counter_mismatches:,}; "
            f"stored outcomes off {self.outcome_mismatches:,}; "
            f"rows of no acknowledged mutation {sum(self.unexpected_rows.values()):,}",
        ]
        if self.refused_unexpectedly:
            out.append(f"  refused although well-formed: {dict(self.refused_unexpectedly)}")
        out.append("  rows per table (seeded + acknowledged = expected / found):")
        for name, seeded, expected, found in self.tables:
            mark = "ok" if expected == found else "MISMATCH"
            out.append(
                f"    {name:<18} {seeded:>9,} + {expected - seeded:>7,} = {expected:>9,} / {found:>9,}  {mark}"
            )
        bookkeeping = ", ".join(
            f"{n} +{found - seeded:,}" for n, seeded, found in self.other_tables if found != seeded
        )
        out.append(f"  bookkeeping (not checked): {bookkeeping or 'no change'}")
        out.append(
            f"  phones in balance (server's reconciliation): {len(self.balances) - self.phones_owing:,}"
            f"/{len(self.balances):,}"
        )
        out += _wrapped([f"{name} {said}" for name, said in self.balances])
        out += [f"  ! {p}" for p in self.problems[:20]]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "found": self.found,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "rejected_expected": self.rejected_expected,
            "rejected_found": self.rejected_found,
            "rejected_with_effects": self.rejected_with_effects,
            "unresolved": self.unresolved,
            "unexpected_rows": sum(self.unexpected_rows.values()),
            "counter_mismatches": self.counter_mismatches,
            "outcome_mismatches": self.outcome_mismatches,
            "photos_expected": self.photos_expected,
            "photos_found": self.photos_found,
            "photos_lost": self.photos_lost,
            "phones": self.phones,
            "unconverged": self.unconverged,
            "tables_off": self.tables_off,
            "phones_owing": self.phones_owing,
            "ok": self.ok,
        }


def _wrapped(items: list[str], width: int = 100) -> list[str]:
    lines, line = [], "   "
    for item in items:
        if len(line) + len(item) + 3 > width and line.strip():
            lines.append(line)
            line = "   "
        line += f" {item} ·"
    if line.strip():
        lines.append(line)
    return [text.rstrip(" ·") for text in lines]


def balances(db: Database, phones: list[Phone]) -> list[tuple[str, str]]:
    """Each phone's balance from the server's data alone: its counter and its latest report."""
    now = utcnow()
    ids = [uuid.UUID(p.client_id) for p in phones]
    with db.read() as s:
        query = select(SyncClient).where(col(SyncClient.client_id).in_(ids))
        rows = {str(c.client_id): c for c in s.execute(query).scalars()}
    out = []
    for phone in phones:
        client = rows.get(phone.client_id)
        if client is None:
            out.append((phone.username, "never synced" if not phone.sent else "no client on the server"))
            continue
        contact = max(client.last_seen_at, client.device_at or client.last_seen_at)
        found = balance(
            last_mutation_id=client.last_mutation_id, report=client.device, last_contact=contact, now=now
        )
        if found.standing == Standing.in_balance:
            out.append((phone.username, "0 owed"))
        elif found.standing == Standing.unknown:
            out.append((phone.username, "no report"))
        else:
            out.append((phone.username, f"{found.owed} owed, {found.photos} photos"))
    return out


def _rows(db: Database, query: Any) -> list[Any]:
    with db.read() as s:
        return list(s.execute(query).all())


def _str(value: Any) -> str:
    return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(str(value)))


def verify(
    db: Database, phones: list[Phone], *, seeded: dict[str, int], seed_version: int, unconverged: int
) -> Report:
    report = Report(phones=len(phones), unconverged=unconverged)
    after = seed_version

    visits = {
        _str(i): _str(w) for i, w in _rows(db, select(Visit.id, Visit.worker_id).where(Visit.version > after))
    }
    residents = {_str(i) for (i,) in _rows(db, select(Resident.id).where(Resident.version > after))}
    demands = {
        _str(i): (status, _str(a) if a else None)
        for i, status, a in _rows(
            db, select(Demand.id, Demand.status, Demand.assignee_id).where(Demand.version > after)
        )
    }
    demand_events = Counter(
        (_str(d), kind, _str(a) if a else None)
        for d, kind, a in _rows(
            db,
            select(DemandEvent.demand_id, DemandEvent.kind, DemandEvent.actor_id).where(
                DemandEvent.version > after
            ),
        )
    )
    cards = {_str(i) for (i,) in _rows(db, select(TravelCard.id))}
    card_events = Counter(
        (_str(a), kind) for a, kind in _rows(db, select(TravelCardEvent.application_id, TravelCardEvent.kind))
    )
    households = {
        _str(i): {"phone": p, "notes": n}
        for i, p, n in _rows(
            db, select(Household.id, Household.phone, Household.notes).where(Household.version > after)
        )
    }
    blobs = {sha for (sha,) in _rows(db, select(Blob.sha256))}
    refs = {
        (sha, kind, _str(rid))
        for sha, kind, rid in _rows(db, select(BlobRef.sha256, BlobRef.record_type, BlobRef.record_id))
    }
    counters = {_str(c): n for c, n in _rows(db, select(SyncClient.client_id, SyncClient.last_mutation_id))}
    outcomes = {
        (_str(c), int(m)): status
        for c, m, status in _rows(
            db, select(MutationOutcome.client_id, MutationOutcome.mutation_id, MutationOutcome.status)
        )
    }

    claimed: dict[str, set[str]] = {kind: set() for kind, _ in CREATES.values()}
    claimed["accept"] = set()
    claimed["household"] = set()
    seen_events: Counter[tuple[str, str, str | None]] = Counter()
    seen_card_events: Counter[tuple[str, str]] = Counter()
    deltas: Counter[str] = Counter()
    photos: set[str] = set()
    registered = 0  # clients that pushed or pulled: each has its row (SYNC.md rule 1)
    for phone in phones:
        registered += len(phone.fresh_client_ids) + bool(phone.sent or phone.cursor is not None)
        user = phone.user["id"] if phone.user else ""
        if phone.outbox or phone.photos_waiting:
            report.unresolved += len(phone.outbox) + len(phone.photos_waiting)
        if phone.sent and counters.get(phone.client_id) != max(phone.sent):
            report.counter_mismatches += 1
            report.problems.append(
                f"{phone.username}: server counter {counters.get(phone.client_id)}, phone sent up to {max(phone.sent)}"
            )
        photos |= phone.photos_uploaded
        last_set: dict[tuple[str, str], tuple[int, Any]] = {}
        for mutation_id, sent in sorted(phone.sent.items()):
            result = phone.results.get(mutation_id)
            if result is None:
                report.unresolved += 1
                continue
            name, args, status = sent["name"], sent["args"], result["status"]
            if status != "applied":
                deltas["mutation_outcome"] += 1
                if outcomes.get((phone.client_id, mutation_id)) != status:
                    report.outcome_mismatches += 1
            if sent["bad"]:
                report.rejected_expected += 1
                kind, key = CREATES[name]
                if status == "rejected" and args[key] not in _present(
                    kind, visits, residents, demands, cards
                ):
                    report.rejected_found += 1
                else:
                    report.rejected_with_effects += 1
                    report.problems.append(f"{phone.username} #{mutation_id} {name}: bad, got {status}")
                continue
            if status == "rejected":
                report.refused_unexpectedly[f"{name}: {result.get('code')}"] += 1
                continue
            report.expected += 1
            copies = _copies(name, args, user, visits, residents, demands, cards, demand_events, card_events)
            if name in CREATES:
                kind, key = CREATES[name]
                claimed[kind].add(args[key])
                deltas[kind] += 1
            if name == "demand.create":
                seen_events[(args["demand_id"], "created", user)] += 1
                deltas["demand_event"] += 1
            elif name == "travel_card.create":
                seen_card_events[(args["application_id"], "created")] += 1
                deltas["travel_card_event"] += 1
            elif name == "demand.accept":
                claimed["accept"].add(args["demand_id"])
                seen_events[(args["demand_id"], "accepted", user)] += 1
                deltas["demand_event"] += 1
            elif name == "household.update":
                claimed["household"].add(args["household_id"])
                skipped = set(result.get("conflicts") or ())
                for column, value in args["set"].items():
                    if column not in skipped:
                        last_set[(args["household_id"], column)] = (mutation_id, value)
                copies = 1  # judged below, per field, by the last value set
            deltas["conflict"] += len(result.get("conflict_ids") or ())
            if copies == 1:
                report.found += 1
            elif copies == 0:
                report.lost += 1
                report.problems.append(f"{phone.username} #{mutation_id} {name}: acknowledged, not found")
            else:
                report.duplicated += 1
                report.problems.append(f"{phone.username} #{mutation_id} {name}: found {copies} times")
            record = _record_of(name, args)
            for sha in sent["photos"]:
                report.photos_expected += 1
                deltas["blob_ref"] += 1
                if sha in blobs and record is not None and (sha, record[0], record[1]) in refs:
                    report.photos_found += 1
                else:
                    report.photos_lost += 1
        for (household, column), (mutation_id, value) in last_set.items():
            if households.get(household, {}).get(column) != value:
                report.lost += 1
                report.found -= 1
                report.problems.append(
                    f"{phone.username} #{mutation_id} household.update {column}: not the last value set"
                )

    # Nothing else: every new row belongs to an acknowledged mutation.
    for kind, present in (("visit", set(visits)), ("resident", residents), ("travel_card", cards)):
        report.unexpected_rows[kind] = len(present - claimed[kind])
    report.unexpected_rows["demand"] = len(set(demands) - claimed["demand"] - claimed["accept"])
    report.unexpected_rows["household"] = len(set(households) - claimed["household"])
    report.unexpected_rows["demand_event"] = sum(
        n for key, n in demand_events.items() if key not in seen_events
    )
    report.unexpected_rows["travel_card_event"] = sum(
        n for key, n in card_events.items() if key not in seen_card_events
    )
    deltas["blob"] = len(photos)
    deltas["sync_client"] = registered

    found = table_counts(db)
    for name in CHECKED:
        report.tables.append(
            (name, seeded.get(name, 0), seeded.get(name, 0) + deltas[name], found.get(name, 0))
        )
    for name in sorted(set(found) - set(CHECKED)):
        report.other_tables.append((name, seeded.get(name, 0), found[name]))
    report.balances = balances(db, [p for p in phones if p.user is not None])
    return report


def _present(
    kind: str, visits: dict[str, str], residents: set[str], demands: dict[str, Any], cards: set[str]
) -> Any:
    return {"visit": visits, "resident": residents, "demand": demands, "travel_card": cards}[kind]


def _copies(
    name: str,
    args: dict[str, Any],
    user: str,
    visits: dict[str, str],
    residents: set[str],
    demands: dict[str, tuple[str, str | None]],
    cards: set[str],
    demand_events: Counter[tuple[str, str, str | None]],
    card_events: Counter[tuple[str, str]],
) -> int:
    """How many times the mutation's effect is in the database (1 is right)."""
    if name == "visit.record":
        return int(visits.get(args["visit_id"]) == user)
    if name == "resident.create":
        return int(args["resident_id"] in residents)
    if name == "demand.create":
        return demand_events[(args["demand_id"], "created", user)] if args["demand_id"] in demands else 0
    if name == "travel_card.create":
        return card_events[(args["application_id"], "created")] if args["application_id"] in cards else 0
    if name == "demand.accept":
        status, assignee = demands.get(args["demand_id"], ("", None))
        if status != "accepted" or assignee != user:
            return 0
        return demand_events[(args["demand_id"], "accepted", user)]
    return 1


def _record_of(name: str, args: dict[str, Any]) -> tuple[str, str] | None:
    if name in CREATES:
        kind, key = CREATES[name]
        return kind, args[key]
    return None
