"""Who may see and change what — the one place scope is decided.

A grid worker holds their grids (and their community's visit rules);
everyone their own notices;
community staff their community; a department the demands transferred to
it; an admin everything. Routes ask here and answer 404 for anything outside
the caller's scope, so a record's existence never leaks.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import false, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from server.models import Role, SyncRecord, User

R = TypeVar("R", bound=SyncRecord)


class NotFound(Exception):
    """Absent, deleted, or outside the caller's scope — the caller cannot tell which."""


class OutOfScope(NotFound):
    """The row exists but is not the caller's (any more): pages still say 404,
    sync says `out_of_scope` (SYNC.md rule 10) because the phone held it."""


class Forbidden(Exception):
    """The caller's role may not take this step (sync code `forbidden`)."""


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID
    username: str
    display_name: str
    role: str
    community_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    grid_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    locale: str = "zh"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.community_staff, Role.admin)

    @property
    def is_worker(self) -> bool:
        return self.role == Role.grid_worker

    @property
    def is_department(self) -> bool:
        return self.role == Role.department

    def scope_key(self) -> str:
        """Changes whenever what this actor may hold changes (SYNC.md rule 11)."""
        grids = ",".join(sorted(str(g) for g in self.grid_ids))
        return f"{self.role}|{self.community_id}|{self.department_id}|{grids}"


# A record of one community that is not kept per grid (visit rules): every worker of the
# community holds it, like its staff.
_COMMUNITY_ONLY = ("community_id",)
# A record of one person (notices): only they hold it, whatever their role, admins included.
_PERSON_ONLY = ("user_id",)


def scope_filter(actor: Actor, model: type[Any]) -> ColumnElement[bool]:
    """A WHERE clause selecting the rows of `model` the actor may hold."""
    columns = model.scope_columns
    table: Any = model
    if columns == _PERSON_ONLY:
        return table.user_id == actor.id  # type: ignore[no-any-return]
    if not columns or actor.is_admin:
        return true()
    if actor.role == Role.community_staff and "community_id" in columns and actor.community_id:
        return table.community_id == actor.community_id  # type: ignore[no-any-return]
    if actor.role == Role.grid_worker and "grid_id" in columns and actor.grid_ids:
        return table.grid_id.in_(actor.grid_ids)  # type: ignore[no-any-return]
    if actor.role == Role.grid_worker and columns == _COMMUNITY_ONLY and actor.community_id:
        return table.community_id == actor.community_id  # type: ignore[no-any-return]
    if actor.role == Role.department and "department_id" in columns and actor.department_id:
        return table.department_id == actor.department_id  # type: ignore[no-any-return]
    return false()


def can_hold(actor: Actor, record: SyncRecord) -> bool:
    """The Python twin of `scope_filter`, for a row already loaded."""
    return can_hold_row(actor, type(record), {c: getattr(record, c, None) for c in record.scope_columns})


def can_hold_row(actor: Actor, model: type[Any], row: Mapping[str, Any]) -> bool:
    """`can_hold` for a row read without the ORM (a mapping of its columns)."""
    columns = model.scope_columns
    if columns == _PERSON_ONLY:
        return row.get("user_id") == actor.id
    if not columns or actor.is_admin:
        return True
    if actor.role == Role.community_staff and "community_id" in columns:
        return actor.community_id is not None and row.get("community_id") == actor.community_id
    if actor.role == Role.grid_worker and "grid_id" in columns:
        return row.get("grid_id") in actor.grid_ids
    if actor.role == Role.grid_worker and columns == _COMMUNITY_ONLY:
        return actor.community_id is not None and row.get("community_id") == actor.community_id
    if actor.role == Role.department and "department_id" in columns:
        return actor.department_id is not None and row.get("department_id") == actor.department_id
    return False


def get_visible(session: Session, actor: Actor, model: type[R], record_id: uuid.UUID | str | None) -> R:
    """Load a live row the actor may hold, or raise NotFound."""
    try:
        key = record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except (TypeError, ValueError):
        raise NotFound(model.sync_type) from None
    record = session.get(model, key)
    if record is None or record.deleted_at is not None:
        raise NotFound(model.sync_type)
    if not can_hold(actor, record):
        raise OutOfScope(model.sync_type)
    return record


def live(session: Session, model: type[R], record_id: uuid.UUID | str | None) -> R:
    """The live row with this id, or NotFound (pages answer 404), whoever asks."""
    try:
        key = record_id if isinstance(record_id, uuid.UUID) else uuid.UUID(str(record_id))
    except ValueError:
        raise NotFound(model.sync_type) from None
    row = session.get(model, key)
    if row is None or row.deleted_at is not None:
        raise NotFound(model.sync_type)
    return row


def find_user(session: Session, user_id: uuid.UUID | str) -> User:
    """The account with this id, or NotFound."""
    try:
        key = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        raise NotFound("user") from None
    user = session.get(User, key)
    if user is None:
        raise NotFound("user")
    return user
