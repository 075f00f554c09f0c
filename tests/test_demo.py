"""`doorstep demo`: one realistic community with valid personal data, consistent
versions and request histories, and seeding twice changes nothing."""

from __future__ import annotations

import random
import re
import shutil
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select
from starlette.testclient import TestClient

from server.app import create_app
from server.commands.users import create_user
from server.db import Database
from server.demo.people import CHINA, People
from server.demo.seed import COMMUNITY_CODE, LOGINS, DemoResult, seed
from server.demo.words import TAGS
from server.models import (
    SYNC_TYPES,
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
    VersionCounter,
    Visit,
)
from server.people import idnumber
from server.people.phone import MOBILE
from server.people.vault import Vault
from server.settings import Settings
from tests.conftest import PG_URL, SECRET, Factory, truncate_pg

PASSWORD = "demo-pass-2026"


def china_today() -> date:
    """Read when asked, not at import: a suite collected before midnight in China runs past it."""
    return datetime.now(CHINA).date()


@dataclass
class Seeded:
    db: Database
    result: DemoResult
    community_id: Any
    counter: int


@dataclass
class Store:
    db: Database
    seeded: Seeded | None = None


def _counter(db: Database) -> int:
    with db.read() as session:
        row = session.get(VersionCounter, 1)
        return row.value if row else 0


@pytest.fixture(scope="module")
def demo_store(database_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    if PG_URL:
        url = PG_URL
    else:
        target = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
        shutil.copy(database_template, target)
        url = f"sqlite:///{target}"
    database = Database(url)
    yield Store(database)
    database.dispose()


@pytest.fixture
def demo(demo_store: Store) -> Seeded:
    """The demo, seeded once per module — again on PostgreSQL when another test's
    `db` fixture has emptied the one shared database since."""
    db, seeded = demo_store.db, demo_store.seeded
    if seeded is not None:
        with db.read() as session:
            if session.get(Community, seeded.community_id) is not None and _counter(db) == seeded.counter:
                return seeded
    if not db.is_sqlite:
        truncate_pg(db)
    result = seed(db, secret_key=SECRET, password=PASSWORD)
    with db.read() as session:
        community = session.exec(select(Community).where(Community.code == COMMUNITY_CODE)).one()
    demo_store.seeded = Seeded(db, result, community.id, _counter(db))
    return demo_store.seeded


def _all(db: Database, model: Any) -> list[Any]:
    with db.read() as session:
        return list(session.exec(select(model)))


def _counts(session: Session) -> dict[str, int]:
    models = [*SYNC_TYPES.values(), ResidentTag, User, UserGrid]
    counts = {m.__name__: session.exec(select(func.count()).select_from(m)).one() for m in models}
    counts["version"] = session.get(VersionCounter, 1).value  # type: ignore[union-attr]
    return counts


def test_demo_is_one_community_of_four_grids_with_about_1600_households(demo: Seeded) -> None:
    db, result = demo.db, demo.result
    communities = _all(db, Community)
    assert [(c.code, c.name) for c in communities] == [("furong", "乐安县鳌溪镇芙蓉社区")]
    grids = sorted(_all(db, Grid), key=lambda g: g.code)
    assert [g.code for g in grids] == ["g1", "g2", "g3", "g4"]
    assert all(g.name.startswith("芙蓉第") and g.name.endswith("网格") for g in grids)
    assert all(abs(g.lat - 27.43) < 0.02 and abs(g.lng - 115.83) < 0.02 for g in grids)
    centre = {g.id: (g.lat, g.lng) for g in grids}

    households = _all(db, Household)
    residents = _all(db, Resident)
    assert 1500 <= len(households) <= 1700
    assert 3500 <= len(residents) <= 4500
    per_grid = Counter(h.grid_id for h in households)
    assert all(350 <= n <= 450 for n in per_grid.values()) and len(per_grid) == 4
    size = Counter(r.household_id for r in residents)
    for h in households:
        assert h.community_id == communities[0].id
        assert re.fullmatch(r"\d+栋", h.building) and re.fullmatch(r"\d+单元", h.unit)
        assert re.fullmatch(r"\d+0\d室", h.room)
        assert h.address == f"{h.estate} {h.building} {h.unit} {h.room}"
        assert not h.phone or MOBILE.match(h.phone)
        lat, lng = centre[h.grid_id]
        assert abs(h.lat - lat) < 0.01 and abs(h.lng - lng) < 0.01
        assert 1 <= size[h.id] <= 5 if h.status == "active" else size[h.id] == 0
    assert {"芙蓉花园", "鳌溪新村", "尧坑安置点", "城中小区", "前坪家园"} <= {h.estate for h in households}
    kinds = Counter(h.kind for h in households)
    assert set(kinds) == {"registered", "resident", "floating", "rental"}
    assert kinds.most_common(1)[0][0] == "registered"
    statuses = Counter(h.status for h in households)
    assert set(statuses) == {"active", "vacant", "moved_out"}
    assert statuses["active"] >= 0.85 * len(households)

    adults = [r for r in residents if idnumber.age_on(r.birth_date, china_today()) >= 18]
    assert all(MOBILE.match(r.phone) for r in residents if r.phone)
    assert sum(1 for r in adults if r.phone) >= 0.7 * len(adults)
    assert {"head", "spouse", "child", "parent", "grandchild", "tenant"} <= {r.relation for r in residents}
    assert all(2 <= len(r.name) <= 4 for r in residents)

    assert (result.households, result.residents, result.grids) == (len(households), len(residents), 4)
    assert result.created


def test_id_numbers_decrypt_to_valid_numbers_matching_birth_date_and_sex(demo: Seeded) -> None:
    vault = Vault(SECRET)
    residents = _all(demo.db, Resident)
    assert len({r.id_hash for r in residents}) == len(residents)
    for r in random.Random(7).sample(residents, 200):
        number = vault.decrypt(r.id_cipher)
        parsed = idnumber.parse(number)
        assert parsed.number == number and number.startswith("36")
        assert parsed.birth_date == r.birth_date
        assert parsed.sex == r.sex
        assert int(number[16]) % 2 == (1 if r.sex == "male" else 0)
        assert r.id_masked == idnumber.mask(number)
        assert r.id_hash == vault.keyed_hash(number)


def test_ages_are_those_of_a_real_community(demo: Seeded) -> None:
    ages = [idnumber.age_on(r.birth_date, china_today()) for r in _all(demo.db, Resident)]
    assert sum(a >= 65 for a in ages) >= 0.15 * len(ages)
    assert sum(a < 50 for a in ages) >= 0.30 * len(ages)
    assert sum(a < 18 for a in ages) > 0 and max(ages) <= 100


def test_tag_catalogue_is_large_and_tags_fit_the_people_who_carry_them(demo: Seeded) -> None:
    db = demo.db
    tags = _all(db, Tag)
    assert len(tags) >= 30 and demo.result.tags == len(tags)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", t.code) and t.category for t in tags)
    by_name = {t.name: t for t in tags}
    for name in (
        "独居老人",
        "空巢老人",
        "高龄老人",
        "低保户",
        "残疾人",
        "流动党员",
        "外卖小哥",
        "留守儿童",
        "育龄妇女",
    ):
        assert name in by_name
    for name in ("低保户", "特困人员", "困难群众", "重病患者", "精神障碍患者", "社区矫正人员", "慢性病患者"):
        assert by_name[name].sensitive
    assert not by_name["志愿者"].sensitive and not by_name["外卖小哥"].sensitive

    residents = _all(db, Resident)
    links = {(link.resident_id, link.tag_id) for link in _all(db, ResidentTag)}
    code_id = {t.code: t.id for t in tags}
    assert links == {(r.id, code_id[c]) for r in residents for c in r.tags}
    assert all(r.tags == sorted(set(r.tags)) for r in residents)
    size = Counter(r.household_id for r in residents)
    used = Counter(c for r in residents for c in r.tags)
    assert len(used) >= 25
    for r in residents:
        age = idnumber.age_on(r.birth_date, china_today())
        if "elderly_alone" in r.tags:
            assert age >= 65 and size[r.household_id] == 1
        if "very_old" in r.tags:
            assert age >= 80
        if "left_behind_child" in r.tags or "orphan" in r.tags:
            assert age < 16 and r.relation == "grandchild"
        if "childbearing_age" in r.tags or "pregnant" in r.tags:
            assert r.sex == "female" and 15 <= age <= 49
        if {"delivery_rider", "courier", "ride_hailing_driver"} & set(r.tags):
            assert "new_employment" in r.tags and 20 <= age <= 45


def test_the_demo_has_the_default_visit_rules_and_they_make_some_households_due(demo: Seeded) -> None:
    from server.auth import actor_for
    from server.clock import local_today
    from server.models import VisitRule
    from server.queries.visit_tasks import due_for

    rules = _all(demo.db, VisitRule)
    tag_names = {t.code: t.name for t in _all(demo.db, Tag)}
    assert sorted(
        (tag_names.get(r.tag_code, f"age>={r.min_age}"), r.interval_days)
        for r in rules
        if r.community_id == demo.community_id and r.active
    ) == sorted(
        [("独居老人", 7), ("age>=80", 14), ("困难群众", 30), ("低保户", 30), ("残疾人", 30), ("重点关注", 7)]
    )
    with demo.db.read() as session:
        worker = session.exec(select(User).where(User.username == "worker1")).one()
        due = due_for(session, actor_for(session, worker), local_today())
        households = session.exec(
            select(func.count())
            .select_from(Household)
            .where(Household.grid_id.in_(actor_for(session, worker).grid_ids))  # type: ignore[attr-defined]
        ).one()
    assert 0 < len(due) < households


def test_visits_of_the_last_90_days_are_by_the_grids_worker(demo: Seeded) -> None:
    db = demo.db
    visits = _all(db, Visit)
    assert 300 <= len(visits) <= 500 and demo.result.visits == len(visits)
    worker_of = {ug.grid_id: ug.user_id for ug in _all(db, UserGrid)}
    now = datetime.now(UTC)
    for v in visits:
        assert now - timedelta(days=90) <= v.at <= now
        assert v.worker_id == worker_of[v.grid_id]
        assert v.purpose in {"routine", "care", "service", "follow_up"}
        assert v.outcome in {"completed", "nobody_home", "refused"}
        assert v.notes
    assert Counter(v.grid_id for v in visits).keys() == worker_of.keys()


def test_demands_are_in_every_state_with_events_that_tell_their_history(demo: Seeded) -> None:
    db = demo.db
    demands = _all(db, Demand)
    events = defaultdict(list)
    for event in _all(db, DemandEvent):
        events[event.demand_id].append(event)
    grids = {g.id: g for g in _all(db, Grid)}
    departments = {d.id: d for d in _all(db, Department)}
    assert {"zhujian", "minzheng", "chengguan"} <= {d.code for d in departments.values()}
    assert any(d.name == "乐安县住房和城乡建设局" and d.code == "zhujian" for d in departments.values())
    worker_of = {ug.grid_id: ug.user_id for ug in _all(db, UserGrid)}

    statuses = Counter(d.status for d in demands)
    expected = {
        "submitted",
        "dispatched",
        "accepted",
        "in_progress",
        "replied",
        "resolved",
        "closed",
        "transferred",
    }
    assert expected <= set(statuses)
    assert {d.field for d in demands} == {
        "property",
        "elderly_care",
        "infrastructure",
        "environment",
        "dispute",
    }
    assert {d.source for d in demands} == {"visit", "phone", "hotline", "meeting"}
    waiting = Counter(d.grid_id for d in demands if d.status == "dispatched" and d.assignee_id is None)
    assert set(waiting) == set(grids) and min(waiting.values()) >= 5
    assert demo.result.waiting == sum(waiting.values())

    community_id = demo.community_id
    for d in demands:
        assert d.community_id == community_id and d.description and d.address
        history = sorted(events[d.id], key=lambda e: e.at)
        assert history[0].kind == "created" and history[0].from_status is None
        assert history[0].to_status == "submitted"
        for before, after in pairwise(history):
            assert after.from_status == before.to_status and after.at >= before.at
        assert history[-1].to_status == d.status
        for e in history:
            assert (e.community_id, e.grid_id, e.department_id) == (
                d.community_id,
                d.grid_id,
                d.department_id,
            )
        if d.status != "submitted":
            assert d.grid_id in grids
        if d.status in ("transferred", "escalated"):
            assert d.department_id in departments and d.handling_type == "transfer"
        if any(e.kind == "accepted" for e in history):
            assert d.assignee_id == worker_of[d.grid_id] and d.accepted_at is not None
        if d.status == "closed":
            assert d.closed_at is not None and d.answer
    assert {e.kind for es in events.values() for e in es} >= {
        "created",
        "dispatched",
        "accepted",
        "transferred",
    }


def test_every_syncable_row_has_its_own_version_and_the_counter_is_the_highest(demo: Seeded) -> None:
    seen: list[int] = []
    with demo.db.read() as session:
        for model in SYNC_TYPES.values():
            rows = session.exec(select(model.version, model.field_versions)).all()  # type: ignore[call-overload]
            seen += [version for version, _ in rows]
            assert all(fields == {} for _, fields in rows), model.__name__
        counter = session.get(VersionCounter, 1)
    assert min(seen) > 0
    assert len(seen) == len(set(seen))
    assert counter is not None and counter.value == max(seen)


def test_seeding_again_changes_nothing_and_keeps_passwords(demo: Seeded) -> None:
    with demo.db.read() as session:
        before = _counts(session)
    again = seed(demo.db, secret_key=SECRET, password="another-pass-2026")
    with demo.db.read() as session:
        assert _counts(session) == before
    assert not again.created
    assert (again.households, again.residents, again.demands) == (
        demo.result.households,
        demo.result.residents,
        demo.result.demands,
    )
    assert all(not login.created and not login.password_works for login in again.logins)
    summary = again.summary()
    assert "已存在" in summary and "从不修改已有账号的密码" in summary and "another-pass-2026" not in summary


def test_every_demo_login_signs_in_with_the_password_it_was_made_with(demo: Seeded, tmp_path: Path) -> None:
    summary = demo.result.summary()
    assert "http://localhost:8000/login" in summary and PASSWORD in summary
    assert "http://localhost:8765/app/" in demo.result.summary(port=8765)  # scripts/demo.sh --port 8765
    settings = Settings(data_dir=tmp_path, database_url=demo.db.url, secret_key=SECRET, run_jobs=False)
    grids = {g.code: g.id for g in _all(demo.db, Grid)}
    with TestClient(create_app(settings, db=demo.db, jobs=False)) as client:
        for spec in LOGINS:
            assert spec.username in summary
            response = client.post("/sync/login", json={"username": spec.username, "password": PASSWORD})
            assert response.status_code == 200, (spec.username, response.text)
            user = response.json()["user"]
            assert user["role"] == spec.role and user["display_name"] == spec.display_name
            assert user["grid_ids"] == ([str(grids[spec.grid])] if spec.grid else [])
            wrong = client.post(
                "/sync/login", json={"username": spec.username, "password": "another-pass-2026"}
            )
            assert wrong.status_code == 401


def test_a_demo_seeded_before_visit_rules_gets_them_once(db: Database) -> None:
    from sqlalchemy import delete

    from server.models import VisitRule

    seed(db, secret_key=SECRET, password=PASSWORD)
    with db.write() as session:
        session.execute(delete(VisitRule))
        gone_tag = session.exec(select(Tag).where(Tag.code == "key_attention")).one()
        gone_tag.deleted_at = datetime.now(UTC)
    seed(db, secret_key=SECRET, password=PASSWORD)
    rules = _all(db, VisitRule)
    assert len(rules) == 6
    assert {t.code for t in _all(db, Tag) if t.deleted_at is None} >= {
        r.tag_code for r in rules if r.tag_code
    }
    seed(db, secret_key=SECRET, password=PASSWORD)
    assert len(_all(db, VisitRule)) == 6


def test_demo_takes_over_fitting_accounts_and_tags_and_steps_around_others(
    db: Database, make: Factory
) -> None:
    old_tag = make.tag("elderly_alone", name="独居老人", category="老年人")
    with db.write() as session:
        create_user(
            session, username="admin", display_name="县管理员", role="admin", password="admin-own-pass"
        )
    make.user("department", username="worker1")  # taken by somebody who is no grid worker of furong

    first = seed(db, secret_key=SECRET, password=PASSWORD)
    logins = {login.username: login for login in first.logins}
    assert not logins["admin"].created and not logins["admin"].password_works
    assert "worker1" not in logins and logins["worker1_demo"].created
    with db.read() as session:
        alone = next(r for r in session.exec(select(Resident)) if "elderly_alone" in r.tags)
        assert session.get(ResidentTag, (alone.id, old_tag.id)) is not None
        assert (
            session.exec(select(func.count()).select_from(Tag).where(Tag.code == "elderly_alone")).one() == 1
        )
        before = _counts(session)

    second = seed(db, secret_key=SECRET, password=PASSWORD)
    assert [(lg.username, lg.password_works) for lg in second.logins] == [
        (lg.username, lg.password_works) for lg in first.logins
    ]
    with db.read() as session:
        assert _counts(session) == before
    assert "县管理员" in second.summary() and "worker1_demo" in second.summary()


def test_the_same_seed_builds_the_same_people_and_another_seed_others() -> None:
    def build(rng_seed: int) -> list[tuple[str, str, str, list[tuple[str, str, str]]]]:
        people = People(rng_seed=rng_seed, vault=Vault(SECRET), community_id=uuid.uuid4(), grid_ids={})
        homes = people.build({t.code for t in TAGS})
        return [
            (h.address, h.kind, h.phone, [(p.name, p.number, ",".join(sorted(p.tags))) for p in h.people])
            for h in homes
        ]

    first = build(2026)
    assert build(2026) == first
    assert build(7) != first


def test_travel_cards_are_at_every_step_for_people_old_enough(demo: Seeded) -> None:
    from server.models import Blob, Resident, TravelCard, TravelCardEvent
    from server.people.idnumber import age_on

    db = demo.db
    cards = _all(db, TravelCard)
    residents = {r.id: r for r in _all(db, Resident)}
    history: dict[Any, list[Any]] = defaultdict(list)
    for event in _all(db, TravelCardEvent):
        history[event.application_id].append(event)
    assert {c.status for c in cards} >= {"submitted", "needs_supplement", "ready", "issued"}
    assert len({c.applicant_hash for c in cards}) == len(cards)  # one application per person
    with db.read() as session:
        for card in cards:
            person = residents[card.resident_id]
            assert age_on(person.birth_date, card.applied_on) >= 65
            assert (card.grid_id, card.household_id) == (person.grid_id, person.household_id)
            steps = sorted(history[card.id], key=lambda e: e.version)
            assert steps[-1].to_status == card.status
            if card.photo:
                assert session.get(Blob, card.photo) is not None
            if card.status == "issued":
                assert card.review_due is not None


def test_every_demo_row_pulls_as_its_objects_say(demo: Seeded) -> None:
    """The pull reads SQLite's UUIDs and datetimes as stored and reshapes the text
    (`sync.records.columns`); each change must equal the one printed from the objects."""
    import json

    import orjson
    from sqlalchemy import select as core_select

    from sync import records

    def plain(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, datetime):
            return value.isoformat(timespec="seconds")
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value

    compared: Counter[str] = Counter()
    with demo.db.read() as session:
        dialect = session.get_bind().dialect.name
        for name, model in SYNC_TYPES.items():
            table = records.table_of(model)
            objects = {row["id"]: row for row in session.execute(core_select(table)).mappings()}
            stored = session.execute(core_select(*records.columns(table, dialect))).mappings()
            for row in stored:
                change = orjson.loads(records.encode(records.put(name, row)))
                source = objects[uuid.UUID(change["id"])]
                expected = {
                    "type": name,
                    "id": str(source["id"]),
                    "op": "put",
                    "version": source["version"],
                    "data": {c: plain(source[c]) for c in records.DATA_COLUMNS[name]},
                }
                assert change == json.loads(json.dumps(expected)), name
                compared[name] += 1
    assert {"community", "grid", "tag", "household", "resident", "visit", "demand", "demand_event"} <= set(
        compared
    )
    assert {"travel_card", "travel_card_event", "department"} <= set(compared)


def test_demo_histories_take_only_steps_the_workflow_tables_allow(demo: Seeded) -> None:
    from server.models import TravelCardEvent
    from server.workflows import demands as demand_flow
    from server.workflows import travel_cards as card_flow

    decided = {"decide": {"dispatched", "transferred", "replied"}, "rate": {"closed", "rectifying"}}
    step_of = {kind: step for step, kind in demand_flow.EVENT_KINDS.items()}
    kinds: Counter[str] = Counter()
    for e in _all(demo.db, DemandEvent):
        kinds[e.kind] += 1
        if e.kind == "created":
            assert (e.from_status, e.to_status) == (None, "submitted")
            continue
        sources, target = demand_flow.TRANSITIONS[step_of[e.kind]]
        assert e.from_status in sources, (e.kind, e.from_status)
        assert e.to_status in ({target} if target else decided[step_of[e.kind]]), (e.kind, e.to_status)
    assert len(kinds) >= 5

    card_kinds: Counter[str] = Counter()
    for e in _all(demo.db, TravelCardEvent):
        card_kinds[e.kind] += 1
        if e.kind == "created":
            assert e.from_status is None and e.to_status in ("draft", "submitted"), e.to_status
            continue
        step = "update" if e.kind == "updated" else e.kind
        sources, target = card_flow.TRANSITIONS[step]
        assert e.from_status in sources, (e.kind, e.from_status)
        assert e.to_status == (target or e.from_status), (e.kind, e.to_status)
    assert len(card_kinds) >= 4


def test_the_demo_guide_has_30_items_across_categories_and_assisted_applications_at_every_step(
    demo: Seeded,
) -> None:
    from server.models import AssistedApplication, AssistedStatus, ServiceItem, ServiceItemRevision

    with demo.db.read() as session:
        items = list(session.exec(select(ServiceItem)))
        assert len(items) == 30
        assert len({i.category for i in items}) >= 8
        assert all(i.materials and i.revision == 1 for i in items)
        assert session.exec(select(func.count()).select_from(ServiceItemRevision)).one() == 30
        applications = list(session.exec(select(AssistedApplication)))
        assert {a.status for a in applications} == set(AssistedStatus)
        for a in applications:
            assert a.history[0]["kind"] == "create" and a.history[-1]["to"] == a.status
            assert a.consent["consent_version"] and a.deadline is not None and a.photos
    assert "办事指南 30 项" in demo.result.summary()


def test_the_demo_deliberates_two_past_tea_meetings_one_topic_in_hand_one_open_at_every_grid(
    demo: Seeded,
) -> None:
    from server.models import Meeting, Opinion, Topic

    with demo.db.read() as session:
        meetings = session.exec(select(Meeting).where(Meeting.community_id == demo.community_id)).all()
        topics = {
            t.title: t for t in session.exec(select(Topic).where(Topic.community_id == demo.community_id))
        }
        opinions = session.exec(select(Opinion)).all()
        grids = session.exec(select(Grid.id).where(Grid.community_id == demo.community_id)).all()
    assert sorted((m.kind, m.status) for m in meetings) == [("tea", "held"), ("tea", "held")]
    assert all(item["minutes"] and item["result"] for m in meetings for item in m.agenda)
    assert [t.status for t in topics.values()].count("implementing") == 1
    (open_topic,) = [t for t in topics.values() if t.status == "collecting"]
    answered = {o.grid_id for o in opinions if o.topic_id == open_topic.id and o.channel == "door"}
    assert answered == set(grids)
