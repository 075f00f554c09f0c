"""The service guide (办事指南, issue 24): what a resident needs for each service, versioned."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.models.base import JSONField, SyncRecord, utcnow


class ServiceCategory(StrEnum):
    social_security = "social_security"  # 社保
    medical_insurance = "medical_insurance"  # 医保
    civil_affairs = "civil_affairs"  # 民政
    household_registration = "household_registration"  # 户籍
    disability = "disability"  # 残联
    elderly = "elderly"  # 老龄
    employment = "employment"  # 就业
    housing = "housing"  # 住房
    other = "other"  # 其他


class MaterialForm(StrEnum):
    original = "original"  # 原件
    copy = "copy"  # 复印件


class ServiceItem(SyncRecord, table=True):
    """One 便民服务事项 as residents read it now; every change also lands in `service_item_revision`."""

    __tablename__ = "service_item"
    sync_type = "service_item"
    # Reference data: every phone holds the whole guide (no scope columns).

    name: str
    category: str = ServiceCategory.other
    eligibility: str = ""  # who may apply
    # [{"name": …, "form": "original" | "copy", "count": 1, "note": …}]
    materials: list[dict[str, Any]] = JSONField(list)
    steps: list[str] = JSONField(list)
    window: str = ""
    address: str = ""
    hours: str = ""
    phone: str = ""
    time_limit_days: int = 0  # working days; 0 is done on the spot (即办)
    fees: str = ""
    online_url: str = ""
    active: bool = True
    revision: int = 1  # the number of the current entry in service_item_revision


class ServiceItemRevision(SQLModel, table=True):
    """One version of an item, kept for ever: an application keeps the version it began with."""

    __tablename__ = "service_item_revision"
    __table_args__ = (UniqueConstraint("item_id", "revision"),)

    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    item_id: uuid.UUID = Field(foreign_key="service_item.id", index=True)
    revision: int
    data: dict[str, Any] = JSONField(dict)
    actor_id: uuid.UUID | None = None
    at: datetime = Field(default_factory=utcnow)
