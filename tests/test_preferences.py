from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from server import preferences
from server.access import Actor
from server.db import Database
from server.models import AuditLog, Preference
from tests.conftest import Factory

DEFAULTS: dict[str, Any] = {
    "travel_card.age_threshold": 65,
    "travel_card.discount_age": None,
    "travel_card.review_months": 12,
    "demand.time_limits": {
        "reply": {"normal": "1", "urgent": "4h"},
        "self": {"normal": "3", "urgent": "1"},
        "transfer": {"normal": "7", "urgent": "3"},
    },
    "calendar.years": {},
    "demand.callback": "off",
    "demand.fields": [
        {"code": "property", "name": "物业服务"},
        {"code": "elderly_care", "name": "居家养老"},
        {"code": "infrastructure", "name": "基础设施维护"},
        {"code": "environment", "name": "环境卫生"},
        {"code": "dispute", "name": "邻里纠纷"},
    ],
    "push.quiet_hours": "22:00-07:00",
    "open311.publishing": "key",
    "notice.undelivered_hours": 2,
    "app.require_latest": "off",
    "app.minimum_version": "",
    "app.update_grace_days": 3,
}
DEADLINES = DEFAULTS["demand.time_limits"]
FIELDS = DEFAULTS["demand.fields"]


@pytest.fixture
def admin(make: Factory) -> Actor:
    return make.actor(make.user("admin", username="root"))


def _rows(db: Database) -> dict[str, Any]:
    with db.read() as s:
        return {p.key: p.value for p in s.exec(select(Preference))}


def test_every_known_key_reads_as_its_default_until_set(db: Database) -> None:
    assert list(preferences.REGISTRY) == list(DEFAULTS)
    with db.read() as s:
        assert {key: preferences.get(s, key) for key in DEFAULTS} == DEFAULTS
        current = preferences.current(s)
    assert [c.customised for c in current] == [False] * len(DEFAULTS)
    assert all(str(c.definition.label) for c in current)


def test_a_default_handed_out_cannot_be_changed_by_its_reader(db: Database) -> None:
    with db.read() as s:
        preferences.get(s, "demand.fields").append({"code": "x", "name": "y"})
        assert preferences.get(s, "demand.fields") == FIELDS


@pytest.mark.parametrize(
    ("key", "given", "stored"),
    [
        ("travel_card.age_threshold", "60", 60),
        ("travel_card.age_threshold", 70.0, 70),
        ("travel_card.discount_age", " 60 ", 60),
        ("travel_card.discount_age", "", None),
        ("travel_card.review_months", 24, 24),
        ("push.quiet_hours", " 21:30 – 6:00 ", "21:30-06:00"),
        ("push.quiet_hours", "", ""),
        (
            "demand.time_limits",
            {
                "reply": {"normal": " 1.5 ", "urgent": "12 小时"},
                "self": DEADLINES["self"],
                "transfer": DEADLINES["transfer"],
            },
            {
                "reply": {"normal": "1.5", "urgent": "12h"},
                "self": DEADLINES["self"],
                "transfer": DEADLINES["transfer"],
            },
        ),
        (
            "calendar.years",
            "2027-10-01~2027-10-03 休\n\n2027-09-26 班\n2028-01-01 休",
            {
                "2027": {"holidays": ["2027-10-01", "2027-10-02", "2027-10-03"], "workdays": ["2027-09-26"]},
                "2028": {"holidays": ["2028-01-01"], "workdays": []},
            },
        ),
        (
            "demand.fields",
            [*FIELDS[:4], {"code": "dispute", "name": " 矛盾纠纷 "}, {"code": "safety", "name": "安全隐患"}],
            [*FIELDS[:4], {"code": "dispute", "name": "矛盾纠纷"}, {"code": "safety", "name": "安全隐患"}],
        ),
    ],
)
def test_values_are_normalised_stored_and_read_back(
    db: Database, admin: Actor, key: str, given: Any, stored: Any
) -> None:
    with db.write() as s:
        assert preferences.set(s, key, given, admin) == stored
    with db.read() as s:
        assert preferences.get(s, key) == stored
    assert _rows(db) == {key: stored}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("travel_card.age_threshold", "", "免费乘车年龄（周岁）：必须填写。"),
        ("travel_card.age_threshold", "六十五", "免费乘车年龄（周岁）：必须是整数。"),
        ("travel_card.age_threshold", 65.5, "必须是整数"),
        ("travel_card.age_threshold", True, "必须是整数"),
        ("travel_card.age_threshold", 120, "免费乘车年龄（周岁）：必须在 50 到 100 之间。"),
        ("travel_card.discount_age", 65, "优惠年龄必须小于免费乘车年龄（65 周岁）"),
        ("travel_card.review_months", 0, "出行卡年审周期（月）：必须在 1 到 60 之间。"),
        ("push.quiet_hours", "晚上十点", "推送免打扰时段：格式应为 22:00-07:00。"),
        ("push.quiet_hours", "25:00-07:00", "格式应为 22:00-07:00"),
        ("push.quiet_hours", "07:00-07:00", "开始和结束时间不能相同"),
        ("push.quiet_hours", 22, "格式应为"),
        ("demand.time_limits", [24, 8], "必须按办理类型和紧急程度分别填写时限"),
        ("demand.time_limits", {**DEADLINES, "later": {}}, "没有这些办理类型：later"),
        ("demand.time_limits", {**DEADLINES, "self": {"normal": "3"}}, "受理自办类（紧急）：必须填写。"),
        (
            "demand.time_limits",
            {**DEADLINES, "reply": {"normal": "8h", "urgent": "1"}},
            "紧急时限不能长于普通时限",
        ),
        (
            "demand.time_limits",
            {**DEADLINES, "transfer": {"normal": "0", "urgent": "0"}},
            "转交办理类（普通）：填工作日数",
        ),
        ("demand.time_limits", {**DEADLINES, "transfer": {"normal": "1.25", "urgent": "1"}}, "可以是半天"),
        ("calendar.years", "2027-10-01 放假", "第 1 行看不懂"),
        ("calendar.years", "2027-02-30 休", "第 1 行的日期不对"),
        ("calendar.years", "2027-10-07~2027-10-01 休", "先早后晚"),
        ("calendar.years", "2027-10-01 休\n2027-10-01 班", "2027-10-01 不能既放假又上班"),
        (
            "calendar.years",
            {"2027": {"holidays": ["2028-01-01"], "workdays": []}},
            "2027 年里有别的年份的日期",
        ),
        ("demand.fields", [], "至少要有一个领域"),
        ("demand.fields", FIELDS[:4], "同步协议规定的领域不能删除：dispute"),
        ("demand.fields", [*FIELDS, {"code": "Bad Code", "name": "x"}], "第 6 项：编码只能用小写字母"),
        ("demand.fields", [*FIELDS, {"code": "other", "name": ""}], "第 6 项：名称必须填写"),
        ("demand.fields", [*FIELDS, FIELDS[0]], "编码 property 重复了"),
        ("demand.fields", ["property"], "第 1 项"),
    ],
)
def test_bad_values_are_refused_with_a_chinese_message_and_nothing_is_stored(
    db: Database, admin: Actor, key: str, value: Any, message: str
) -> None:
    with pytest.raises(preferences.InvalidPreference) as refused, db.write() as s:
        preferences.set(s, key, value, admin)
    assert refused.value.key == key
    assert message in refused.value.errors[key]
    assert _rows(db) == {}
    with db.read() as s:
        assert (
            s.exec(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "preference.set")
            ).one()
            == 0
        )


def test_the_two_ages_are_checked_against_each_other(db: Database, admin: Actor) -> None:
    with db.write() as s:
        preferences.set(s, "travel_card.discount_age", 60, admin)
    with pytest.raises(preferences.InvalidPreference) as refused, db.write() as s:
        preferences.set(s, "travel_card.age_threshold", 60, admin)
    assert "免费乘车年龄必须大于优惠年龄（60 周岁）" in refused.value.message
    with db.write() as s:
        preferences.set(s, "travel_card.age_threshold", 80, admin)
        preferences.set(s, "travel_card.discount_age", 70, admin)
    # Going back to the default threshold (65) would now sit below the discount age.
    with pytest.raises(preferences.InvalidPreference), db.write() as s:
        preferences.reset(s, "travel_card.age_threshold", admin)
    assert _rows(db) == {"travel_card.age_threshold": 80, "travel_card.discount_age": 70}


def test_changes_are_audited_with_old_and_new_values(db: Database, admin: Actor) -> None:
    with db.write() as s:
        preferences.set(s, "travel_card.review_months", 6, admin)
        preferences.set(s, "travel_card.review_months", "6", admin)  # the same value: no second entry
        preferences.reset(s, "travel_card.review_months", admin)
        preferences.reset(s, "travel_card.review_months", admin)  # nothing left to reset
    with db.read() as s:
        entries = list(
            s.exec(select(AuditLog).where(AuditLog.record_type == "preference").order_by(AuditLog.id))
        )
    assert [(e.action, e.actor_id, e.record_id) for e in entries] == [
        ("preference.set", admin.id, "travel_card.review_months"),
        ("preference.reset", admin.id, "travel_card.review_months"),
    ]
    assert entries[0].detail == {"old": 12, "new": 6}
    assert entries[1].detail == {"old": 6}
    assert _rows(db) == {}


def test_a_stored_value_that_no_longer_passes_reads_as_the_default(db: Database, admin: Actor) -> None:
    with db.write() as s:
        s.add(Preference(key="travel_card.age_threshold", value="sixty-five"))
        s.add(Preference(key="demand.fields", value=[{"code": "property", "name": "物业"}]))
    with db.read() as s:
        assert preferences.get(s, "travel_card.age_threshold") == 65
        assert preferences.get(s, "demand.fields") == FIELDS
        assert {c.definition.key for c in preferences.current(s) if c.customised} == {
            "travel_card.age_threshold",
            "demand.fields",
        }


def test_a_stored_null_is_kept_apart_from_unset(db: Database, admin: Actor) -> None:
    with db.write() as s:
        preferences.set(s, "travel_card.discount_age", 60, admin)
        preferences.set(s, "travel_card.discount_age", None, admin)
    with db.read() as s:
        assert preferences.get(s, "travel_card.discount_age") is None
        assert s.get(Preference, "travel_card.discount_age") is not None


def test_unknown_keys_are_refused(db: Database, admin: Actor) -> None:
    with pytest.raises(preferences.UnknownPreference), db.read() as s:
        preferences.get(s, "travel_card.colour")
    with pytest.raises(KeyError), db.write() as s:
        preferences.set(s, "nope", 1, admin)


def test_forms_round_trip_through_each_kind() -> None:
    fields = preferences.definition("demand.fields").kind
    text = fields.form_value(FIELDS)
    assert text.splitlines()[0] == "property 物业服务"
    parsed = fields.from_form({"demand.fields": text + "\n\nsafety=安全隐患\r\n"}, "demand.fields")
    assert fields.check(parsed) == [*FIELDS, {"code": "safety", "name": "安全隐患"}]
    deadlines = preferences.definition("demand.time_limits").kind
    form = {f"d.{h}.{p}": str(n) for h, row in DEADLINES.items() for p, n in row.items()}
    assert deadlines.check(deadlines.from_form(form, "d")) == DEADLINES
    assert deadlines.submitted({**form, "d.self.urgent": "x"}, "d")["self"]["urgent"] == "x"
    age = preferences.definition("travel_card.discount_age").kind
    assert (age.form_value(None), age.text(None), age.submitted({"k": "61"}, "k")) == ("", "未设置", "61")
    assert "回复解释类 普通 1 个工作日、紧急 4 小时" in deadlines.text(DEADLINES)
    years = preferences.definition("calendar.years").kind
    stored = years.check("2027-02-06 班\n2027-02-10~2027-02-11 休")
    assert years.form_value(stored) == "2027-02-06 班\n2027-02-10 休\n2027-02-11 休"
    assert years.check(years.from_form({"y": years.form_value(stored)}, "y")) == stored
    assert years.text(stored) == "2027 年：放假 2 天、调休上班 1 天"


def test_adding_a_key_is_one_registry_entry(
    db: Database, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preferences, "REGISTRY", dict(preferences.REGISTRY))
    preferences._register("visit.reminder_days", "走访提醒（天）", preferences.Integer(1, 90), 30)
    with db.write() as s:
        assert preferences.get(s, "visit.reminder_days") == 30
        preferences.set(s, "visit.reminder_days", "14", admin)
        assert preferences.get(s, "visit.reminder_days") == 14
    with pytest.raises(preferences.BadValue):
        preferences._register("bad.default", "坏默认值", preferences.Integer(1, 9), 10)
