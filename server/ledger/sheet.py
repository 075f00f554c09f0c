"""Reading a spreadsheet's rows one at a time: `.xlsx` (python-calamine), `.csv` in UTF-8 or GBK/GB18030.

A row is the sheet's own row number (as Excel shows it) and its cell values, handed on one
at a time: no Python objects for the whole sheet, and never openpyxl's workbook.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from server.i18n import gettext as _

Row = tuple[int, list[Any]]
_CHUNK = 1 << 20


class UnreadableFile(ValueError):
    """A file the import cannot read; the message says how to save it so that it can."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def read_rows(path: Path) -> Iterator[Row]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix == ".csv":
        return _csv_rows(path)
    if suffix in (".xls", ".et", ".wps"):
        raise UnreadableFile(
            _(
                "这是旧版 Excel 文件（%(suffix)s），无法导入。请在 Excel 或 WPS 里打开它，"
                "选“文件 → 另存为”，保存类型选“Excel 工作簿（*.xlsx）”，再导入新文件。",
                suffix=suffix,
            )
        )
    raise UnreadableFile(
        _(
            "只能导入 Excel 工作簿（.xlsx）或 CSV 文件（.csv）。请在 Excel 或 WPS 里打开文件，"
            "选“文件 → 另存为”，保存类型选“Excel 工作簿（*.xlsx）”，再导入。"
        )
    )


def _xlsx_rows(path: Path) -> Iterator[Row]:
    """The first sheet's rows from row 1 (calamine keeps the cell values, not the workbook's
    objects, and yields the rows above the data as blank ones)."""
    from python_calamine import CalamineError, CalamineWorkbook

    if not zipfile.is_zipfile(path):
        raise UnreadableFile(
            _(
                "这个文件不是真正的 .xlsx 工作簿（可能只是改了扩展名）。请用 Excel 另存为“Excel 工作簿（*.xlsx）”。"
            )
        )
    try:
        book = CalamineWorkbook.from_path(path)
        sheet = book.get_sheet_by_index(0)
    except (CalamineError, OSError, ValueError):
        raise UnreadableFile(_("这个 .xlsx 文件已损坏，无法打开。请用 Excel 打开后重新保存。")) from None
    try:
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            yield number, [None if cell == "" else cell for cell in cells]
    finally:
        book.close()


def detect_encoding(path: Path) -> str:
    """`utf-8-sig` when the whole file decodes as UTF-8, else `gb18030` (which includes GBK)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as stream:
        try:
            while chunk := stream.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def _csv_rows(path: Path) -> Iterator[Row]:
    encoding = detect_encoding(path)
    try:
        with path.open(encoding=encoding, newline="") as stream:
            for number, cells in enumerate(csv.reader(stream), start=1):
                yield number, list(cells)
    except UnicodeDecodeError:
        raise UnreadableFile(
            _("CSV 文件的编码无法识别。请用 Excel 另存为“Excel 工作簿（*.xlsx）”。")
        ) from None
    except csv.Error:
        raise UnreadableFile(_("CSV 文件格式有误。请用 Excel 另存为“Excel 工作簿（*.xlsx）”。")) from None
