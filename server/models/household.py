"""Households, the residents living in them, and the tags residents carry."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from server.models.base import JSONField, SyncRecord, scope_indexes


class HouseholdKind(StrEnum):
    registered = "registered"  # 户籍
    resident = "resident"  # 常住
    floating = "floating"  # 流动
    rental = "rental"  # 出租


class HouseholdStatus(StrEnum):
    active = "active"
    vacant = "vacant"
    moved_out = "moved_out"


class Household(SyncRecord, table=True):
    __table_args__ = scope_indexes("household", "grid_id", "community_id")
    sync_type = "household"
    scope_columns = ("community_id", "grid_id")

    community_id: uuid.UUID = Field(foreign_key="community.id")
    grid_id: uuid.UUID = Field(foreign_key="grid.id")
    estate: str  # 小区
    building: str = ""  # 楼栋
    unit: str = ""  # 单元
    room: str = ""  # 门牌
    address: str  # the four parts joined, for search and display
    kind: str = HouseholdKind.registered
    status: str = HouseholdStatus.active
    phone: str = ""
    notes: str = ""
    lat: float | None = None
    lng: float | None = None


class Sex(StrEnum):
    male = "male"
    female = "female"


class Resident(SyncRecord, table=True):
    __table_args__ = (
        *scope_indexes("resident", "grid_id", "community_id"),
        # Age rules of care visits read only residents born before a date (issue 17).
        Index("ix_resident_birth_date", "birth_date"),
    )
    sync_type = "resident"
    scope_columns = ("community_id", "grid_id")
    private_columns = frozenset({"id_cipher", "id_hash"})

    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    community_id: uuid.UUID = Field(foreign_key="community.id")
    grid_id: uuid.UUID = Field(foreign_key="grid.id")
    name: str
    relation: str = "head"
    # The ID number is kept encrypted; the keyed hash finds duplicates (PIPL).
    id_cipher: str = ""
    id_hash: str = Field(default="", index=True)
    id_masked: str = ""
    birth_date: date | None = None
    sex: str | None = None
    phone: str = ""
    notes: str = ""
    tags: list[str] = JSONField(list)  # tag codes; mirrored in resident_tag for filtering


class Tag(SyncRecord, table=True):
    sync_type = "tag"

    code: str = Field(unique=True)
    name: str
    category: str = ""
    sensitive: bool = False
    active: bool = True
    sort: int = 0


class ResidentTag(SQLModel, table=True):
    __tablename__ = "resident_tag"

    resident_id: uuid.UUID = Field(foreign_key="resident.id", primary_key=True)
    tag_id: uuid.UUID = Field(foreign_key="tag.id", primary_key=True, index=True)
