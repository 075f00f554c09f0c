"""How rows look on the wire: the `data` of pulled changes (SYNC.md "Pulled records carry …").

Rows are read with Core (no ORM objects) and turned into JSON text once; a
pull of ten thousand rows spends its time here, so this stays lean.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import String, Table, Text, Uuid, cast, func, type_coerce
from sqlmodel.sql.sqltypes import UTCDateTime

from server.models import SYNC_TYPES, SyncRecord

# Bump when the shape of `data` changes: every phone then gets `reset: true` (rule 11).
SCHEMA_VERSION = 1

_ALWAYS_HIDDEN = frozenset({"id", "version", "deleted_at", "field_versions"})


def table_of(model: type[SyncRecord]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def data_columns(model: type[SyncRecord]) -> list[str]:
    hidden = _ALWAYS_HIDDEN | model.private_columns
    return [c.name for c in table_of(model).columns if c.name not in hidden]


DATA_COLUMNS: dict[str, list[str]] = {name: data_columns(model) for name, model in SYNC_TYPES.items()}


# A first pull reads ten thousand rows. Building a Python object for every UUID and
# datetime only to print it again is most of its time, so the database writes them as the
# wire shows them — `8c1e…-…` and `2026-11-28T08:00:00+00:00` — from what it stores: SQLite
# a UUID as 32 hex digits and a UTC datetime as `2026-11-28 08:00:00.123456`.
_AS_STORED = String()
_UUID_PIECES = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


def _as_text(column: Any, dialect: str) -> Any:
    if not isinstance(column.type, (Uuid, UTCDateTime)):
        return column
    if dialect == "sqlite":
        stored = type_coerce(column, _AS_STORED)
        if isinstance(column.type, Uuid):
            pieces = [func.substr(stored, start, length) for start, length in _UUID_PIECES]
            text: Any = pieces[0]
            for piece in pieces[1:]:
                text = text.concat("-").concat(piece)
        else:
            text = func.substr(stored, 1, 10).concat("T").concat(func.substr(stored, 12, 8)).concat("+00:00")
        return type_coerce(text, _AS_STORED).label(column.name)
    if isinstance(column.type, Uuid):
        return type_coerce(cast(column, Text), _AS_STORED).label(column.name)
    utc = func.timezone("UTC", column)
    return type_coerce(func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), _AS_STORED).label(column.name)


def columns(table: Table, dialect: str) -> list[Any]:
    """What to select for `put`: the row, with its UUIDs and datetimes as text."""
    if dialect not in ("sqlite", "postgresql"):
        return [table]
    return [_as_text(c, dialect) for c in table.columns]


def put(record_type: str, row: Any) -> dict[str, Any]:
    """A `put` change from a Core row mapping of the record's table, read with `columns`;
    `encode` writes the UUIDs, datetimes and dates left as objects."""
    return {
        "type": record_type,
        "id": str(row["id"]),
        "op": "put",
        "version": row["version"],
        "data": {name: row[name] for name in DATA_COLUMNS[record_type]},
    }


# Where a pulled record carries a full phone number, and which carry an ID number (masked on
# the wire, still personal data): what the pull audit counts.
_PHONES: dict[str, tuple[str, ...]] = {
    "household": ("phone",),
    "resident": ("phone",),
    "demand": ("contact_phone",),
}


def personal(record_type: str, data: dict[str, Any]) -> tuple[bool, bool]:
    """(carries a phone number, carries an ID number) for the `data` of a `put`."""
    phone = any(data.get(name) for name in _PHONES.get(record_type, ()))
    if record_type == "travel_card":
        proxy = data.get("proxy")
        phone = isinstance(proxy, dict) and bool(proxy.get("phone"))
    return phone, record_type == "resident" and bool(data.get("id_masked"))


def delete(record_type: str, record_id: Any, version: int) -> dict[str, Any]:
    return {"type": record_type, "id": str(record_id), "op": "del", "version": version}


def encode(change: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON. Datetimes to the second (people read minutes; microseconds
    only cost bytes), as `2026-11-28T08:00:00+00:00`; UUIDs dashed; dates ISO."""
    return orjson.dumps(change, option=orjson.OPT_OMIT_MICROSECONDS)
