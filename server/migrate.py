"""Bring a database to the latest schema with Alembic, safely from several processes at once."""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from server.db import Database
from server.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db: Database, lock_dir: Path | None = None) -> None:
    """`alembic upgrade head`; concurrent starters wait for each other instead of racing."""
    config = alembic_config(db.url)
    if db.is_sqlite:
        lock_path = (lock_dir or Path(".")) / ".migrate.lock"
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with db.engine.connect() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                conn.commit()
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(727274)"))
        conn.commit()
        try:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(727274)"))
            conn.commit()


def open_db(settings: Settings, *, migrate: bool = True) -> Database:
    """The deployment's database, brought to the latest schema first unless told not to."""
    db = Database(settings.database_url)
    if migrate:
        upgrade(db, settings.data_dir)
    return db
