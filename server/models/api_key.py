"""Keys that let other systems read the Open311 export without a person's session."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from server.models.base import new_id, utcnow


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str
    # SHA-256 of the key: the key itself is shown once, when it is issued.
    key_hash: str = Field(unique=True)
    # The first characters of the key, so people can tell keys apart.
    prefix: str
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None

    @staticmethod
    def hash_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
