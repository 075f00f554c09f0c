"""Writing ledgers as .xlsx, streamed (openpyxl write-only: one row in memory at a time): the
errors workbook of an import and the blank template."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from server.i18n import gettext as _
from server.ledger.columns import COLUMNS
from server.ledger.rows import Refusal

_BOLD = Font(bold=True)


def errors_path(source: Path) -> Path:
    """`户籍台账.xlsx` → `户籍台账.errors.xlsx`, beside it."""
    return source.with_name(f"{source.stem}.errors.xlsx")


def write_rows(
    target: Path | BinaryIO, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """One sheet, a bold header, then `rows`; answers how many rows. A path is written to a
    temporary file beside it and moved into place, so no reader ever sees half a workbook."""
    book = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = book.create_sheet(title)
    sheet.append([_bold(sheet, name) for name in header])
    count = 0
    for row in rows:
        sheet.append(list(row))
        count += 1
    if not isinstance(target, Path):
        book.save(target)
        return count
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".xlsx")
    os.close(handle)
    try:
        book.save(temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def write_errors(target: Path | BinaryIO, header: Sequence[str], refusals: Sequence[Refusal]) -> None:
    """The refused rows as the sheet had them, then 行号 and 原因: fix them and import again."""
    width = len(header)
    rows = ([*_padded(r.cells, width), r.number, r.reason] for r in sorted(refusals, key=lambda r: r.number))
    write_rows(target, _("未导入的行"), [*header, _("行号"), _("原因")], rows)


def errors_bytes(header: Sequence[str], refusals: Sequence[Refusal]) -> bytes:
    buffer = io.BytesIO()
    write_errors(buffer, header, refusals)
    return buffer.getvalue()


def template_bytes() -> bytes:
    """The blank household ledger: the header of every column the import reads."""
    buffer = io.BytesIO()
    write_rows(buffer, _("一户一档"), [c.header for c in COLUMNS], [])
    return buffer.getvalue()


def _padded(values: Sequence[Any], width: int) -> list[Any]:
    cells = list(values[:width])
    return cells + [None] * (width - len(cells))


def _bold(sheet: WriteOnlyWorksheet, value: str) -> Cell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = _BOLD
    return cell
