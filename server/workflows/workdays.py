"""Working days (工作日) on the State Council's holiday and 调休 calendar, and time limits counted in them.

The clock of a time limit runs only on working days, midnight to midnight in
Asia/Shanghai: N working days from a moment on a working day end at the same
clock time N working days later; half a working day is twelve hours of
running clock; a limit started on a holiday starts running at the next working
day's midnight. Limits in hours (urgent requests) run on the wall clock.

The calendar is PyPI `chinese-calendar`'s for the years it knows, with the
years admins entered or corrected (setting `calendar.years`) replacing the
package's; any other year is Monday to Friday and is reported unknown. The
phone runs the same rules in `static/app/workdays.js` over the calendar it is
sent with its labels (`as_json`); a test holds both to the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import Any

from chinese_calendar import constants as official

from server.clock import aware

LOCAL = timezone(timedelta(hours=8))  # Asia/Shanghai: no summer time since 1991
DAY = timedelta(days=1)
LIMIT = re.compile(r"^\s*(\d{1,3}(?:\.5)?)\s*(h|小时)?\s*$")


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date]  # weekdays off
    workdays: frozenset[date]  # weekend days worked (调休)
    known_years: frozenset[int]

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add(self, start: datetime, days: float) -> datetime:
        """The moment `days` working days of running clock after `start`."""
        left = timedelta(days=days)
        cursor = aware(start).astimezone(LOCAL)
        while True:
            midnight = datetime.combine(cursor.date() + DAY, datetime.min.time(), LOCAL)
            if self.is_workday(cursor.date()):
                if left <= midnight - cursor:
                    return (cursor + left).astimezone(UTC)
                left -= midnight - cursor
            cursor = midnight

    def between(self, start: datetime, end: datetime) -> float:
        """Working days of running clock from `start` to `end` (negative when `end` is earlier)."""
        start, end = aware(start).astimezone(LOCAL), aware(end).astimezone(LOCAL)
        if end < start:
            return -self.between(end, start)
        total = timedelta()
        cursor = start
        while cursor < end:
            midnight = datetime.combine(cursor.date() + DAY, datetime.min.time(), LOCAL)
            if self.is_workday(cursor.date()):
                total += min(midnight, end) - cursor
            cursor = midnight
        return total / DAY

    def as_json(self, years: range) -> dict[str, Any]:
        """What the phone needs for `years`: the exceptions to Monday–Friday, and which years are known."""
        return {
            "holidays": sorted(d.isoformat() for d in self.holidays if d.year in years),
            "workdays": sorted(d.isoformat() for d in self.workdays if d.year in years),
            "known": sorted(y for y in self.known_years if y in years),
        }


@cache
def _official() -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    holidays = frozenset(d for d in official.holidays if d.weekday() < 5)
    workdays = frozenset(official.workdays)
    return holidays, workdays, frozenset(d.year for d in official.holidays)


def calendar_of(corrections: Mapping[str, Mapping[str, list[str]]]) -> WorkCalendar:
    """The package's calendar with each year in `corrections` ({"2027": {"holidays": [...],
    "workdays": [...]}}) replacing that year's data."""
    package_holidays, package_workdays, known = _official()
    years = {int(year) for year in corrections}
    holidays = {d for d in package_holidays if d.year not in years}
    workdays = {d for d in package_workdays if d.year not in years}
    for entry in corrections.values():
        holidays |= {date.fromisoformat(d) for d in entry.get("holidays", [])}
        workdays |= {date.fromisoformat(d) for d in entry.get("workdays", [])}
    return WorkCalendar(frozenset(holidays), frozenset(workdays), known | years)


class BadLimit(ValueError):
    """Not a time limit: "3" (working days), "0.5", "4h"."""


@dataclass(frozen=True)
class TimeLimit:
    amount: float
    hours: bool = False  # wall-clock hours, else working days

    @classmethod
    def parse(cls, text: str) -> TimeLimit:
        match = LIMIT.match(str(text))
        if not match or float(match.group(1)) <= 0:
            raise BadLimit(text)
        return cls(float(match.group(1)), bool(match.group(2)))

    def __str__(self) -> str:
        number = f"{self.amount:g}"
        return f"{number}h" if self.hours else number

    def deadline(self, calendar: WorkCalendar, start: datetime) -> datetime:
        if self.hours:
            return aware(start) + timedelta(hours=self.amount)
        return calendar.add(start, self.amount)

    def left(self, calendar: WorkCalendar, deadline: datetime, now: datetime) -> float:
        """What is left at `now`, in the limit's own unit (negative once past)."""
        if self.hours:
            return (aware(deadline) - aware(now)) / timedelta(hours=1)
        return calendar.between(now, deadline)

    def resumed(
        self, calendar: WorkCalendar, deadline: datetime, suspended: datetime, now: datetime
    ) -> datetime:
        """The deadline after a stop from `suspended` to `now`: what was left then is left now."""
        if self.hours:
            return aware(deadline) + (aware(now) - aware(suspended))
        return calendar.add(now, calendar.between(suspended, deadline))


WARN_AT = 0.75  # 即将超期 once this share of the limit is used


def warning(limit: TimeLimit, calendar: WorkCalendar, deadline: datetime, now: datetime) -> str:
    """ok | soon (即将超期: past 75 % of the limit) | overdue (已超期: past the deadline)."""
    left = limit.left(calendar, deadline, now)
    if left < 0 or aware(now) > aware(deadline):
        return "overdue"
    return "soon" if left <= limit.amount * (1 - WARN_AT) else "ok"
