"""`doorstep import households FILE`: the household ledger from a spreadsheet, with a progress
bar on stderr; bad rows go to FILE.errors.xlsx beside it. `doorstep export KIND`: a ledger as
.xlsx (docs/ledger.md)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from server.access import Actor
from server.cli.parser import NOBODY, ChineseParser, command, staff_actor
from server.i18n import gettext as _
from server.migrate import open_db
from server.settings import Settings


def add_parsers(sub: Any) -> None:
    imports = sub.add_parser("import", help="import a ledger from .xlsx or .csv")
    kinds = imports.add_subparsers(dest="import_kind", required=True, parser_class=ChineseParser)
    households = kinds.add_parser("households", help="the household ledger (一户一档), one row per resident")
    households.add_argument("file", type=Path)
    households.add_argument("--dry-run", action="store_true", help="check every row, change nothing")
    households.add_argument("--community", help="community code or name the grids belong to")
    households.add_argument("--user", help="import as this user (default: the shell, as an admin)")

    services = kinds.add_parser("services", help="the service guide (办事指南), one row per item")
    services.add_argument("file", type=Path)
    services.add_argument("--user", help="import as this user (default: the shell, as an admin)")

    export = sub.add_parser("export", help="write a ledger (台账) as .xlsx")
    export.add_argument("kind", choices=["households", "visits", "demands", "travel_cards"])
    export.add_argument("--out", type=Path, help="the .xlsx to write (default: KIND-DATE.xlsx here)")
    export.add_argument("--from", dest="since", type=date.fromisoformat, help="first day, YYYY-MM-DD (local)")
    export.add_argument("--to", dest="until", type=date.fromisoformat, help="last day, YYYY-MM-DD (local)")
    export.add_argument("--grid", help="grid code: only this grid")
    export.add_argument("--full", action="store_true", help="ID numbers and phones unmasked (needs --reason)")
    export.add_argument("--reason", default="", help="why the full numbers are needed (audited)")
    export.add_argument("--user", help="export as this user (default: the shell, as an admin)")


def register() -> None:
    command("import")(_import)
    command("export")(_export)


class ProgressBar:
    """`[██████░░░░] 12,000/50,000 行  2,345 行/秒  还需 0:16` on one line of stderr."""

    WIDTH = 24

    def __init__(self, stream: TextIO, started: float | None = None) -> None:
        self.stream = stream
        self.started = time.monotonic() if started is None else started

    def __call__(self, done: int, total: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate else 0
        filled = self.WIDTH * done // total if total else self.WIDTH
        shown = {
            "bar": "█" * filled + "░" * (self.WIDTH - filled),
            "done": f"{done:,}",
            "total": f"{total:,}",
            "rate": f"{rate:,.0f}",
            "eta": f"{int(left) // 60}:{int(left) % 60:02d}",
        }
        line = _("[%(bar)s] %(done)s/%(total)s 行  %(rate)s 行/秒  还需 %(eta)s", **shown)
        self.stream.write("\r" + line)
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _import(args: argparse.Namespace, settings: Settings) -> int:
    path: Path = args.file
    if not path.is_file():
        print(_("错误：找不到文件 %(path)s。", path=path), file=sys.stderr)
        return 2
    db = open_db(settings)
    try:
        actor = _actor(db, args.user)
        if actor is NOBODY:
            return 2
        if args.import_kind == "services":
            return _import_services(db, actor, path)
        return _import_households(args, settings, db, actor, path)
    finally:
        db.dispose()


def _errors_beside(path: Path, header: Any, refusals: list[Any]) -> Path:
    """The refused rows to FILE.errors.xlsx beside the file; none: an old one removed."""
    from server.ledger.workbook import errors_path, write_errors

    target = errors_path(path)
    if refusals:
        write_errors(target, header, refusals)
    else:
        target.unlink(missing_ok=True)  # one from an earlier import would mislead
    return target


def _import_households(
    args: argparse.Namespace, settings: Settings, db: Any, actor: Actor | None, path: Path
) -> int:
    from server.ledger.imports import ImportRefused, apply_plan, audit_import, read_plan
    from server.people.vault import Vault

    started = time.monotonic()
    print(_("正在读取并检查 %(name)s …", name=path.name), file=sys.stderr, flush=True)
    try:
        plan = read_plan(db, actor, path, args.community)
    except ImportRefused as exc:
        print(_("错误：%(reason)s", reason=str(exc)), file=sys.stderr)
        return 2
    outcome = apply_plan(
        db,
        Vault(settings.secret_key),
        actor,
        plan,
        dry_run=args.dry_run,
        progress=ProgressBar(sys.stderr),
    )
    if not args.dry_run:
        db.run_write(lambda session: audit_import(session, actor, plan, outcome.counts, path.name))
    target = _errors_beside(path, plan.header.names, outcome.refusals)
    seconds = f"{time.monotonic() - started:.1f}"
    print(
        _(
            "%(rows)s 行：新增 %(added)s 人，更新 %(updated)s 人，不变 %(unchanged)s 人，错误 %(refused)s 行；"
            "新增 %(households_added)s 户，更新 %(households_updated)s 户（%(seconds)s 秒）。",
            rows=plan.rows,
            seconds=seconds,
            **outcome.counts.as_dict(),
        )
    )
    if outcome.refusals:
        print(_("未导入的行和原因已写入 %(path)s：改好后再导入原文件即可。", path=target))
    if args.dry_run:
        print(_("试运行：检查了每一行，没有写入任何数据。"))
    return 1 if outcome.refusals else 0


def _import_services(db: Any, actor: Actor | None, path: Path) -> int:
    """`doorstep import services FILE`: the good rows written in one transaction, the refused
    ones to FILE.errors.xlsx beside it."""
    from server.ledger.services import ServiceImportRefused, apply_services, read_services

    try:
        plan = read_services(path)
    except ServiceImportRefused as exc:
        print(_("错误：%(reason)s", reason=str(exc)), file=sys.stderr)
        return 2
    outcome = db.run_write(lambda session: apply_services(session, actor, plan, path.name))
    target = _errors_beside(path, plan.header.names, outcome.refusals)
    print(
        _(
            "%(rows)s 行：新增 %(added)s 项，更新 %(updated)s 项，不变 %(unchanged)s 项，错误 %(refused)s 行。",
            rows=plan.total,
            added=outcome.added,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            refused=outcome.refused,
        )
    )
    if outcome.refusals:
        print(_("未导入的行和原因已写入 %(path)s：改好后再导入原文件即可。", path=target))
    return 1 if outcome.refusals else 0


def _actor(db: Any, username: str | None) -> Actor | None:
    return staff_actor(db, username, _("不能导入或导出台账"))


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import select

    from server.access import Forbidden
    from server.clock import local_today
    from server.errors import DomainError
    from server.ledger.exports import export_ledger
    from server.models import Grid
    from server.people.vault import Vault
    from server.queries.ledgers import Filters

    target: Path = args.out or Path(f"{args.kind}-{local_today():%Y%m%d}.xlsx")
    db = open_db(settings)
    try:
        actor = _actor(db, args.user)
        if actor is NOBODY:
            return 2
        grid_id = None
        if args.grid:
            with db.read() as session:
                grid_id = session.exec(select(Grid.id).where(Grid.code == args.grid)).first()
            if grid_id is None:
                print(_("错误：没有这个网格：%(name)s。", name=args.grid), file=sys.stderr)
                return 2
        filters = Filters(since=args.since, until=args.until, grid_id=grid_id)
        started = time.monotonic()
        try:
            count = export_ledger(
                db, Vault(settings.secret_key), actor, args.kind, target,
                filters=filters, full=args.full, reason=args.reason,
            )  # fmt: skip
        except DomainError as exc:
            print(_("错误：%(reason)s", reason=exc.message), file=sys.stderr)
            return 2
        except Forbidden:
            print(_("错误：这个用户不能导出完整的号码。"), file=sys.stderr)
            return 2
    finally:
        db.dispose()
    seconds = f"{time.monotonic() - started:.1f}"
    print(_("已导出 %(rows)s 行到 %(path)s（%(seconds)s 秒）。", rows=count, path=target, seconds=seconds))
    return 0
