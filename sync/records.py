"""How rows look on the wire: the `data` of pulled changes (SYNC.md "Pulled records carry …").

Rows are read with Core (no ORM objects) and turned into JSON text once; a
pull of ten thousand rows spends its time here, so this stays lean.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table

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


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")  # people read minutes; microseconds only cost bytes
    if isinstance(value, date):
        return value.isoformat()
    return value


def put(record_type: str, row: Any) -> dict[str, Any]:
    """A `put` change from a Core row mapping of the record's table."""
    data = {name: _plain(row[name]) for name in DATA_COLUMNS[record_type]}
    return {"type": record_type, "id": str(row["id"]), "op": "put", "version": row["version"], "data": data}


def delete(record_type: str, record_id: Any, version: int) -> dict[str, Any]:
    return {"type": record_type, "id": str(record_id), "op": "del", "version": version}


def encode(change: dict[str, Any]) -> str:
    return json.dumps(change, ensure_ascii=False, separators=(",", ":"), default=_plain)
