"""The rule of due care visits (issue 17): which households a worker should see, and by when.

Pure functions over plain values, no database: `server.queries.visit_tasks`
reads the households, residents, visits and rules and hands them here, and
the phone runs the same rule over its IndexedDB. Days are counted in
Asia/Shanghai, where the workers are.

- A household needs care visits when one of its residents (or the household
  itself, for a status rule) matches an active rule; the shortest interval of
  the matching rules counts, the highest priority shows.
- It is due on the local date of its last *completed* visit plus that
  interval, or today when it was never visited.
- A visit that found nobody home does not count as a visit, but the next try
  is tomorrow: a due date on or before that day moves to the day after it.
- It is overdue when the due date is before today.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from server.clock import LOCAL_TZ
from server.models import VisitRulePriority, VisitRuleSubject

PRIORITY_ORDER = (VisitRulePriority.high, VisitRulePriority.normal, VisitRulePriority.low)
# The subjects as plain names: the rule runs for every household under care in a county, and
# reading an enum's member costs more than comparing it.
TAG, AGE, STATUS = VisitRuleSubject.tag, VisitRuleSubject.age, VisitRuleSubject.household_status
SHANGHAI_OFFSET = timedelta(hours=8)


@dataclass(frozen=True)
class Rule:
    id: str
    subject: str
    interval_days: int
    priority: str = VisitRulePriority.normal
    tag_code: str = ""
    min_age: int | None = None
    household_status: str = ""
    active: bool = True


@dataclass(frozen=True)
class Person:
    tags: frozenset[str] = frozenset()
    birth_date: date | None = None


@dataclass(frozen=True)
class Home:
    """A household as the rule needs it: who lives there and when it was last seen."""

    id: str
    grid_id: str
    status: str
    people: tuple[Person, ...] = ()
    last_completed: datetime | None = None  # the latest visit with outcome completed
    last_nobody_home: datetime | None = None  # the latest visit that found nobody home


@dataclass(frozen=True)
class CareVisit:
    household_id: str
    grid_id: str
    due: date
    interval_days: int
    priority: str
    rule_ids: tuple[str, ...]

    def is_due(self, today: date) -> bool:
        return self.due <= today

    def is_overdue(self, today: date) -> bool:
        return self.due < today


def local_date(moment: datetime) -> date:
    """The day a stored (UTC) moment falls on in Asia/Shanghai. SQLite's naive UTC moments are
    shifted by the zone's fixed +8 hours (no summer time since 1991, as on the phone), which
    costs a tenth of a time-zone conversion: the coverage of a county reads twenty thousand."""
    if moment.tzinfo is None:
        return (moment + SHANGHAI_OFFSET).date()
    return moment.astimezone(LOCAL_TZ).date()


def age_on(birth: date, day: date) -> int:
    """Whole years from `birth` to `day` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def born_by(day: date, age: int) -> date:
    """The latest birth date of someone `age` or older on `day` (the inverse of `age_on`), so a
    query can read only the residents an age rule can name."""
    try:
        return day.replace(year=day.year - age)
    except ValueError:  # 29 February of a year that has none: born on the 28th is that old
        return date(day.year - age, 2, 28)


def person_matches(rule: Rule, person: Person, today: date) -> bool:
    if rule.subject == TAG:
        return bool(rule.tag_code) and rule.tag_code in person.tags
    if rule.subject == AGE:
        return (
            rule.min_age is not None
            and person.birth_date is not None
            and age_on(person.birth_date, today) >= rule.min_age
        )
    return False


def rules_naming(person: Person, rules: Sequence[Rule], today: date) -> list[Rule]:
    """The active rules that name this resident (not the household-status ones): who a care visit is for."""
    return [rule for rule in rules if rule.active and person_matches(rule, person, today)]


def oldest(home: Home) -> date | None:
    """The earliest birth date in the household: whoever has it is the oldest on any day."""
    people = home.people
    if len(people) == 1:  # most households under care
        return people[0].birth_date
    return min((p.birth_date for p in people if p.birth_date is not None), default=None)


def home_matches(rule: Rule, home: Home, tags: frozenset[str], age: int | None) -> bool:
    """Whether an active rule names the household, given the tags its residents carry and the
    age of its oldest: an age rule names a household when anybody in it is old enough, which
    is when its oldest is (`person_matches` asks the same of one resident)."""
    if not rule.active:
        return False
    if rule.subject == TAG:
        return bool(rule.tag_code) and rule.tag_code in tags
    if rule.subject == AGE:
        return rule.min_age is not None and age is not None and age >= rule.min_age
    if rule.subject == STATUS:
        return bool(rule.household_status) and home.status == rule.household_status
    return False


def care_visit(home: Home, rules: Sequence[Rule], today: date) -> CareVisit | None:
    """The household's next care visit under these rules, or None when no active rule names it."""
    people = home.people
    if len(people) == 1:
        tags = people[0].tags
    else:
        tags = people[0].tags.union(*(p.tags for p in people[1:])) if people else frozenset()
    born = oldest(home)
    age = age_on(born, today) if born is not None else None
    matching = [rule for rule in rules if home_matches(rule, home, tags, age)]
    if not matching:
        return None
    rule_ids: tuple[str, ...]
    if len(matching) == 1:
        interval, priority, rule_ids = matching[0].interval_days, matching[0].priority, (matching[0].id,)
    else:
        interval = min(rule.interval_days for rule in matching)
        priority = min((rule.priority for rule in matching), key=_rank)
        rule_ids = tuple(sorted(rule.id for rule in matching))
    last = local_date(home.last_completed) if home.last_completed else None
    due = last + timedelta(days=interval) if last else today
    if home.last_nobody_home is not None:
        tried = local_date(home.last_nobody_home)
        if (last is None or tried >= last) and due <= tried:
            due = tried + timedelta(days=1)
    return CareVisit(
        household_id=home.id,
        grid_id=home.grid_id,
        due=due,
        interval_days=interval,
        priority=priority,
        rule_ids=rule_ids,
    )


def due_tomorrow(home: Home, rules: Sequence[Rule], today: date, visit: CareVisit | None) -> bool:
    """Whether the phones will show the household's care visit tomorrow, given `visit`, the rule's
    answer today. It is the same visit unless the household's oldest comes of a rule's age
    overnight: only then does the rule run again, for tomorrow."""
    tomorrow = today + timedelta(days=1)
    born = oldest(home)  # an age rule reads the oldest's age (`home_matches`): only theirs can change it
    if (
        born is not None
        and age_on(born, tomorrow) != age_on(born, today)
        and any(rule.active and rule.subject == AGE for rule in rules)
    ):
        later = care_visit(home, rules, tomorrow)
        return later is not None and later.is_due(tomorrow)
    return visit is not None and visit.is_due(tomorrow)


def due_care_visits(homes: Iterable[Home], rules: Sequence[Rule], today: date) -> list[CareVisit]:
    """The care visits due today or overdue, earliest first, then by household id."""
    found = [visit for home in homes if (visit := care_visit(home, rules, today)) and visit.is_due(today)]
    return sorted(found, key=lambda v: (v.due, v.household_id))


_RANKS = {priority.value: rank for rank, priority in enumerate(PRIORITY_ORDER)}


def _rank(priority: str) -> int:
    return _RANKS.get(priority, len(PRIORITY_ORDER))
