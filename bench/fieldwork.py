"""What a grid worker records between two syncs: the mutation mix of the load suite.

Each mutation is built from the phone's local copy of its grid, as the field
app would: visits to its households, residents' requests, new residents,
household corrections, travel card applications at the door for people of 65
and over (complete checklist, face photo, the server's consent version) and
accepting requests the office dispatched to the grid. A small share is bad on
purpose (an unknown purpose, a wrong ID number check digit, an empty field),
so the run also proves that a refused mutation changes nothing.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from phone import Phone, new_photo

from server.people import idnumber

MIX = (
    ("visit.record", 55),
    ("household.update", 12),
    ("demand.create", 12),
    ("resident.create", 10),
    ("demand.accept", 6),
    ("travel_card.create", 5),
)
FIELDS = ("property", "elderly_care", "infrastructure", "environment", "dispute")
NOTES = (
    "上门走访，老人身体尚好，叮嘱按时服药。",
    "了解家庭近况，提醒注意防火用电。",
    "老人反映腿脚不便，已登记需求。",
    "家中无人，留下联系卡。",
)
REQUESTS = (
    "楼道路灯不亮，晚上出门不方便。",
    "小区门口下水道堵了，雨天积水。",
    "楼上漏水渗到家里，协调不成。",
    "希望社区帮忙联系上门理发服务。",
)


@dataclass(frozen=True)
class Mix:
    photo_rate: float = 0.10  # visits and requests with one 200 KB photo
    bad_rate: float = 0.01  # refused on purpose
    consent_version: str = ""


def _pick(rng: random.Random) -> str:
    roll = rng.uniform(0, sum(w for _, w in MIX))
    for name, weight in MIX:
        roll -= weight
        if roll <= 0:
            return name
    return MIX[0][0]


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


class Worker:
    """One phone's field work: remembers which requests it accepted and who it applied for."""

    def __init__(self, phone: Phone, mix: Mix) -> None:
        self.phone = phone
        self.mix = mix
        self.rng = phone.rng
        self.accepted: set[str] = set()
        self.applied_for: set[str] = set()

    def record(self, count: int) -> None:
        for _ in range(count):
            self.one()

    def one(self) -> None:
        households = sorted(self.phone.records("household"))
        if not households:
            return
        name = _pick(self.rng)
        bad = self.rng.random() < self.mix.bad_rate
        household = self.rng.choice(households)
        if bad:
            self._bad(household)
        elif (name == "demand.accept" and self._accept()) or (name == "travel_card.create" and self._apply()):
            return
        elif name == "household.update":
            self._household(household)
        elif name == "demand.create":
            self._request(household)
        elif name == "resident.create":
            self._resident(household)
        else:
            self._visit(household)

    def _photos(self) -> list[Any]:
        return [new_photo(self.rng)] if self.rng.random() < self.mix.photo_rate else []

    def _visit(self, household: str) -> None:
        photos = self._photos()
        self.phone.queue(
            "visit.record",
            {
                "visit_id": str(uuid.uuid4()),
                "household_id": household,
                "purpose": self.rng.choice(("routine", "care", "service", "follow_up")),
                "outcome": self.rng.choice(("completed", "completed", "completed", "nobody_home")),
                "notes": self.rng.choice(NOTES),
                "photos": [p.sha256 for p in photos],
            },
            photos=photos,
        )

    def _request(self, household: str) -> None:
        photos = self._photos()
        self.phone.queue(
            "demand.create",
            {
                "demand_id": str(uuid.uuid4()),
                "household_id": household,
                "field": self.rng.choice(FIELDS),
                "description": self.rng.choice(REQUESTS),
                "source": "visit",
                "photos": [p.sha256 for p in photos],
            },
            photos=photos,
        )

    def _resident(self, household: str) -> None:
        born = date.today() - timedelta(days=self.rng.randint(1 * 365, 40 * 365))
        self.phone.queue(
            "resident.create",
            {
                "resident_id": str(uuid.uuid4()),
                "household_id": household,
                "name": self.rng.choice("王李张刘陈") + self.rng.choice(("小明", "欣怡", "子涵", "浩然")),
                "relation": self.rng.choice(("child", "grandchild", "tenant", "spouse")),
                "id_number": idnumber.make("361025", born, self.rng.randrange(1000)),
                "phone": _mobile(self.rng),
                "tags": [],
            },
        )

    def _household(self, household: str) -> None:
        version = self.phone.store[("household", household)]["version"]
        change = (
            {"phone": _mobile(self.rng)}
            if self.rng.random() < 0.5
            else {"notes": f"{self.rng.choice(NOTES)}（{self.rng.randrange(10**6)}）"}
        )
        self.phone.queue(
            "household.update", {"household_id": household, "base_version": version, "set": change}
        )

    def _accept(self) -> bool:
        grids = set(self.phone.grid_ids)
        waiting = sorted(
            rid
            for rid, d in self.phone.records("demand").items()
            if d["status"] == "dispatched" and d.get("grid_id") in grids and rid not in self.accepted
        )
        if not waiting:
            return False
        demand = self.rng.choice(waiting)
        self.accepted.add(demand)
        self.phone.queue("demand.accept", {"demand_id": demand})
        return True

    def _apply(self) -> bool:
        """A travel card for someone of 66 or over with no application yet, checklist complete."""
        oldest = (date.today() - timedelta(days=66 * 366)).isoformat()
        has_card = {c["resident_id"] for c in self.phone.records("travel_card").values()}
        candidates = sorted(
            rid
            for rid, r in self.phone.records("resident").items()
            if r.get("birth_date")
            and r["birth_date"] <= oldest
            and r.get("id_masked")
            and rid not in has_card
            and rid not in self.applied_for
        )
        if not candidates:
            return False
        resident = self.rng.choice(candidates)
        self.applied_for.add(resident)
        photo = new_photo(self.rng)
        self.phone.queue(
            "travel_card.create",
            {
                "application_id": str(uuid.uuid4()),
                "resident_id": resident,
                "delivery": self.rng.choice(("collect", "door")),
                "residence": "hukou",
                "checklist": {
                    "id_seen": True,
                    "photo_taken": True,
                    "consent": True,
                    "consent_version": self.mix.consent_version,
                },
                "photo": photo.sha256,
            },
            photos=[photo],
        )
        return True

    def _bad(self, household: str) -> None:
        """Refused on purpose: each has an id the verifier must not find."""
        kind = self.rng.randrange(3)
        if kind == 0:
            args = {
                "visit_id": str(uuid.uuid4()),
                "household_id": household,
                "purpose": "party",
                "outcome": "completed",
            }
            self.phone.queue("visit.record", args, bad=True)
        elif kind == 1:
            number = idnumber.make("361025", date(1980, 5, 1), self.rng.randrange(1000))
            wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
            args = {
                "resident_id": str(uuid.uuid4()),
                "household_id": household,
                "name": "错号",
                "id_number": wrong,
            }
            self.phone.queue("resident.create", args, bad=True)
        else:
            args = {
                "demand_id": str(uuid.uuid4()),
                "household_id": household,
                "field": "",
                "description": "空的类别",
                "source": "visit",
            }
            self.phone.queue("demand.create", args, bad=True)
