"""The data dir and what holds secrets are the server user's alone (server/files.py)."""

from __future__ import annotations

import stat
from pathlib import Path

from server.db import Database
from server.push import keys
from server.settings import load_settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_data_dir_is_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = load_settings({"DOORSTEP_DATA_DIR": str(data)})
    db = Database(settings.database_url)
    with db.engine.connect():
        pass
    db.dispose()
    keys.load(data)
    assert _mode(data) == 0o700
    for name in ("secret_key", "doorstep.sqlite3", keys.KEY_FILE):
        assert _mode(data / name) == 0o600, name


def test_files_an_older_version_left_readable_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    for name in ("secret_key", "doorstep.sqlite3"):
        (data / name).write_text("old-secret-key-0123456789" if name == "secret_key" else "")
        (data / name).chmod(0o644)
    settings = load_settings({"DOORSTEP_DATA_DIR": str(data)})
    Database(settings.database_url).dispose()
    assert settings.secret_key == "old-secret-key-0123456789"
    assert [_mode(p) for p in (data, data / "secret_key", data / "doorstep.sqlite3")] == [0o700, 0o600, 0o600]
