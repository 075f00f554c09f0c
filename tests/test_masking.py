"""Hostile spellings of phone numbers, ID numbers, names and addresses: none comes out of the
masking that Open311 and push bodies share, whether the text is read as typed or with its
digits made plain (full-width, Chinese, spaced or dashed)."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from server import preferences
from server.db import Database
from server.models import DemandStatus, utcnow
from server.people import masking
from server.people.masking import CHINESE_DIGITS
from server.push.triggers import demand_facts
from tests.conftest import Factory
from tests.test_demands import World, build_world, put_demand

NAMES = ["詹民华", "欧阳娜娜", "王先生"]
# (how it is typed, the digits or words that must not come out)
HOSTILE: list[tuple[str, str]] = [
    ("13907941234", "13907941234"),
    ("139 0794 1234", "13907941234"),
    ("139-0794-1234", "13907941234"),
    ("139—0794—1234", "13907941234"),
    ("１３９０７９４１２３４", "13907941234"),
    ("１３９　０７９４　１２３４", "13907941234"),
    ("+86 139 0794 1234", "13907941234"),
    ("+8613907941234", "13907941234"),
    ("0086-139-0794-1234", "13907941234"),
    ("（+86）13907941234", "13907941234"),
    ("一三九零七九四一二三四", "13907941234"),
    ("幺三九〇七九四幺二三四", "13907941234"),
    ("139.0794.1234", "13907941234"),
    ("TEL13907941234", "13907941234"),
    ("0794-6123456", "6123456"),
    ("(0794) 612 3456", "6123456"),
    ("０７９４－６１２３４５６", "6123456"),
    ("6123456", "6123456"),
    ("36012119500101123X", "1950010112"),
    ("36012119500101123x", "1950010112"),
    ("360121 19500101 123X", "1950010112"),
    ("360121-1950-0101-123X", "1950010112"),
    ("３６０１２１１９５００１０１１２３Ｘ", "1950010112"),
    ("360121500101123", "500101"),
    ("360 121 500 101 123", "500101"),
    ("詹民华", "民华"),
    ("詹 民 华", "民华"),
    ("民华", "民华"),
    ("欧阳娜娜", "娜娜"),
    ("芙蓉小区3栋2单元301室", "301"),
    ("芙蓉小区3栋２单元３０１室", "301"),
    ("3号楼2门1202", "1202"),
    ("3-2-301", "301"),
    ("五层", "五层"),
]


def plain(text: str) -> str:
    """The text with every digit in ASCII and no separators between digits."""
    text = "".join(CHINESE_DIGITS.get(c, unicodedata.normalize("NFKC", c)) for c in text)
    return re.sub(r"(?<=\d)[\s\-—.()（）]+(?=\d)", "", text)


def test_the_table_is_long_enough() -> None:
    assert len(HOSTILE) >= 20


@pytest.mark.parametrize(("typed", "secret"), HOSTILE)
def test_no_hostile_spelling_comes_out(typed: str, secret: str) -> None:
    text = f"居民反映：{typed}，请尽快处理"
    masked = masking.scrub(text, NAMES)
    assert typed not in masked
    assert secret not in masked and secret not in plain(masked), masked
    assert masked.startswith("居民反映：") and masked.endswith("，请尽快处理")


def test_what_is_not_personal_stays() -> None:
    text = "车牌赣F12345，面积120平，2026-03-01 10:30 来电，王先生说3栋东门路灯坏了一年多，欧阳阿姨在场"
    masked = masking.scrub(text, NAMES)
    assert masked == text.replace("王先生", "王某")


def test_numbers_keep_enough_for_the_worker_to_tell_them_apart() -> None:
    assert masking.mask_numbers("电话 +86 139-0794-1234") == "电话 139****1234"
    assert masking.mask_numbers("身份证３６０１２１１９５００１０１１２３ｘ") == "身份证3601**********123X"
    assert masking.mask_numbers("座机(0794)6123456") == "座机0794****"
    assert masking.mask_numbers("编号 12345678901") == "编号 ***********"


# -- where the masking is used ----------------------------------------------------------------


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


HOSTILE_TEXT = "詹 民 华家漏水，电话１３９ ０７９４ １２３４，身份证360121500101123，住3栋2单元301室"


def test_push_bodies_get_the_same_masking(db: Database, world: World) -> None:
    demand = put_demand(db, world, DemandStatus.submitted, description=HOSTILE_TEXT)
    with db.read() as s:
        summary = demand_facts(s, demand).params["summary"]
    for secret in ("13907941234", "360121500101123", "500101", "301"):
        assert secret not in plain(summary), summary
    assert "139****1234" in summary


def test_a_public_open311_answer_holds_none_of_it(
    client: TestClient, db: Database, world: World, make: Factory
) -> None:
    home = make.household(world.grid, estate="芙蓉小区", building="3栋", unit="2单元", room="301室")
    make.resident(home, name="詹民华")
    put_demand(
        db,
        world,
        DemandStatus.accepted,
        household_id=home.id,
        description=HOSTILE_TEXT,
        contact_name="詹民华",
        contact_phone="13907941234",
        deadline=utcnow() + timedelta(hours=30),
        handling_type="self",
    )
    put_demand(
        db,
        world,
        DemandStatus.submitted,
        household_id=None,
        address="欧阳娜娜家 桃园新村５栋１单元５０２室",
        description="欧阳娜娜 电话 +86 139-0794-1234",
        contact_name="欧阳娜娜",
    )
    with db.write() as s:
        preferences.set(s, "open311.publishing", "public", None)
    for fmt in ("json", "xml"):
        response = client.get(f"/open311/v2/requests.{fmt}")
        assert response.status_code == 200
        text = response.text if fmt == "xml" else json.dumps(response.json(), ensure_ascii=False)
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "", text)  # ids: random hex may hold any digits
        for secret in ("13907941234", "360121500101123", "詹民华", "民华", "娜娜", "301", "502", "2单元"):
            assert secret not in text and secret not in plain(text), (fmt, secret)
        assert "芙蓉小区 3栋" in text and "桃园新村5栋" in text
