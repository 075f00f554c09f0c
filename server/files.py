"""The server's files are its user's alone: the data dir 0700, keys and the SQLite file 0600.

They hold every resident's personal data and the keys that sign sessions; other accounts
on the machine must not read them. Files made by earlier versions are tightened on start.
"""

from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty if missing (an empty file is a valid SQLite database), 0600."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    _tighten(path)
    return path


def _tighten(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        path.chmod(mode & 0o700)
