"""Seed a county's morning for the load suite: one community, one grid and one worker per phone.

Everything goes in as Core bulk inserts in one transaction that takes its
versions from `versions.allocate()` (SYNC.md rule 9), as `doorstep demo` does;
the password is hashed once and the hash shared by every worker, so 500
accounts cost one argon2 hash instead of fifteen seconds.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import SQLModel

from server import versions
from server.auth import hash_password
from server.db import Database
from server.demo.words import DEPARTMENTS, TAGS
from server.models import (
    Community,
    Demand,
    DemandEvent,
    Department,
    Grid,
    Household,
    Resident,
    ResidentTag,
    Tag,
    User,
    UserGrid,
    Visit,
)
from server.people import idnumber
from server.people.vault import Vault

ESTATES = ("芙蓉花园", "鳌溪新村", "金竹小区", "教师新村", "滨江苑", "城南小区")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余叶蒋杜苏魏程吕丁沈任姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰志强春梅海燕红梅德明"
VISIT_NOTES = (
    "上门走访，了解近况，身体尚好，无特殊需求。",
    "与老人聊家常，提醒注意用电安全。",
    "核实家庭成员信息，已更新联系电话。",
    "宣传老年出行卡政策，老人表示要办理。",
)
DEMAND_NOTES = (
    "{place}楼道的路灯坏了，晚上出门摸黑，希望尽快修好。",
    "{place}楼下垃圾清运不及时，夏天有异味。",
    "{place}单元门禁坏了一个月，陌生人随便进出。",
    "{place}屋顶漏水，下雨天家里接了好几个盆。",
)
AREA = "361025"  # 乐安县
ELDERLY_SHARE = 0.25


@dataclass(frozen=True)
class Sizes:
    """Per grid (one grid per phone)."""

    households: int = 60
    residents: int = 180
    visits: int = 120
    demands: int = 10


@dataclass
class County:
    """What was seeded: the workers (one per phone) and the row counts per table."""

    community_id: uuid.UUID
    usernames: list[str]
    user_ids: list[uuid.UUID]
    grid_ids: list[uuid.UUID]
    counts: dict[str, int] = field(default_factory=dict)


def _with_versions(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for row, version in zip(rows, versions.allocate(session, len(rows)), strict=True):
        row["version"] = version
    for start in range(0, len(rows), 2000):
        session.execute(insert(model), rows[start : start + 2000])


def add_community(session: Any, stamp: dict[str, Any], *, name: str, code: str) -> uuid.UUID:
    community_id = uuid.uuid4()
    row = {**stamp, "id": community_id, "name": name, "code": code, "public_token": uuid.uuid4().hex[:16]}
    _with_versions(session, Community, [row])
    return community_id


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _born(rng: random.Random, today: date) -> date:
    if rng.random() < ELDERLY_SHARE:  # 65 to 90: travel card applicants
        return today - timedelta(days=rng.randint(66 * 365, 90 * 365))
    return today - timedelta(days=rng.randint(5 * 365, 63 * 365))


class IdNumbers:
    """Valid, distinct 18-digit ID numbers: two people with one number would make
    a travel card a `duplicate_application` across grids."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def make(self, born: date) -> str:
        while True:
            number = idnumber.make(AREA, born, self.rng.randrange(1000))
            if number not in self.used:
                self.used.add(number)
                return number


def seed(
    db: Database, *, phones: int, sizes: Sizes, secret_key: str, password: str, rng_seed: int = 8
) -> County:
    rng = random.Random(rng_seed)
    vault = Vault(secret_key)
    ids = IdNumbers(rng)
    now = datetime.now(UTC)
    today = now.date()
    password_hash = hash_password(password)
    stamp = {"created_at": now, "updated_at": now, "field_versions": {}}
    with db.write() as s:
        community_id = add_community(s, stamp, name="乐安县负载测试社区", code="load")
        _with_versions(
            s,
            Department,
            [{**stamp, "id": uuid.uuid4(), "name": name, "code": code} for code, name in DEPARTMENTS],
        )
        tags = [
            {
                **stamp,
                "id": uuid.uuid4(),
                "code": t.code,
                "name": t.name,
                "category": t.category,
                "sensitive": t.sensitive,
                "active": True,
                "sort": (i + 1) * 10,
            }
            for i, t in enumerate(TAGS)
        ]
        _with_versions(s, Tag, tags)
        tag_ids = {t["code"]: t["id"] for t in tags}
        elderly_tags = ["elderly_alone", "empty_nest", "very_old"]
        grids = [
            {
                **stamp,
                "id": uuid.uuid4(),
                "community_id": community_id,
                "name": f"第{n + 1}网格",
                "code": f"L{n + 1:04d}",
                "lat": 27.43 + n * 1e-4,
                "lng": 115.83,
            }
            for n in range(phones)
        ]
        _with_versions(s, Grid, grids)
        users = [
            {
                "id": uuid.uuid4(),
                "username": f"load{n + 1:04d}",
                "display_name": _name(rng),
                "role": "grid_worker",
                "password_hash": password_hash,
                "community_id": community_id,
                "phone": "",
                "locale": "zh_Hans_CN",
                "active": True,
                "created_at": now,
                "updated_at": now,
                "sessions_valid_after": now - timedelta(days=1),
            }
            for n in range(phones)
        ]
        s.execute(insert(User), users)
        s.execute(
            insert(UserGrid),
            [{"user_id": u["id"], "grid_id": g["id"]} for u, g in zip(users, grids, strict=True)],
        )

        households: list[dict[str, Any]] = []
        residents: list[dict[str, Any]] = []
        visits: list[dict[str, Any]] = []
        demands: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        for grid, user in zip(grids, users, strict=True):
            base = {**stamp, "community_id": community_id, "grid_id": grid["id"]}
            estate = rng.choice(ESTATES)
            homes = []
            for i in range(sizes.households):
                building, unit, room = (
                    f"{i // 24 + 1}栋",
                    f"{i // 8 % 3 + 1}单元",
                    f"{i % 8 // 2 + 1}0{i % 2 + 1}室",
                )
                homes.append(
                    {
                        **base,
                        "id": uuid.uuid4(),
                        "estate": estate,
                        "building": building,
                        "unit": unit,
                        "room": room,
                        "address": f"{estate} {building} {unit} {room}",
                        "kind": "registered",
                        "status": "active",
                        "phone": f"13{rng.randint(5, 9)}{rng.randrange(10**8):08d}",
                        "notes": "",
                        "lat": grid["lat"],
                        "lng": grid["lng"],
                    }
                )
            households += homes
            for i in range(sizes.residents):
                born = _born(rng, today)
                number = ids.make(born)
                parsed = idnumber.parse(number)
                old = today.year - born.year >= 65
                codes = [rng.choice(elderly_tags)] if old and rng.random() < 0.4 else []
                row = {
                    **base,
                    "id": uuid.uuid4(),
                    "household_id": homes[i % len(homes)]["id"],
                    "name": _name(rng),
                    "relation": "head" if i < len(homes) else rng.choice(["spouse", "child", "parent"]),
                    "id_cipher": vault.encrypt(number),
                    "id_hash": vault.keyed_hash(number),
                    "id_masked": parsed.masked,
                    "birth_date": parsed.birth_date,
                    "sex": parsed.sex,
                    "phone": "",
                    "notes": "",
                    "tags": codes,
                }
                residents.append(row)
                links += [{"resident_id": row["id"], "tag_id": tag_ids[c]} for c in codes]
            for i in range(sizes.visits):
                visits.append(
                    {
                        **base,
                        "id": uuid.uuid4(),
                        "household_id": homes[i % len(homes)]["id"],
                        "worker_id": user["id"],
                        "purpose": "routine",
                        "outcome": "completed",
                        "notes": rng.choice(VISIT_NOTES),
                        "photos": [],
                        "at": now - timedelta(days=3, minutes=i * 17),
                    }
                )
            for i in range(sizes.demands):
                home = homes[(i * 7) % len(homes)]
                # Dispatched over the last three days with 72 hours to answer: none overdue yet,
                # about a third due within a day (the reminder job has work, as in a real county).
                dispatched = now - timedelta(hours=rng.uniform(1, 70))
                created = dispatched - timedelta(hours=rng.uniform(1, 24))
                demand_id = uuid.uuid4()
                demands.append(
                    {
                        **base,
                        "id": demand_id,
                        "household_id": home["id"],
                        "field": "infrastructure",
                        "description": rng.choice(DEMAND_NOTES).format(place=home["address"]),
                        "source": "visit",
                        "status": "dispatched",
                        "handling_type": "self",
                        "priority": "normal",
                        "deadline": dispatched + timedelta(hours=72),
                        "contact_name": "",
                        "contact_phone": "",
                        "address": home["address"],
                        "photos": [],
                        "answer": "",
                        "rating_comment": "",
                        "rating_token": "",
                    }
                )
                for kind, before, after, at in (
                    ("created", None, "submitted", created),
                    ("dispatched", "submitted", "dispatched", dispatched),
                ):
                    events.append(
                        {
                            **base,
                            "id": uuid.uuid4(),
                            "demand_id": demand_id,
                            "kind": kind,
                            "from_status": before,
                            "to_status": after,
                            "note": "",
                            "photos": [],
                            "at": at,
                        }
                    )
        _with_versions(s, Household, households)
        _with_versions(s, Resident, residents)
        _with_versions(s, Visit, visits)
        _with_versions(s, Demand, demands)
        _with_versions(s, DemandEvent, events)
        if links:
            s.execute(insert(ResidentTag), links)
    county = County(
        community_id=community_id,
        usernames=[u["username"] for u in users],
        user_ids=[u["id"] for u in users],
        grid_ids=[g["id"] for g in grids],
    )
    county.counts = table_counts(db)
    return county


def table_counts(db: Database) -> dict[str, int]:
    """Rows per table, every table of the schema."""
    with db.read() as s:
        return {
            name: int(s.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in sorted(SQLModel.metadata.tables.items())
        }
