"""JSON columns read exactly as written, on either database: orjson reads them when it reads
them the same as the stdlib would, the stdlib reads the rest (server/db.py `_json_loads`)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import JSON, text
from sqlalchemy.exc import DataError

from server.db import Database

LONG = 2**70 + 1  # past 64 bits: a float would lose its last digits


def read_back(db: Database, document: str) -> Any:
    sql = "SELECT :d AS doc" if db.is_sqlite else "SELECT CAST(:d AS json) AS doc"
    statement = text(sql).bindparams(d=document).columns(doc=JSON)
    with db.engine.connect() as conn:
        return conn.execute(statement).scalar_one()


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            '{"photos": ["ab", "cd"], "n": 3, "x": 0.1, "t": "走访"}',
            {"photos": ["ab", "cd"], "n": 3, "x": 0.1, "t": "走访"},
        ),
        (f'{{"n": {LONG}}}', {"n": LONG}),
        (f"[{LONG}, 1.5]", [LONG, 1.5]),
    ],
)
def test_a_json_column_reads_back_what_was_written(db: Database, document: str, expected: Any) -> None:
    got = read_back(db, document)
    assert got == expected
    assert [type(v) for v in (got.values() if isinstance(got, dict) else got)] == [
        type(v) for v in (expected.values() if isinstance(expected, dict) else expected)
    ]


def test_nan_as_the_stdlib_writes_it_reads_on_sqlite_and_never_gets_into_postgresql(db: Database) -> None:
    if db.is_sqlite:
        (got,) = read_back(db, "[NaN]")
        assert got != got  # NaN
        return
    with pytest.raises(DataError):  # PostgreSQL refuses it on the way in: nothing to read back
        read_back(db, "[NaN]")
