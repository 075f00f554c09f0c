"""Step-by-step workflows (requests, travel card applications): which role may take a step,
from which statuses, and the refusals both give (SYNC.md rule 8: checked against the
record's current state)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import Session

from server.access import Actor, Forbidden, get_visible
from server.errors import InvalidTransition
from server.i18n import labels
from server.models import SyncRecord

R = TypeVar("R", bound=SyncRecord)


@dataclass(frozen=True)
class Workflow(Generic[R]):
    model: type[R]
    # step → (statuses it may be taken from, status it leads to or None to keep the status)
    transitions: Mapping[str, tuple[frozenset[str], str | None]]
    roles: Mapping[str, frozenset[str]]
    status_labels: str  # label groups in server/labels.py
    step_labels: str
    refusal: Callable[[str, str], str]  # (status name, step name) → message for people

    def may(self, actor: Actor, step: str) -> bool:
        """The actor's role may take `step` (somewhere in its scope)."""
        return actor.role in self.roles[step]

    def allowed(self, step: str, status: str) -> bool:
        """`step` may be taken from `status`."""
        return status in self.transitions[step][0]

    def refuse(self, record: Any, step: str) -> InvalidTransition:
        return InvalidTransition(
            self.refusal(
                labels.label(self.status_labels, record.status), labels.label(self.step_labels, step)
            )
        )

    def open(self, session: Session, actor: Actor, step: str, record_id: uuid.UUID) -> R:
        """The record, if the role may take `step`, holds it, and its status allows the step —
        checked in that order, so the refusal names the first reason."""
        if not self.may(actor, step):
            raise Forbidden(actor.role)
        record = get_visible(session, actor, self.model, record_id)
        if not self.allowed(step, record.status):  # type: ignore[attr-defined]
            raise self.refuse(record, step)
        return record
