"""Run-time settings that admins change (PRODUCT.md: age threshold, time limits, fields, quiet hours).

Each known key is one entry in `REGISTRY`: its type (which checks a value and
converts it from a form), its default, its label. Values are kept in the
`preference` table as JSON. A key never set — or a stored value that no
longer passes its check — reads as the default, so readers never see a
malformed value:

    threshold = preferences.get(session, "travel_card.age_threshold")
    preferences.set(session, "travel_card.age_threshold", 60, actor)

Adding a key is one `_register(...)` line at the bottom of this module.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from sqlmodel import Session, select

from server import audit
from server.access import Actor
from server.errors import InvalidInput
from server.i18n import gettext as _
from server.i18n import lazy_gettext as _l
from server.models import APP_VERSION, AppRelease, Preference, utcnow
from server.workflows.workdays import BadLimit, TimeLimit, WorkCalendar, calendar_of

HANDLING_TYPES = {"reply": _l("回复解释类"), "self": _l("受理自办类"), "transfer": _l("转交办理类")}
PRIORITIES = {"normal": _l("普通"), "urgent": _l("紧急")}
# SYNC.md fixes these codes for `demand.create`: they may be renamed, never removed.
CORE_FIELDS = ("property", "elderly_care", "infrastructure", "environment", "dispute")
FIELD_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class UnknownPreference(KeyError):
    """No such key in the registry."""


class BadValue(ValueError):
    """A value its type refuses; the message is for people."""


class InvalidPreference(InvalidInput):
    def __init__(self, key: str, message: str) -> None:
        super().__init__({key: message})
        self.key = key


class Kind:
    """A setting's type: checks and normalises values, reads them from a form, shows them."""

    widget: ClassVar[str] = "text"

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def from_form(self, form: Mapping[str, Any], name: str) -> Any:
        return str(form.get(name, ""))

    def submitted(self, form: Mapping[str, Any], name: str) -> Any:
        """What the form shows again, as typed, after a refusal."""
        return str(form.get(name, ""))

    def form_value(self, value: Any) -> Any:
        """What the form shows for a stored `value`."""
        return "" if value is None else str(value)

    def text(self, value: Any) -> str:
        """One line for people (CLI, the settings list)."""
        return str(self.form_value(value))


@dataclass(frozen=True)
class Integer(Kind):
    minimum: int
    maximum: int
    optional: bool = False
    widget: ClassVar[str] = "integer"

    def check(self, value: Any) -> int | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if self.optional:
                return None
            raise BadValue(_("必须填写。"))
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadValue(_("必须是整数。"))
        if not self.minimum <= value <= self.maximum:
            raise BadValue(_("必须在 %(min)s 到 %(max)s 之间。", min=self.minimum, max=self.maximum))
        return value

    def text(self, value: Any) -> str:
        return _("未设置") if value is None else str(value)


def limit_text(limit: TimeLimit) -> str:
    """ "3 个工作日", "0.5 个工作日", "4 小时"."""
    if limit.hours:
        return _("%(n)s 小时", n=format(limit.amount, "g"))
    return _("%(n)s 个工作日", n=format(limit.amount, "g"))


class TimeLimits(Kind):
    """Time limits per handling type and priority, each in working days ("3", "0.5") or hours ("4h"):
    {"reply": {"normal": "1", "urgent": "4h"}, …}."""

    widget: ClassVar[str] = "deadlines"

    def check(self, value: Any) -> dict[str, dict[str, str]]:
        if not isinstance(value, dict):
            raise BadValue(_("必须按办理类型和紧急程度分别填写时限。"))
        unknown = [str(k) for k in value if k not in HANDLING_TYPES]
        if unknown:
            raise BadValue(_("没有这些办理类型：%(names)s", names="、".join(unknown)))
        result: dict[str, dict[str, str]] = {}
        for handling, handling_name in HANDLING_TYPES.items():
            row = value.get(handling)
            if not isinstance(row, dict) or any(k not in PRIORITIES for k in row):
                raise BadValue(_("%(type)s：要填写普通和紧急两个时限。", type=handling_name))
            limits: dict[str, TimeLimit] = {}
            for priority, priority_name in PRIORITIES.items():
                text = str(row.get(priority) if row.get(priority) is not None else "").strip()
                if not text:
                    raise BadValue(f"{handling_name}（{priority_name}）：" + _("必须填写。"))
                try:
                    limits[priority] = TimeLimit.parse(text)
                except BadLimit:
                    raise BadValue(
                        f"{handling_name}（{priority_name}）："
                        + _("填工作日数（可以是半天，如 0.5、1.5，最多 365），或小时数加 h（如 4h）。")
                    ) from None
            if _hours(limits["urgent"]) > _hours(limits["normal"]):
                raise BadValue(_("%(type)s：紧急时限不能长于普通时限。", type=handling_name))
            result[handling] = {priority: str(limit) for priority, limit in limits.items()}
        return result

    def from_form(self, form: Mapping[str, Any], name: str) -> Any:
        return {h: {p: str(form.get(f"{name}.{h}.{p}", "")) for p in PRIORITIES} for h in HANDLING_TYPES}

    def submitted(self, form: Mapping[str, Any], name: str) -> Any:
        return self.from_form(form, name)

    def form_value(self, value: Any) -> Any:
        return value

    def text(self, value: Any) -> str:
        return "；".join(
            _(
                "%(type)s 普通 %(normal)s、紧急 %(urgent)s",
                type=HANDLING_TYPES[h],
                normal=limit_text(TimeLimit.parse(value[h]["normal"])),
                urgent=limit_text(TimeLimit.parse(value[h]["urgent"])),
            )
            for h in HANDLING_TYPES
        )


def _hours(limit: TimeLimit) -> float:
    return limit.amount if limit.hours else limit.amount * 24


DAY_LINE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:\s*[~至]\s*(\d{4}-\d{2}-\d{2}))?\s+(休|班|off|work)$", re.IGNORECASE
)


class CalendarYears(Kind):
    """The holidays (休) and 调休 working days (班) of the years admins entered or corrected:
    {"2027": {"holidays": ["2027-01-01", …], "workdays": [...]}}. A year entered replaces
    the calendar package's year; the form is one line a day or a range: `2027-10-01~2027-10-07 休`."""

    widget: ClassVar[str] = "lines"

    def check(self, value: Any) -> dict[str, dict[str, list[str]]]:
        if isinstance(value, str):
            value = self._parse(value)
        if not isinstance(value, dict):
            raise BadValue(_("格式不对。"))
        result: dict[str, dict[str, list[str]]] = {}
        for year, entry in sorted(value.items()):
            if not re.fullmatch(r"20\d\d", str(year)) or not isinstance(entry, dict):
                raise BadValue(_("年份 %(year)s 不对。", year=year))
            days: dict[str, list[str]] = {}
            for kind in ("holidays", "workdays"):
                items = entry.get(kind, [])
                if not isinstance(items, list):
                    raise BadValue(_("年份 %(year)s 不对。", year=year))
                try:
                    parsed = sorted({date.fromisoformat(str(d)) for d in items})
                except ValueError:
                    raise BadValue(_("%(year)s 年有一个日期不对。", year=year)) from None
                if any(d.year != int(year) for d in parsed):
                    raise BadValue(_("%(year)s 年里有别的年份的日期。", year=year))
                days[kind] = [d.isoformat() for d in parsed]
            both = frozenset(days["holidays"]) & frozenset(days["workdays"])
            if both:
                raise BadValue(_("%(day)s 不能既放假又上班。", day=min(both)))
            result[str(year)] = days
        return result

    def _parse(self, text: str) -> dict[str, dict[str, list[str]]]:
        found: dict[str, dict[str, list[str]]] = {}
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            match = DAY_LINE.match(line)
            if not match:
                raise BadValue(
                    _(
                        "第 %(n)s 行看不懂：每行一个日期或一段日期，后面写“休”或“班”，如 2027-10-01~2027-10-07 休。",
                        n=n,
                    )
                )
            try:
                first = date.fromisoformat(match.group(1))
                last = date.fromisoformat(match.group(2) or match.group(1))
            except ValueError:
                raise BadValue(_("第 %(n)s 行的日期不对。", n=n)) from None
            if last < first or (last - first).days > 31:
                raise BadValue(_("第 %(n)s 行：一段日期最多 31 天，且先早后晚。", n=n))
            kind = "holidays" if match.group(3).lower() in ("休", "off") else "workdays"
            day = first
            while day <= last:
                entry = found.setdefault(str(day.year), {"holidays": [], "workdays": []})
                entry[kind].append(day.isoformat())
                day += timedelta(days=1)
        return found

    def from_form(self, form: Mapping[str, Any], name: str) -> Any:
        return str(form.get(name, ""))

    def form_value(self, value: Any) -> Any:
        lines = []
        for entry in value.values():
            lines += [f"{d} 休" for d in entry["holidays"]] + [f"{d} 班" for d in entry["workdays"]]
        return "\n".join(sorted(lines))

    def text(self, value: Any) -> str:
        if not value:
            return _("没有录入，用日历包自带的安排")
        return "；".join(
            _(
                "%(year)s 年：放假 %(h)s 天、调休上班 %(w)s 天",
                year=y,
                h=len(e["holidays"]),
                w=len(e["workdays"]),
            )
            for y, e in value.items()
        )


class FieldList(Kind):
    """The fields of residents' requests, [{"code": "property", "name": "物业服务"}, …]."""

    widget: ClassVar[str] = "lines"

    def check(self, value: Any) -> list[dict[str, str]]:
        if not isinstance(value, list) or not value:
            raise BadValue(_("至少要有一个领域。"))
        result: list[dict[str, str]] = []
        for n, item in enumerate(value, start=1):
            code = str(item.get("code", "")).strip() if isinstance(item, dict) else ""
            name = str(item.get("name", "")).strip() if isinstance(item, dict) else ""
            if not FIELD_CODE.match(code):
                raise BadValue(
                    _("第 %(n)s 项：编码只能用小写字母、数字和 _，以字母开头，2 到 32 个字符。", n=n)
                )
            if not name or len(name) > 20:
                raise BadValue(_("第 %(n)s 项：名称必须填写，最多 20 个字。", n=n))
            if any(r["code"] == code for r in result):
                raise BadValue(_("编码 %(code)s 重复了。", code=code))
            result.append({"code": code, "name": name})
        missing = [c for c in CORE_FIELDS if c not in {r["code"] for r in result}]
        if missing:
            raise BadValue(_("同步协议规定的领域不能删除：%(codes)s", codes="、".join(missing)))
        return result

    def from_form(self, form: Mapping[str, Any], name: str) -> Any:
        """One field a line: `code 名称` (or `code=名称`)."""
        items = []
        for line in str(form.get(name, "")).splitlines():
            parts = re.split(r"[\s=:：]+", line.strip(), maxsplit=1)
            if parts[0]:
                items.append({"code": parts[0], "name": parts[1] if len(parts) > 1 else ""})
        return items

    def form_value(self, value: Any) -> Any:
        return "\n".join(f"{item['code']} {item['name']}" for item in value)

    def text(self, value: Any) -> str:
        return "、".join(f"{item['name']}（{item['code']}）" for item in value)


class TimeRange(Kind):
    """`HH:MM-HH:MM`, possibly across midnight; empty means none."""

    widget: ClassVar[str] = "text"

    def check(self, value: Any) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            return ""
        if not isinstance(value, str):
            raise BadValue(_("格式应为 22:00-07:00。"))
        start, _sep, end = value.replace("–", "-").replace(" ", "").partition("-")
        times = [CLOCK.match(start), CLOCK.match(end)]
        if not all(times):
            raise BadValue(_("格式应为 22:00-07:00。"))
        a, b = (f"{int(m.group(1)):02d}:{m.group(2)}" for m in times if m)
        if a == b:
            raise BadValue(_("开始和结束时间不能相同。"))
        return f"{a}-{b}"

    def text(self, value: Any) -> str:
        return value or _("不设")


class AppVersion(Kind):
    """A field-app version as the reconciliation page lists it (12 letters and digits); empty means none."""

    widget: ClassVar[str] = "text"

    def check(self, value: Any) -> str:
        if value is None or (isinstance(value, str) and not value.strip()):
            return ""
        if not isinstance(value, str) or not APP_VERSION.fullmatch(value.strip().lower()):
            raise BadValue(_("应为设备对账页上列出的 12 位版本号。"))
        return value.strip().lower()

    def text(self, value: Any) -> str:
        return value or _("不设")


class Choice(Kind):
    """One of a few codes, each with its label: {"off": "不开放", …}."""

    widget: ClassVar[str] = "choice"

    def __init__(self, choices: Mapping[str, Any]) -> None:
        self.choices = dict(choices)

    def check(self, value: Any) -> str:
        if not isinstance(value, str) or value.strip() not in self.choices:
            raise BadValue(_("只能是以下之一：%(names)s", names="、".join(map(str, self.choices.values()))))
        return value.strip()

    def text(self, value: Any) -> str:
        return str(self.choices[value])


@dataclass(frozen=True)
class Definition:
    key: str
    label: Any  # lazily translated
    kind: Kind
    default: Any
    help: Any = ""
    # A check against other settings: returns a message when `value` does not fit them.
    related: Callable[[Session, Any], str | None] | None = None


REGISTRY: dict[str, Definition] = {}


def _register(key: str, label: Any, kind: Kind, default: Any, help: Any = "", related: Any = None) -> None:
    kind.check(default)  # a default must pass its own check
    REGISTRY[key] = Definition(key, label, kind, default, help, related)


def definition(key: str) -> Definition:
    try:
        return REGISTRY[key]
    except KeyError:
        raise UnknownPreference(key) from None


def get(session: Session, key: str) -> Any:
    """The current value of `key`, or its default."""
    entry = definition(key)
    row = session.get(Preference, key)
    if row is not None:
        try:
            return entry.kind.check(row.value)
        except BadValue:
            pass
    return copy.deepcopy(entry.default)


def check(session: Session, key: str, value: Any) -> Any:
    """The normalised value, or InvalidPreference with a message for people."""
    entry = definition(key)
    try:
        clean = entry.kind.check(value)
    except BadValue as exc:
        raise InvalidPreference(key, f"{entry.label}：{exc}") from None
    problem = entry.related(session, clean) if entry.related else None
    if problem:
        raise InvalidPreference(key, f"{entry.label}：{problem}")
    return clean


def set(session: Session, key: str, value: Any, actor: Actor | None) -> Any:
    """Check and store a value, writing the change to the audit log; returns the stored value."""
    clean = check(session, key, value)
    old = get(session, key)
    row = session.get(Preference, key)
    if row is None:
        row = Preference(key=key, value=clean)
        session.add(row)
    row.value = clean
    row.updated_at = utcnow()
    row.updated_by = actor.id if actor else None
    session.flush()
    if old != clean:
        audit.record(
            session,
            actor=actor,
            action="preference.set",
            record_type="preference",
            record_id=key,
            old=old,
            new=clean,
        )
    return clean


def reset(session: Session, key: str, actor: Actor | None) -> Any:
    """Go back to the default; returns it."""
    entry = definition(key)
    problem = entry.related(session, entry.default) if entry.related else None
    if problem:
        raise InvalidPreference(key, f"{entry.label}：{problem}")
    row = session.get(Preference, key)
    if row is not None:
        old = get(session, key)
        session.delete(row)
        session.flush()
        audit.record(
            session, actor=actor, action="preference.reset", record_type="preference", record_id=key, old=old
        )
    return copy.deepcopy(entry.default)


@dataclass(frozen=True)
class Current:
    definition: Definition
    value: Any
    customised: bool
    updated_at: datetime | None


def current(session: Session) -> list[Current]:
    """Every known setting with its value, for the settings page and `doorstep admin settings`."""
    rows = {row.key: row for row in session.exec(select(Preference)).all()}
    return [
        Current(entry, get(session, key), key in rows, rows[key].updated_at if key in rows else None)
        for key, entry in REGISTRY.items()
    ]


def _served(session: Session, value: Any) -> str | None:
    if value and session.get(AppRelease, value) is None:
        return _("服务器没有发布过这个版本。")
    return None


def _below_threshold(session: Session, value: Any) -> str | None:
    threshold = get(session, "travel_card.age_threshold")
    if value is not None and value >= threshold:
        return _("优惠年龄必须小于免费乘车年龄（%(n)s 周岁）。", n=threshold)
    return None


def _above_discount(session: Session, value: Any) -> str | None:
    discount = get(session, "travel_card.discount_age")
    if discount is not None and value <= discount:
        return _("免费乘车年龄必须大于优惠年龄（%(n)s 周岁）。", n=discount)
    return None


# The registry: one entry a key.
_register(
    "travel_card.age_threshold",
    _l("免费乘车年龄（周岁）"),
    Integer(50, 100),
    65,
    _l("年满此年龄的老人可申请免费老年出行卡。"),
    _above_discount,
)
_register(
    "travel_card.discount_age",
    _l("优惠乘车年龄（周岁）"),
    Integer(50, 100, optional=True),
    None,
    _l("留空表示不设优惠档；填 60 表示 60 周岁到免费年龄之间可办优惠卡。"),
    _below_threshold,
)
_register(
    "travel_card.review_months",
    _l("出行卡年审周期（月）"),
    Integer(1, 60),
    12,
    _l("发卡后多少个月需要年审。"),
)
_register(
    "demand.time_limits",
    _l("诉求办理时限"),
    TimeLimits(),
    {
        "reply": {"normal": "1", "urgent": "4h"},
        "self": {"normal": "3", "urgent": "1"},
        "transfer": {"normal": "7", "urgent": "3"},
    },
    _l(
        "填工作日数（按国务院节假日和调休安排计算，可以是半天，如 0.5），或小时数加 h（如 4h，按自然时间）。"
        "从派单起计算，到第 N 个工作日的同一时刻截止；时限用了四分之三为即将超期，过了为已超期。"
    ),
)
_register(
    "calendar.years",
    _l("节假日安排"),
    CalendarYears(),
    {},
    _l(
        "每年 11 月左右国务院公布下一年的放假安排，日历包还没有收录的年份请在这里录入：每行一个日期或一段日期，"
        "后面写“休”（放假）或“班”（调休上班），如 2027-10-01~2027-10-07 休。录入的年份会替换日历包里这一年的安排。"
    ),
)
_register(
    "demand.callback",
    _l("满意评价的电话回访"),
    Choice(
        {"off": _l("不要求"), "handler_satisfied": _l("办理人本人记录的满意评价，须经社区电话回访才归档")}
    ),
    "off",
    _l(
        "开启后，网格员在走访时代居民记录的“满意”“基本满意”（或在自己已登录的手机上打开评价链接）不会直接归档，等社区工作人员电话回访居民、记录评价后才归档。"
    ),
)
_register(
    "demand.fields",
    _l("诉求领域"),
    FieldList(),
    [
        {"code": "property", "name": "物业服务"},
        {"code": "elderly_care", "name": "居家养老"},
        {"code": "infrastructure", "name": "基础设施维护"},
        {"code": "environment", "name": "环境卫生"},
        {"code": "dispute", "name": "邻里纠纷"},
    ],
    _l("每行一个：编码 名称。可以改名、可以增加；同步协议规定的五个编码不能删除。"),
)
_register(
    "push.quiet_hours",
    _l("推送免打扰时段"),
    TimeRange(),
    "22:00-07:00",
    _l("这段时间内不发推送通知。留空表示不设。"),
)
_register(
    "open311.publishing",
    _l("Open311 公开方式"),
    Choice(
        {
            "off": _l("不开放"),
            "key": _l("仅限 API 密钥和社区工作人员"),
            "public": _l("公开（不含任何个人信息）"),
        }
    ),
    "key",
    _l("其他系统读取诉求（GeoReport v2）的方式。无论哪种，提交诉求都需要 API 密钥。"),
)
_register(
    "notice.undelivered_hours",
    _l("消息未送达提醒（工作时间小时数）"),
    Integer(1, 240),
    2,
    _l("一条消息在这么多小时的工作时间内没有同步到收件人的任何设备，就在诉求看板上提醒社区工作人员。"),
)
_register(
    "app.require_latest",
    _l("同步前必须更新应用"),
    Choice({"off": _l("不要求"), "on": _l("手机上的应用不是最新版本时，先更新再同步")}),
    "off",
    _l("开启后，旧版本的应用推送时会被要求先更新：应用随即更新，待同步的内容保留，更新后继续同步。"),
)
_register(
    "app.minimum_version",
    _l("应用最低版本"),
    AppVersion(),
    "",
    _l(
        "比这个版本旧的应用推送时会被要求先更新：应用随即更新，待同步的内容保留，更新后继续同步。留空表示不设。"
    ),
    _served,
)
_register(
    "app.update_grace_days",
    _l("新版本自动更新前等待的天数"),
    Integer(0, 30),
    3,
    _l(
        "手机上有新版本时先等网格员点“现在更新”；等满这么多天后，在下一次切换页面、且没有待同步内容时自动更新。"
    ),
)


def work_calendar(session: Session) -> WorkCalendar:
    """The working-day calendar: the package's, with the years admins entered."""
    return calendar_of(get(session, "calendar.years"))
