"""Exporting a ledger (台账) as .xlsx, streamed: rows are read in pages and written by
openpyxl's write-only sheet, so memory stays flat for a county's 100,000 rows. Full ID
numbers and phones only for staff and admins who state a reason; every export is audited
(who, which ledger, how many rows, the reason)."""

from __future__ import annotations

from pathlib import Path

from server import audit
from server.access import Actor, Forbidden
from server.db import Database
from server.errors import InvalidInput
from server.i18n import gettext as _
from server.ledger.imports import SHELL
from server.ledger.workbook import write_rows
from server.models import Role
from server.people.vault import Vault
from server.queries.ledgers import LEDGERS, Filters, Reveal

REVEALING_ROLES = (Role.community_staff, Role.admin)


def check_kind(kind: str) -> None:
    if kind not in LEDGERS:
        raise InvalidInput({"kind": _("没有这种台账：%(kind)s。", kind=kind)})


def export_ledger(
    db: Database,
    vault: Vault,
    actor: Actor | None,
    kind: str,
    target: Path,
    *,
    filters: Filters | None = None,
    full: bool = False,
    reason: str = "",
) -> int:
    """Write ledger `kind` to `target` (.xlsx); answers how many rows. `full` asks for the
    numbers unmasked: refused without a reason, or for a role that may not see them. No
    actor is the shell, which exports as an admin."""
    check_kind(kind)
    who = actor or SHELL
    reason = reason.strip()
    if full and who.role not in REVEALING_ROLES:
        raise Forbidden(who.role)
    if full and not reason:
        raise InvalidInput({"reason": _("导出完整的身份证号和电话，必须写明用途。")})
    ledger = LEDGERS[kind]
    filters = filters or Filters()
    reveal = Reveal(full=full, decrypt=vault.decrypt)
    with db.read(snapshot=True) as session:
        count = write_rows(
            target, ledger.title(), ledger.header(), ledger.rows(session, who, filters, reveal)
        )
    db.run_write(
        lambda session: audit.record(
            session,
            actor=actor,
            action="export_ledger",
            record_type="ledger",
            record_id=kind,
            rows=count,
            full=full,
            reason=reason,
            since=filters.since.isoformat() if filters.since else "",
            until=filters.until.isoformat() if filters.until else "",
            grid_id=filters.grid_id,
        )
    )
    return count
