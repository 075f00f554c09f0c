"""One calendar, two languages (issue 20): deadlines, what is left and the warning level made by
server/workflows/workdays.py and by the phone's static/app/workdays.js agree, to the second,
for every day of 2020–2030 at five clock times and five limits — 调休 Saturdays, Spring
Festival and National Day weeks and every year boundary among them — and for the years
after the package's, on the calendar an admin entered."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from playwright.sync_api import Page

from server.workflows.workdays import LOCAL, TimeLimit, calendar_of, warning

pytestmark = pytest.mark.browser

TIMES = [time(0, 0), time(8, 30), time(12, 0), time(17, 45, 30), time(23, 59, 59)]
LIMITS = ["0.5", "1", "1.5", "3", "7"]
ADMIN_2027 = {
    "2027": {"holidays": ["2027-01-01", "2027-02-08", "2027-02-09", "2027-10-01"], "workdays": ["2027-02-06"]}
}

PHONE = """async ([calendar, limits, starts, probes]) => {
  const w = await import("/static/app/workdays.js");
  const cal = w.makeCalendar(calendar);
  const deadlines = [];
  for (const start of starts) for (const text of limits) deadlines.push(w.addWorkdays(cal, start, w.parseLimit(text).amount));
  const answers = probes.map(([text, deadline, now]) => {
    const limit = w.parseLimit(text);
    return [w.timeLeft(cal, limit, deadline, now), w.warning(cal, limit, deadline, now)];
  });
  return [deadlines, answers];
}"""


def ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def test_the_phone_and_the_server_count_working_days_alike(module_page: Page) -> None:
    calendar = calendar_of(ADMIN_2027)
    day, last = date(2019, 12, 28), date(2031, 1, 3)
    starts: list[datetime] = []
    while day <= last:
        starts += [datetime.combine(day, clock, LOCAL) for clock in TIMES]
        day += timedelta(days=1)
    server = [ms(TimeLimit.parse(text).deadline(calendar, start)) for start in starts for text in LIMITS]
    # What is left and the warning, at moments around each deadline of every 7th start.
    probes = []
    for i, start in enumerate(starts[::7]):
        text = LIMITS[i % len(LIMITS)]
        limit = TimeLimit.parse(text)
        deadline = limit.deadline(calendar, start)
        for step in (-3 * 86400, -86400, -3600, 0, 1, 5400, 86400 * 2):
            probes.append((text, deadline, deadline + timedelta(seconds=step)))
    expected = [
        [
            TimeLimit.parse(text).left(calendar, deadline, now),
            warning(TimeLimit.parse(text), calendar, deadline, now),
        ]
        for text, deadline, now in probes
    ]
    phone_deadlines, phone_answers = module_page.evaluate(
        PHONE,
        [
            calendar.as_json(range(2019, 2032)),
            LIMITS,
            [ms(s) for s in starts],
            [[text, ms(deadline), ms(now)] for text, deadline, now in probes],
        ],
    )
    assert len(server) == len(starts) * len(LIMITS) > 50_000
    mismatches = [
        (
            starts[i // len(LIMITS)].isoformat(),
            LIMITS[i % len(LIMITS)],
            datetime.fromtimestamp(a / 1000, UTC),
            datetime.fromtimestamp(b / 1000, UTC),
        )
        for i, (a, b) in enumerate(zip(server, phone_deadlines, strict=True))
        if a != b
    ]
    assert mismatches == []
    assert [[pytest.approx(left, abs=1e-9), level] for left, level in expected] == phone_answers
    assert {level for _, level in expected} == {"ok", "soon", "overdue"}
