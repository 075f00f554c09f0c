"""Reads of the service guide: the list (searchable by name and category), one item, its versions."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlmodel import Session, col, select

from server.access import NotFound, live
from server.models import ServiceCategory, ServiceItem, ServiceItemRevision


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def service_items(
    session: Session, *, q: str = "", category: str = "", active_only: bool = False
) -> list[ServiceItem]:
    """Live items by category order then name; `q` matches the name, `category` one category."""
    query = select(ServiceItem).where(col(ServiceItem.deleted_at).is_(None))
    if q.strip():
        query = query.where(col(ServiceItem.name).like(_like(q.strip()), escape="\\"))
    if category in set(ServiceCategory):
        query = query.where(ServiceItem.category == category)
    if active_only:
        query = query.where(col(ServiceItem.active).is_(True))
    order = list(ServiceCategory)
    rows = list(session.exec(query))
    return sorted(rows, key=lambda item: (order.index(ServiceCategory(item.category)), item.name))


def category_counts(items: list[ServiceItem]) -> dict[str, int]:
    counts = Counter(item.category for item in items)
    return {c.value: counts[c.value] for c in ServiceCategory if counts[c.value]}


def service_item(session: Session, item_id: uuid.UUID | str) -> ServiceItem:
    return live(session, ServiceItem, item_id)


def public_item(session: Session, item_id: uuid.UUID | str) -> ServiceItem:
    """An item a resident may read: live and in use (a withdrawn one is a 404)."""
    item = live(session, ServiceItem, item_id)
    if not item.active:
        raise NotFound("service_item")
    return item


def revisions(session: Session, item_id: uuid.UUID) -> list[ServiceItemRevision]:
    """Every kept version of the item, newest first."""
    query = (
        select(ServiceItemRevision)
        .where(ServiceItemRevision.item_id == item_id)
        .order_by(col(ServiceItemRevision.revision).desc())
    )
    return list(session.exec(query))


def revision(session: Session, item_id: uuid.UUID, number: int) -> dict[str, Any]:
    """The item as it read at revision `number` (what an application that began then keeps)."""
    row = session.exec(
        select(ServiceItemRevision).where(
            ServiceItemRevision.item_id == item_id, ServiceItemRevision.revision == number
        )
    ).first()
    if row is None:
        raise NotFound("service_item_revision")
    return row.data
