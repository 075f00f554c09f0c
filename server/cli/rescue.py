"""`doorstep rescue import FILE`: a phone's rescue file (sync/rescue.py) pushed as its own client
would have; one line per entry, then the totals. Exit 0 when every entry is accounted for as
applied, replayed or conflict; 1 when some were rejected or left for later; 2 when the file is refused."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from server.cli.parser import NOBODY, ChineseParser, command, staff_actor
from server.i18n import gettext as _
from server.migrate import open_db
from server.settings import Settings


def add_parsers(sub: Any) -> None:
    rescue = sub.add_parser("rescue", help="a phone's rescue file (救援文件)")
    steps = rescue.add_subparsers(dest="rescue_step", required=True, parser_class=ChineseParser)
    imports = steps.add_parser("import", help="push a rescue file's entries under their own client and ids")
    imports.add_argument("file", type=Path)
    imports.add_argument("--user", help="import as this staff member (default: the shell, as an admin)")


def register() -> None:
    command("rescue")(_import)


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from server.people.vault import Vault
    from sync.rescue import RescueRefused, import_file

    path: Path = args.file
    if not path.is_file():
        print(_("错误：找不到文件 %(path)s。", path=path), file=sys.stderr)
        return 2
    data = path.read_bytes()
    db = open_db(settings)
    try:
        importer = staff_actor(db, args.user, _("不能导入救援文件"))
        if importer is NOBODY:
            return 2
        vault = Vault(settings.secret_key)
        try:
            report = db.run_write(
                lambda s: import_file(
                    s, data=data, secret=settings.secret_key, vault=vault, importer=importer
                )
            )
        except RescueRefused as exc:
            print(_("错误：%(reason)s", reason=exc.message), file=sys.stderr)
            return 2
    finally:
        db.dispose()
    for entry in report.entries:
        line = f"#{entry.id} {entry.name}: {entry.outcome}"
        print(f"{line} — {entry.message}" if entry.message else line)
    print(
        _(
            "%(worker)s 的手机：已提交 %(applied)s 条，此前已到达 %(replayed)s 条，有冲突 %(conflict)s 条，"
            "被拒绝 %(rejected)s 条，未处理 %(left)s 条；照片保存 %(photos)s 张，无法保存 %(bad)s 张。",
            worker=report.worker,
            applied=report.count("applied"),
            replayed=report.count("replayed"),
            conflict=report.count("conflict"),
            rejected=report.count("rejected"),
            left=report.count("not_processed"),
            photos=report.photos_stored,
            bad=report.photos_refused,
        )
    )
    return 1 if report.count("rejected") or report.count("not_processed") else 0
