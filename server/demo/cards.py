"""Demo travel card applications (老年出行卡): older residents at every step of the workflow.

Rows for bulk insert, without versions, each with a history that matches its
status, so the review queue, production, delivery and yearly-review lists all
have something to show. One photo (our app icon, a real PNG) stands in for the
applicants' portraits.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from server.people.idnumber import age_on
from server.web import icons
from server.workflows.travel_cards import CONSENT

# Status → the steps that led there (each a to-status of the history).
PATHS: dict[str, list[str]] = {
    "draft": ["draft"],
    "submitted": ["draft", "submitted"],
    "needs_supplement": ["draft", "submitted", "needs_supplement"],
    "approved": ["draft", "submitted", "approved"],
    "in_production": ["draft", "submitted", "approved", "in_production"],
    "ready": ["draft", "submitted", "approved", "in_production", "ready"],
    "issued": ["draft", "submitted", "approved", "in_production", "ready", "issued"],
    "rejected": ["draft", "submitted", "rejected"],
}
# How many of each, per grid.
MIX = {
    "draft": 1,
    "submitted": 3,
    "needs_supplement": 1,
    "approved": 1,
    "in_production": 1,
    "ready": 2,
    "issued": 3,
    "rejected": 1,
}
KINDS = {  # the step names server/commands/travel_cards.py writes
    "draft": "created",
    "submitted": "submit",
    "needs_supplement": "needs_supplement",
    "approved": "approve",
    "in_production": "in_production",
    "ready": "ready",
    "issued": "issued",
    "rejected": "reject",
}
NOTES = {
    "needs_supplement": "照片背景不是白色，请补拍一张正面免冠照片",
    "rejected": "申请人户籍不在本县，且未办理居住证",
}


def photo() -> tuple[str, bytes]:
    data = icons.png(320)
    return hashlib.sha256(data).hexdigest(), data


def applications(
    *,
    rng: random.Random,
    new_id: Callable[[], uuid.UUID],
    now: datetime,
    today: date,
    residents: list[dict[str, Any]],
    workers: dict[uuid.UUID, uuid.UUID | None],
    office: uuid.UUID | None,
    photo_sha: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Application and event rows for some residents aged 65+ in each grid (`workers`: grid id → worker)."""
    cards: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    by_grid: dict[uuid.UUID, list[dict[str, Any]]] = {}
    # Old enough on the earliest application date below, not only today.
    earliest = today - timedelta(days=41)
    for r in residents:
        if r["birth_date"] and age_on(r["birth_date"], earliest) >= 65:
            by_grid.setdefault(r["grid_id"], []).append(r)
    for grid_id, elders in by_grid.items():
        rng.shuffle(elders)
        statuses = [status for status, n in MIX.items() for _ in range(n)]
        for status, person in zip(statuses, elders, strict=False):
            worker = workers.get(grid_id)
            started = now - timedelta(days=rng.randint(3, 40), hours=rng.randint(0, 8))
            issued_at = started + timedelta(days=len(PATHS[status]) * 2) if status == "issued" else None
            # Some cards issued a year ago are due for their yearly review soon.
            if issued_at is not None and rng.random() < 0.6:
                issued_at -= timedelta(days=365 - rng.randint(5, 25))
            card_id = new_id()
            complete = status != "draft"
            cards.append(
                {
                    "id": card_id,
                    "resident_id": person["id"],
                    "household_id": person["household_id"],
                    "community_id": person["community_id"],
                    "grid_id": grid_id,
                    "applicant_hash": person["id_hash"],
                    "status": status,
                    "delivery": "door" if rng.random() < 0.4 else "collect",
                    "tier": "free",
                    "residence": "hukou" if rng.random() < 0.85 else "permit",
                    "checklist": {
                        "id_seen": True,
                        "photo_taken": complete,
                        "consent": True,
                        "consent_at": started.isoformat(),
                        "consent_version": CONSENT.version,
                    },
                    "photo": photo_sha if complete else None,
                    "proxy": None,
                    "reason": NOTES.get(status, ""),
                    "created_by": worker,
                    "applied_on": started.date(),
                    "submitted_at": started + timedelta(hours=1) if complete else None,
                    "issued_at": issued_at,
                    "review_due": (issued_at + timedelta(days=365)).date() if issued_at else None,
                    "created_at": started,
                    "updated_at": started,
                    "field_versions": {},
                }
            )
            previous = None
            for step, to in enumerate(PATHS[status]):
                at = (
                    issued_at
                    if to == "issued" and issued_at
                    else started + timedelta(days=step * 2, hours=step)
                )
                events.append(
                    {
                        "id": new_id(),
                        "application_id": card_id,
                        "community_id": person["community_id"],
                        "grid_id": grid_id,
                        "kind": KINDS[to],
                        "from_status": previous,
                        "to_status": to,
                        "actor_id": worker if to in ("draft", "submitted") else office,
                        "note": NOTES.get(to, ""),
                        "at": min(at, now),
                        "created_at": now,
                        "updated_at": now,
                        "field_versions": {},
                    }
                )
                previous = to
    return cards, events
