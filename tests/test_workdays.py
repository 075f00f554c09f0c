"""Working days and time limits (server/workflows/workdays.py): the deadline tables of issue 20."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.workflows.workdays import LOCAL, BadLimit, TimeLimit, calendar_of, warning

CAL = calendar_of({})


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL)


def shown(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


# (case, start in Shanghai, limit, deadline in Shanghai)
DEADLINES = [
    ("a Monday, 1 day: Tuesday, same clock time", "2026-11-30 10:00", "1", "2026-12-01 10:00"),
    ("a Friday, 1 day: over the weekend to Monday", "2026-12-04 10:00", "1", "2026-12-07 10:00"),
    ("a Friday, 3 days", "2026-12-04 16:30", "3", "2026-12-09 16:30"),
    ("a Saturday: the clock starts Monday at midnight", "2026-12-05 10:00", "1", "2026-12-08 00:00"),
    ("half a day is twelve hours of running clock", "2026-12-01 09:00", "0.5", "2026-12-01 21:00"),
    ("half a day over midnight into a holiday", "2026-09-30 18:00", "0.5", "2026-10-08 06:00"),
    ("1.5 days", "2026-12-01 09:00", "1.5", "2026-12-02 21:00"),
    ("National Day week: 30 Sep + 1 is 8 Oct", "2026-09-30 10:00", "1", "2026-10-08 10:00"),
    ("the 调休 Saturday after National Day counts", "2026-10-09 10:00", "1", "2026-10-10 10:00"),
    ("the 调休 Sunday before it counts too", "2026-09-18 10:00", "1", "2026-09-20 10:00"),
    ("Mid-Autumn 2026: Thursday 24 Sep + 1 is Monday 28", "2026-09-24 10:00", "1", "2026-09-28 10:00"),
    (
        "Spring Festival 2026: 13 Feb + 1 is the 调休 Saturday 14 Feb",
        "2026-02-13 10:00",
        "1",
        "2026-02-14 10:00",
    ),
    ("and from it, over the nine days off", "2026-02-14 10:00", "1", "2026-02-24 10:00"),
    (
        "Spring Festival 2025, 7 days, the 调休 Saturday 8 Feb among them",
        "2025-01-27 09:00",
        "7",
        "2025-02-12 09:00",
    ),
    ("over New Year 2026 (1–3 Jan off, 4 Jan worked)", "2025-12-31 15:00", "1", "2026-01-04 15:00"),
    ("into an unknown year: Monday to Friday", "2027-01-01 10:00", "1", "2027-01-04 10:00"),
    ("4 hours run on the wall clock, even on a Sunday", "2026-12-06 22:00", "4h", "2026-12-07 02:00"),
]


@pytest.mark.parametrize(("case", "start", "limit", "deadline"), DEADLINES, ids=[c[0] for c in DEADLINES])
def test_deadlines(case: str, start: str, limit: str, deadline: str) -> None:
    assert shown(TimeLimit.parse(limit).deadline(CAL, local(start))) == deadline


def test_what_is_left_and_the_warning_levels() -> None:
    limit = TimeLimit.parse("3")
    start = local("2026-12-04 10:00")  # a Friday
    deadline = limit.deadline(CAL, start)  # Wednesday 9 Dec 10:00
    assert CAL.between(start, deadline) == 3
    friday_left = 3 - 14 / 24  # 14 hours of Friday ran
    assert limit.left(CAL, deadline, local("2026-12-05 12:00")) == pytest.approx(
        friday_left
    )  # Saturday: it stands
    assert limit.left(CAL, deadline, local("2026-12-06 23:00")) == pytest.approx(friday_left)
    assert limit.left(CAL, deadline, local("2026-12-07 22:00")) == pytest.approx(1.5)
    assert warning(limit, CAL, deadline, local("2026-12-08 15:59")) == "ok"
    assert warning(limit, CAL, deadline, local("2026-12-08 16:00")) == "soon"  # 2.25 of 3 days used: 75 %
    assert warning(limit, CAL, deadline, local("2026-12-09 10:00")) == "soon"  # the deadline itself
    assert warning(limit, CAL, deadline, local("2026-12-09 10:01")) == "overdue"
    friday = TimeLimit.parse("1").deadline(CAL, local("2026-12-03 23:59"))  # Friday 23:59
    assert (
        warning(TimeLimit.parse("1"), CAL, friday, local("2026-12-05 10:00")) == "overdue"
    )  # left is 0, past it


def test_a_suspension_does_not_count() -> None:
    limit = TimeLimit.parse("3")
    deadline = limit.deadline(CAL, local("2026-11-30 10:00"))  # Thursday 3 Dec 10:00
    suspended, resumed = local("2026-12-01 10:00"), local("2026-12-07 15:00")  # 2 days were left
    assert shown(limit.resumed(CAL, deadline, suspended, resumed)) == "2026-12-09 15:00"
    urgent = TimeLimit.parse("4h")
    assert urgent.resumed(CAL, suspended + timedelta(hours=4), suspended, resumed) == resumed + timedelta(
        hours=4
    )


def test_an_admins_year_replaces_the_packages() -> None:
    cal = calendar_of({"2027": {"holidays": ["2027-01-01", "2027-02-08"], "workdays": ["2027-02-06"]}})
    assert 2027 in cal.known_years and 2028 not in cal.known_years
    assert not cal.is_workday(date(2027, 2, 8)) and cal.is_workday(date(2027, 2, 6))
    replaced = calendar_of({"2026": {"holidays": [], "workdays": []}})
    assert replaced.is_workday(date(2026, 10, 1)) and not replaced.is_workday(date(2026, 10, 10))
    assert CAL.as_json(range(2026, 2027))["workdays"][0] == "2026-01-04"


@pytest.mark.parametrize("text", ["", "0", "-1", "1.25", "abc", "1000", "3 days"])
def test_limits_that_are_not(text: str) -> None:
    with pytest.raises(BadLimit):
        TimeLimit.parse(text)


def test_limits_read_and_print() -> None:
    assert [str(TimeLimit.parse(t)) for t in ("1", " 0.5 ", "4h", "4 小时", "2.5")] == [
        "1",
        "0.5",
        "4h",
        "4h",
        "2.5",
    ]
    assert TimeLimit.parse("3").deadline(CAL, datetime(2026, 12, 1, 2, tzinfo=UTC)).tzinfo is UTC
