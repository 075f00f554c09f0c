"""The demo community's work: the last 90 days of door visits, and residents'
requests (微诉求) in every state of their life, each with the events that got it there."""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from server import preferences
from server.demo.people import CHINA, Home, Person, base_row
from server.demo.words import (
    CARE_TAGS,
    DEMANDS,
    NOBODY_HOME_NOTES,
    PROGRESS_NOTES,
    RATING_COMMENTS,
    RATING_NAMES,
    REFUSED_NOTES,
    SOURCE_NOTES,
    VACANT_VISIT_NOTES,
    VISIT_NOTES,
    DemandText,
)
from server.workflows.workdays import TimeLimit, calendar_of

# The texts name the handling types 回复解释类 / 受理自办类 / 转交办理类 reply / handle / transfer;
# requests carry the workflow's codes.
HANDLING = {"reply": "reply", "handle": "self", "transfer": "transfer"}

# Requests per grid by the state they are in now; `transfer_resolved` ends `resolved`
# after a department handled it.
PLAN = (
    ("submitted", 2),
    ("dispatched", 6),
    ("accepted", 4),
    ("in_progress", 4),
    ("replied", 3),
    ("resolved", 4),
    ("closed", 9),
    ("rectifying", 1),
    ("transferred", 2),
    ("escalated", 1),
    ("transfer_resolved", 1),
)
# Hours between the last event and now, by state.
WAITED = {
    "submitted": (0.5, 30),
    "dispatched": (0.3, 40),
    "accepted": (1, 48),
    "in_progress": (2, 72),
    "replied": (24, 40 * 24),
    "resolved": (2, 60),
    "closed": (48, 80 * 24),
    "rectifying": (12, 96),
    "transferred": (24, 10 * 24),
    "escalated": (24, 8 * 24),
    "transfer_resolved": (24, 30 * 24),
}
GRID_PATH = frozenset(
    {"dispatched", "accepted", "in_progress", "replied", "resolved", "closed", "rectifying"}
)
TRANSFER_PATH = frozenset({"transferred", "escalated", "transfer_resolved"})
OLDEST = timedelta(days=85)  # moving steps into working hours adds at most a few days


@dataclass(frozen=True)
class Step:
    kind: str
    from_status: str | None
    to_status: str
    actor: uuid.UUID | None
    note: str
    hours: float  # after the step before


@dataclass(frozen=True)
class Staff:
    """Who does the work: the office, each grid's worker, each department's user."""

    office: uuid.UUID | None
    workers: dict[str, uuid.UUID | None]  # by grid code
    departments: dict[str, tuple[uuid.UUID, str, uuid.UUID | None]]  # code: (id, name, user)


class Work:
    def __init__(
        self,
        *,
        rng: random.Random,
        new_id: Callable[[], uuid.UUID],
        now: datetime,
        community_id: uuid.UUID,
        grids: dict[str, tuple[uuid.UUID, str]],
        homes: list[Home],
        staff: Staff,
    ) -> None:
        self.rng = rng
        # Limits per handling type and priority (setting `demand.time_limits`), on the official calendar.
        self.limits = preferences.definition("demand.time_limits").default
        self.calendar = calendar_of({})
        self.new_id = new_id
        self.now = now
        self.community_id = community_id
        self.grids = grids
        self.homes = homes
        self.staff = staff

    # Visits ---------------------------------------------------------------------

    def visits(self) -> list[dict[str, Any]]:
        rows = []
        for code in sorted(self.grids):
            homes = [h for h in self.homes if h.grid == code]
            weights = [4.0 if h.tags & CARE_TAGS else 1.0 if h.status == "active" else 0.3 for h in homes]
            for _ in range(self.rng.randint(86, 100)):
                home = self.rng.choices(homes, weights)[0]
                rows.append(self._visit(home, self._working_hours(self.rng.randint(1, 89))))
        return rows

    def _visit(self, home: Home, at: datetime, *, notes: str = "") -> dict[str, Any]:
        rng = self.rng
        care = bool(home.tags & CARE_TAGS)
        purpose = rng.choices(
            ("routine", "care", "service", "follow_up"), (25, 45, 18, 12) if care else (75, 0, 12, 13)
        )[0]
        outcome = rng.choices(("completed", "nobody_home", "refused"), (82, 14, 4))[0]
        if notes:
            purpose, outcome = ("care" if care else "routine"), "completed"
        elif home.status != "active":
            purpose, outcome, notes = "routine", "nobody_home", rng.choice(VACANT_VISIT_NOTES)
        elif outcome == "refused" and purpose == "routine":
            notes = rng.choice(REFUSED_NOTES)
        elif outcome != "completed":
            outcome, notes = "nobody_home", rng.choice(NOBODY_HOME_NOTES)
        else:
            seen = self._seen(home, purpose)
            fitting = [
                n.text for n in VISIT_NOTES if n.purpose == purpose and n.ages[0] <= seen.age <= n.ages[1]
            ]
            notes = rng.choice(fitting).format(name=seen.name)
        return base_row(self.new_id(), at) | {
            "household_id": home.id,
            "community_id": self.community_id,
            "grid_id": self.grids[home.grid][0],
            "worker_id": self.staff.workers.get(home.grid),
            "purpose": purpose,
            "outcome": outcome,
            "notes": notes,
            "photos": [],
            "at": at,
            "planned_for": None,
        }

    @staticmethod
    def _seen(home: Home, purpose: str) -> Person:
        """Whom the visit was for: the person cared for, the oldest for a service, else an adult."""
        adults = [p for p in home.people if p.age >= 18] or home.people
        if purpose == "care":
            cared = [p for p in home.people if p.tags & CARE_TAGS]
            return max(cared or home.people, key=lambda p: p.age)
        if purpose == "service":
            return max(home.people, key=lambda p: p.age)
        return adults[0]

    def _working_hours(self, days_ago: int) -> datetime:
        day = self.now.astimezone(CHINA).date() - timedelta(days=days_ago)
        if day.weekday() == 6 and self.rng.random() < 0.7:  # Sundays are mostly off
            day -= timedelta(days=1)
        start, end = self.rng.choice(((8 * 60 + 30, 11 * 60 + 45), (14 * 60 + 30, 17 * 60 + 45)))
        minute = self.rng.randint(start, end)
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=CHINA)
        return local.astimezone(UTC)

    # Requests -------------------------------------------------------------------

    def demands(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """Demand rows, their event rows, and the visits at which workers heard of some."""
        demands: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        visits: list[dict[str, Any]] = []
        for code in sorted(self.grids):
            homes = [h for h in self.homes if h.grid == code and any(p.age >= 18 for p in h.people)]
            plan = [
                state
                for state, n in PLAN
                for _ in range(n + (self.rng.randint(0, 3) if state == "closed" else 0))
            ]
            for index, state in enumerate(plan):
                overdue = state == "dispatched" and plan.index("dispatched") == index
                demand, steps, visit = self._demand(self.rng.choice(homes), state, overdue=overdue)
                demands.append(demand)
                events += steps
                if visit is not None:
                    visits.append(visit)
        return demands, events, visits

    def _text(self, state: str) -> DemandText:
        if state in ("transferred", "escalated"):
            pool = [t for t in DEMANDS if t.handling == "transfer"]
        elif state == "transfer_resolved":
            pool = [t for t in DEMANDS if t.department == "zhujian"]
        elif state == "replied":
            pool = [t for t in DEMANDS if t.handling == "reply"]
        elif state in ("resolved", "closed", "rectifying"):
            pool = [t for t in DEMANDS if t.handling == "handle"]
        elif state == "submitted":
            pool = list(DEMANDS)
        else:
            pool = [t for t in DEMANDS if t.handling != "transfer"]
        return self.rng.choice(pool)

    def _demand(
        self, home: Home, state: str, *, overdue: bool
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
        rng = self.rng
        text = self._text(state)
        place = f"{home.estate}{home.building}{home.unit}"
        description = text.description.format(place=place, estate=home.estate)
        answer = text.answer.format(place=place, estate=home.estate)
        source = rng.choices(("visit", "phone", "hotline", "meeting"), (40, 20, 15, 25))[0]
        grid_id, grid_name = self.grids[home.grid]
        worker = self.staff.workers.get(home.grid)
        office = self.staff.office
        department = self.staff.departments[text.department] if state in TRANSFER_PATH else None
        creator = worker if source == "visit" else office
        steps, rating, comment = self._steps(
            state,
            text.field,
            Step("created", None, "submitted", creator, SOURCE_NOTES[source], 0),
            worker,
            grid_name,
            answer,
            department,
        )

        handling = None if state == "submitted" else HANDLING[text.handling]
        limit = TimeLimit.parse(self.limits[HANDLING[text.handling]]["normal"])
        waited = rng.uniform(*WAITED[state])
        if overdue and handling is not None:
            # Past the limit on any calendar: working days are at most a day and a half of wall
            # clock each, on average, even through a holiday week.
            waited = (limit.amount if limit.hours else limit.amount * 24 * 2.5) + rng.uniform(6, 40)
        # Laid out backwards from the last step, each moved back into working hours.
        waited = min(waited, OLDEST.total_seconds() / 3600 - sum(s.hours for s in steps))
        times = [self._daytime(self.now - timedelta(hours=waited))]
        for later in reversed(steps[1:]):
            times.insert(0, self._daytime(times[0] - timedelta(hours=later.hours)))
        start = times[0]
        when = dict(zip((s.kind for s in steps), times, strict=True))
        routed = when.get("dispatched") or when.get("transferred")
        status = steps[-1].to_status
        demand_id = self.new_id()
        in_grid = state != "submitted" or source == "visit"
        scope = {
            "community_id": self.community_id,
            "grid_id": grid_id if in_grid else None,
            "department_id": department[0] if department else None,
        }
        head = home.people[0]
        demand = (
            base_row(demand_id, start)
            | scope
            | {
                "updated_at": times[-1],
                "household_id": home.id,
                "field": text.field,
                "description": description,
                "source": source,
                "status": status,
                "handling_type": handling,
                "priority": "normal",
                "deadline": limit.deadline(self.calendar, routed) if routed else None,
                "time_limit": str(limit) if routed else "",
                "assignee_id": worker if "accepted" in when else None,
                "created_by": steps[0].actor,
                "contact_name": head.name,
                "contact_phone": head.phone or home.phone,
                "address": home.address,
                "photos": [],
                "answer": answer if status in ("replied", "resolved", "closed", "rectifying") else "",
                "rating": rating,
                "rating_comment": comment,
                "rating_token": secrets.token_urlsafe(16) if status in ("replied", "resolved") else "",
                "accepted_at": when.get("accepted"),
                "resolved_at": when.get("resolved") if status in ("resolved", "closed") else None,
                "closed_at": times[-1] if status == "closed" else None,
            }
        )
        events = [
            base_row(self.new_id(), at)
            | scope
            | {
                "demand_id": demand_id,
                "kind": step.kind,
                "from_status": step.from_status,
                "to_status": step.to_status,
                "actor_id": step.actor,
                "note": step.note,
                "photos": [],
                "at": at,
            }
            for step, at in zip(steps, times, strict=True)
        ]
        visit = None
        if source == "visit":
            visit = self._visit(home, start, notes=f"{head.name}反映：{description}已现场登记微诉求。")
        return demand, events, visit

    def _steps(
        self,
        state: str,
        field: str,
        created: Step,
        worker: uuid.UUID | None,
        grid_name: str,
        answer: str,
        department: tuple[uuid.UUID, str, uuid.UUID | None] | None,
    ) -> tuple[list[Step], str | None, str]:
        """The events that brought a request to `state`, and the resident's rating and comment."""
        rng = self.rng
        office = self.staff.office
        steps = [created]

        def step(kind: str, actor: uuid.UUID | None, to: str, note: str, hours: tuple[float, float]) -> None:
            steps.append(Step(kind, steps[-1].to_status, to, actor, note, rng.uniform(*hours)))

        rating: str | None = None
        comment = ""
        if state in GRID_PATH:
            step("dispatched", office, "dispatched", f"派单至{grid_name}。", (1, 8))
            if state != "dispatched":
                step("accepted", worker, "accepted", "已接单，尽快上门处理。", (0.5, 20))
            if state == "replied":
                step("replied", worker, "replied", answer, (1, 30))
            if state in ("in_progress", "resolved", "closed", "rectifying"):
                step("progress", worker, "in_progress", rng.choice(PROGRESS_NOTES[field]), (1, 24))
            if state in ("resolved", "closed", "rectifying"):
                step("resolved", worker, "resolved", answer, (12, 120))
            if state == "closed" and rng.random() < 0.2:
                step("closed", office, "closed", "电话回访居民，问题已解决，办结归档。", (24, 96))
            elif state in ("closed", "rectifying"):
                rating = (
                    "dissatisfied"
                    if state == "rectifying"
                    else rng.choices(("satisfied", "basically_satisfied"), (78, 22))[0]
                )
                comment = rng.choice(RATING_COMMENTS[rating])
                note = f"居民评价：{RATING_NAMES[rating]}。{comment}"
                step("rated", None, "rectifying" if state == "rectifying" else "closed", note, (6, 72))
        elif department is not None:
            _, name, user = department
            step("transferred", office, "transferred", f"超出社区办理权限，转交{name}办理。", (2, 24))
            if state == "escalated":
                note = "问题涉及多个部门，提请社区与职能部门联席会议协商解决。"
                step("escalated", office, "escalated", note, (48, 120))
            if state == "transfer_resolved":
                step("resolved", user, "resolved", answer, (72, 240))
        return steps, rating, comment

    def _daytime(self, moment: datetime) -> datetime:
        """The moment, or one earlier in the working day (09:00–19:00 local) if it falls at night."""
        local = moment.astimezone(CHINA)
        if not 8 <= local.hour < 19:
            day = local.date() - timedelta(days=1 if local.hour < 8 else 0)
            minute = self.rng.randint(9 * 60, 19 * 60 - 1)
            local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=CHINA)
        return local.astimezone(UTC)
