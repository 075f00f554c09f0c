"""The organisation: communities, their grids, departments, and the people who sign in."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel, UniqueConstraint

from server.models.base import SyncRecord, new_id, utcnow


class Role(StrEnum):
    grid_worker = "grid_worker"
    community_staff = "community_staff"
    department = "department"
    admin = "admin"


class Community(SyncRecord, table=True):
    sync_type = "community"

    name: str
    code: str = Field(unique=True)
    address: str = ""
    # The resident-facing request page is reached by this token (QR code).
    public_token: str = Field(default_factory=lambda: new_id().hex[:16], unique=True)


class Grid(SyncRecord, table=True):
    sync_type = "grid"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    community_id: uuid.UUID = Field(foreign_key="community.id", index=True)
    name: str
    code: str
    # Centre of the grid, used to suggest the nearest grid for an address.
    lat: float | None = None
    lng: float | None = None


class Department(SyncRecord, table=True):
    sync_type = "department"

    name: str
    code: str = Field(unique=True)


class User(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    username: str = Field(unique=True, index=True)
    display_name: str
    role: str
    password_hash: str
    community_id: uuid.UUID | None = Field(default=None, foreign_key="community.id")
    department_id: uuid.UUID | None = Field(default=None, foreign_key="department.id")
    phone: str = ""
    locale: str = "zh_Hans_CN"
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Sessions issued before this moment are void (password reset, deactivation).
    sessions_valid_after: datetime = Field(default_factory=utcnow)


class UserGrid(SQLModel, table=True):
    __tablename__ = "user_grid"

    user_id: uuid.UUID = Field(foreign_key="user.id", primary_key=True)
    grid_id: uuid.UUID = Field(foreign_key="grid.id", primary_key=True, index=True)
