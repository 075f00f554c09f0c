"""Building household ledgers as real offices keep them: .xlsx through openpyxl, CSV in GBK."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from server.ledger.columns import COLUMNS
from server.people import idnumber

HEADER = [c.header for c in COLUMNS if not c.optional]  # the columns every ledger has


def id_number(born: date, sequence: int, area: str = "360121") -> str:
    return idnumber.make(area, born, sequence)


def id_ending_in_x(born: date = date(1948, 3, 5)) -> str:
    return next(n for n in (id_number(born, s) for s in range(1, 999)) if n.endswith("X"))


def wrong_check_digit(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def impossible_birth_date() -> str:
    first17 = "360121" + "19501332" + "123"
    return first17 + idnumber.check_character(first17)


def xlsx(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    header: Sequence[str] = HEADER,
    above: Sequence[Sequence[Any]] = (),
) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in above:
        sheet.append(list(row))
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def csv_file(
    path: Path, rows: Sequence[Sequence[Any]], *, encoding: str, header: Sequence[str] = HEADER
) -> Path:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def sheet_rows(path: Path) -> list[list[Any]]:
    book = load_workbook(path, read_only=True)
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def command_env(monkeypatch: Any, tmp_path: Path, database_url: str) -> None:
    """`doorstep …` run in-process against the test database, with the tests' secret key (so
    the keyed hashes of ID numbers are the ones the tests' vault computes)."""
    from tests.conftest import SECRET

    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", database_url)
    monkeypatch.setenv("DOORSTEP_SECRET_KEY", SECRET)
