"""The mutation catalogue: every intent a phone may push, by name (SYNC.md "Core catalogue").

Each entry validates its args and calls the same domain command the office
pages call. `docs/sync.md` documents every entry; a test fails when one is
missing there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.access import Actor
from server.models import Conflict
from server.people.vault import Vault


@dataclass(frozen=True)
class Context:
    actor: Actor
    vault: Vault
    client_id: str
    at: datetime | None = None
    ip: str = ""  # the caller's address, for the audit log


@dataclass
class Outcome:
    """What a mutation did: `applied`, or `conflict` for the fields kept apart (rule 5)."""

    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "conflict" if self.conflicts else "applied"

    def result(self, mutation_id: int) -> dict[str, Any]:
        result: dict[str, Any] = {"id": mutation_id, "status": self.status}
        if self.conflicts:
            result["conflicts"] = [c.field for c in self.conflicts]
            result["conflict_id"] = str(self.conflicts[0].id)
            result["conflict_ids"] = [str(c.id) for c in self.conflicts]
        return result


Handler = Callable[[Session, Context, dict[str, Any]], Outcome | None]
# A handler for a run of mutations of one name: one outcome or refusal per item.
# The engine hands consecutive mutations to it at once, so it can write them
# with one insert; it must refuse items without raising.
BatchHandler = Callable[
    [Session, Context, list[tuple[dict[str, Any], datetime | None]]], list[Outcome | Exception]
]


@dataclass(frozen=True)
class Mutation:
    name: str
    handler: Handler
    batch: BatchHandler | None = None


CATALOGUE: dict[str, Mutation] = {}


class UnknownMutation(Exception):
    """Rule 5: a name that is not in the catalogue is rejected, never guessed at."""


def mutation(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in CATALOGUE:
            raise ValueError(f"mutation {name} registered twice")
        CATALOGUE[name] = Mutation(name=name, handler=handler)
        return handler

    return register


def batch_mutation(name: str) -> Callable[[BatchHandler], BatchHandler]:
    def register(batch: BatchHandler) -> BatchHandler:
        def single(session: Session, ctx: Context, args: dict[str, Any]) -> Outcome:
            (result,) = batch(session, ctx, [(args, ctx.at)])
            if isinstance(result, Exception):
                raise result
            return result

        if name in CATALOGUE:
            raise ValueError(f"mutation {name} registered twice")
        CATALOGUE[name] = Mutation(name=name, handler=single, batch=batch)
        return batch

    return register


def lookup(name: str) -> Mutation | None:
    return load().get(name)


def apply(session: Session, ctx: Context, name: str, args: dict[str, Any]) -> Outcome:
    entry = load().get(name)
    if entry is None:
        raise UnknownMutation(name)
    return entry.handler(session, ctx, args) or Outcome()


def load() -> dict[str, Mutation]:
    """Import every module that registers mutations (idempotent)."""
    import sync.mutations  # noqa: F401

    return CATALOGUE
