"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import server.models  # noqa: F401  (every table on the metadata)
from server.db import Database
from server.migrate import alembic_config


def test_the_migrated_schema_is_the_models_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == []


def test_there_is_one_head_so_new_migrations_have_one_parent(db: Database) -> None:
    script = ScriptDirectory.from_config(alembic_config(db.url))
    assert len(script.get_heads()) == 1
