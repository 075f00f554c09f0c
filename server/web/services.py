"""What every request handler needs, built once per app: settings, database, sessions, vault, templates."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment

from server.auth import Sessions
from server.db import Database
from server.people.vault import Vault
from server.settings import Settings


@dataclass
class Services:
    settings: Settings
    db: Database
    sessions: Sessions
    vault: Vault
    jinja: Environment
