"""`doorstep demo`: one realistic community, 乐安县鳌溪镇芙蓉社区, the same for the same seed.

The few reference rows (community, grids, departments, tags) and the users go
through the ORM and the domain command `create_user`. The thousands of
households, residents, visits and requests go in as Core bulk inserts in the
same transaction, so they take their versions from `versions.allocate()`
themselves (SYNC.md rule 9). A database that already holds the community is
left as it is; seeding it again only makes sure the demo users exist.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from server.auth import actor_for, verify_password
from server.commands.users import create_user
from server.db import Database
from server.demo import cards as demo_cards
from server.demo import deliberation
from server.demo import guide as demo_guide
from server.demo.people import People
from server.demo.words import DEPARTMENTS, GRIDS, TAGS, VISIT_RULES
from server.demo.work import Staff, Work
from server.models import (
    AssistedApplication,
    Blob,
    BlobRef,
    Community,
    Demand,
    DemandEvent,
    Department,
    Grid,
    Household,
    Resident,
    ResidentTag,
    Role,
    ServiceItem,
    Tag,
    TravelCard,
    TravelCardEvent,
    User,
    UserGrid,
    Visit,
    VisitRule,
    VisitRuleSubject,
)
from server.people.vault import Vault
from server.push import triggers
from server.versions import allocate

COMMUNITY_CODE = "furong"
COMMUNITY_NAME = "乐安县鳌溪镇芙蓉社区"
COMMUNITY_ADDRESS = "江西省抚州市乐安县鳌溪镇芙蓉社区党群服务中心"
DEFAULT_PORT = 8000

ROLE_NAMES: dict[str, str] = {
    Role.admin: "管理员",
    Role.community_staff: "社区工作人员",
    Role.grid_worker: "网格员",
    Role.department: "职能部门",
}


@dataclass(frozen=True)
class LoginSpec:
    username: str
    display_name: str
    role: str
    grid: str | None = None
    department: str | None = None
    phone: str = ""


LOGINS = (
    LoginSpec("admin", "系统管理员", Role.admin),
    LoginSpec("staff1", "王雪梅", Role.community_staff, phone="13979460101"),
    LoginSpec("worker1", "陈志强", Role.grid_worker, grid="g1", phone="13979460111"),
    LoginSpec("worker2", "刘芳", Role.grid_worker, grid="g2", phone="13979460112"),
    LoginSpec("worker3", "黄建华", Role.grid_worker, grid="g3", phone="13979460113"),
    LoginSpec("worker4", "邹丽娟", Role.grid_worker, grid="g4", phone="13979460114"),
    LoginSpec("dept1", "吴国平", Role.department, department="zhujian", phone="13979460121"),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    where: str  # the grid, community or department the login works in
    created: bool
    password_works: bool
    problem: str = ""  # why no login could be made for this demo user


@dataclass(frozen=True)
class DemoResult:
    created: bool
    password: str
    grids: int
    households: int
    residents: int
    tags: int
    departments: int
    visits: int
    demands: int
    demand_events: int
    waiting: int  # dispatched to a grid, not yet accepted
    travel_cards: int
    service_items: int
    assisted: int
    logins: tuple[DemoLogin, ...]
    seconds: float

    def summary(self, port: int = DEFAULT_PORT) -> str:
        if self.created:
            head = f"已创建演示社区：{COMMUNITY_NAME}（编码 {COMMUNITY_CODE}），用时 {self.seconds:.1f} 秒。"
        else:
            head = f"演示社区 {COMMUNITY_NAME}（编码 {COMMUNITY_CODE}）已存在：没有重复创建，已有数据未改动。"
        lines = [
            head,
            f"  {self.grids} 个网格 · {self.households:,} 户 · {self.residents:,} 名居民 · "
            f"{self.tags} 种标签 · {self.departments} 个职能部门",
            f"  {self.visits:,} 次走访 · {self.demands:,} 条微诉求（{self.waiting} 条已派单待接单）· "
            f"{self.demand_events:,} 条办理记录 · {self.travel_cards} 份老年出行卡申请",
            f"  办事指南 {self.service_items} 项 · {self.assisted} 件帮代办",
            "",
            f"启动服务（doorstep serve）后：网格员用手机打开 http://localhost:{port}/app/（可安装、可离线），",
            f"社区、部门和管理员在浏览器打开 http://localhost:{port}/login 登录。演示账号：",
        ]
        kept = False
        for login in self.logins:
            if login.problem:
                lines.append(f"  {login.username}：未能创建（{login.problem}）")
                continue
            who = f"  {login.username}（{login.display_name}，{ROLE_NAMES.get(login.role, login.role)}"
            who += f" · {login.where}）" if login.where else "）"
            if login.password_works:
                note = "" if login.created else "（已存在，密码未改动）"
                lines.append(f"{who} 密码：{self.password}{note}")
            else:
                kept = True
                lines.append(f"{who} 已存在，仍用原来的密码登录")
        if kept:
            lines.append("演示程序从不修改已有账号的密码，本次给出的密码对它们无效。")
        return "\n".join(lines)


def seed(db: Database, *, secret_key: str, password: str, rng_seed: int = 2026) -> DemoResult:
    """Create the demo community unless it exists; make sure the demo users exist."""
    started = time.perf_counter()
    with db.write() as session:
        triggers.mute(session)  # demo history is old news: nobody is notified of it
        community = session.exec(select(Community).where(Community.code == COMMUNITY_CODE)).first()
        created = community is None
        departments = _ensure_departments(session)
        if community is None:
            community = _create_reference(session)
        logins, users = _ensure_logins(session, community, departments, password)
        if (
            not created
            and session.exec(select(VisitRule.id).where(VisitRule.community_id == community.id)).first()
            is None
        ):
            _create_visit_rules(session, community)  # a demo seeded before there were visit rules
        demo_guide.create_guide(session)  # also for a demo seeded before there was a guide
        if created:
            _create_population(session, community, users, departments, Vault(secret_key), rng_seed)
        counts = _counts(session, community.id)
    return DemoResult(
        created=created,
        password=password,
        logins=tuple(logins),
        seconds=time.perf_counter() - started,
        **counts,
    )


def _ensure_departments(session: Session) -> dict[str, Department]:
    existing = {d.code: d for d in session.exec(select(Department))}
    for code, name in DEPARTMENTS:
        if code not in existing:
            existing[code] = Department(name=name, code=code)
            session.add(existing[code])
    session.flush()
    return existing


def _create_reference(session: Session) -> Community:
    community = Community(name=COMMUNITY_NAME, code=COMMUNITY_CODE, address=COMMUNITY_ADDRESS)
    session.add(community)
    session.add_all(
        Grid(community_id=community.id, code=g.code, name=g.name, lat=g.lat, lng=g.lng) for g in GRIDS
    )
    known = set(session.exec(select(Tag.code)))
    session.add_all(
        Tag(code=t.code, name=t.name, category=t.category, sensitive=t.sensitive, sort=(i + 1) * 10)
        for i, t in enumerate(TAGS)
        if t.code not in known
    )
    session.flush()
    _create_visit_rules(session, community)
    return community


def _create_visit_rules(session: Session, community: Community) -> None:
    """The demo's rules; a tag a rule names is created when missing (brought back when deleted)."""
    specs = {t.code: t for t in TAGS}
    for rule in VISIT_RULES:
        if not rule.tag_code:
            continue
        tag = session.exec(select(Tag).where(Tag.code == rule.tag_code)).first()
        spec = specs[rule.tag_code]
        if tag is None:
            session.add(Tag(code=spec.code, name=spec.name, category=spec.category, sensitive=spec.sensitive))
        elif tag.deleted_at is not None:
            tag.deleted_at, tag.active = None, True
    session.add_all(
        VisitRule(
            community_id=community.id,
            name=r.name,
            subject=VisitRuleSubject.tag if r.tag_code else VisitRuleSubject.age,
            tag_code=r.tag_code,
            min_age=r.min_age,
            interval_days=r.interval_days,
            priority=r.priority,
        )
        for r in VISIT_RULES
    )
    session.flush()


def _fits(session: Session, user: User, spec: LoginSpec, community: Community, grid: Grid | None) -> bool:
    """An existing account can stand in for a demo login only with the same role and scope."""
    if user.role != spec.role or not user.active:
        return False
    if spec.role == Role.community_staff:
        return user.community_id == community.id
    if spec.role == Role.grid_worker:
        if grid is None or user.community_id != community.id:
            return False
        return session.get(UserGrid, (user.id, grid.id)) is not None
    if spec.role == Role.department:
        department = session.get(Department, user.department_id) if user.department_id else None
        return department is not None and department.code == spec.department
    return True


def _ensure_logins(
    session: Session, community: Community, departments: dict[str, Department], password: str
) -> tuple[list[DemoLogin], dict[str, User]]:
    """Each demo login: an existing account that fits it, else a new one.

    A username taken by an account that does not fit (another role, another
    community) is left alone and the demo account gets a `_demo` suffix.
    """
    grids = {
        g.code: g
        for g in session.exec(select(Grid).where(Grid.community_id == community.id, Grid.deleted_at == None))  # noqa: E711
    }
    logins: list[DemoLogin] = []
    users: dict[str, User] = {}
    for spec in LOGINS:
        grid = grids.get(spec.grid) if spec.grid else None
        where = {
            Role.admin: "全部",
            Role.community_staff: community.name,
            Role.grid_worker: grid.name if grid else "",
            Role.department: departments[spec.department].name if spec.department else "",
        }[Role(spec.role)]
        if spec.grid and grid is None:
            logins.append(
                DemoLogin(spec.username, spec.display_name, spec.role, "", False, False, "网格已删除")
            )
            continue
        for username in (spec.username, f"{spec.username}_demo", f"{spec.username}_demo2"):
            user = session.exec(select(User).where(User.username == username)).first()
            if user is None:
                user = create_user(
                    session,
                    username=username,
                    display_name=spec.display_name,
                    role=spec.role,
                    password=password,
                    community_code=community.code
                    if spec.role in (Role.grid_worker, Role.community_staff)
                    else None,
                    grid_codes=[spec.grid] if spec.grid else [],
                    department_code=spec.department,
                    phone=spec.phone,
                )
                logins.append(DemoLogin(username, user.display_name, spec.role, where, True, True))
            elif _fits(session, user, spec, community, grid):
                works = verify_password(user.password_hash, password)
                logins.append(DemoLogin(username, user.display_name, spec.role, where, False, works))
            else:
                continue
            users[spec.username] = user
            break
        else:
            logins.append(
                DemoLogin(spec.username, spec.display_name, spec.role, where, False, False, "用户名已占用")
            )
    return logins, users


def _create_population(
    session: Session,
    community: Community,
    users: dict[str, User],
    departments: dict[str, Department],
    vault: Vault,
    rng_seed: int,
) -> None:
    grids = {g.code: g for g in session.exec(select(Grid).where(Grid.community_id == community.id))}
    tag_ids = {t.code: t.id for t in session.exec(select(Tag).where(Tag.deleted_at == None))}  # noqa: E711
    people = People(
        rng_seed=rng_seed,
        vault=vault,
        community_id=community.id,
        grid_ids={c: g.id for c, g in grids.items()},
    )
    homes = people.build(set(tag_ids))

    def user_id(username: str) -> uuid.UUID | None:
        user = users.get(username)
        return user.id if user else None

    staff = Staff(
        office=user_id("staff1"),
        workers={spec.grid: user_id(spec.username) for spec in LOGINS if spec.grid},
        departments={
            code: (d.id, d.name, next((user_id(s.username) for s in LOGINS if s.department == code), None))
            for code, d in departments.items()
        },
    )
    work = Work(
        rng=people.rng,
        new_id=people.new_id,
        now=people.now,
        community_id=community.id,
        grids={code: (g.id, g.name) for code, g in grids.items()},
        homes=homes,
        staff=staff,
    )
    visits = work.visits()
    demands, events, demand_visits = work.demands()
    households, residents = people.rows(homes)
    photo_sha, photo_data = demo_cards.photo()
    cards, card_events = demo_cards.applications(
        rng=people.rng,
        new_id=people.new_id,
        now=people.now,
        today=people.today,
        residents=residents,
        workers={g.id: staff.workers.get(code) for code, g in grids.items()},
        office=staff.office,
        photo_sha=photo_sha,
    )
    if session.get(Blob, photo_sha) is None:
        session.add(Blob(sha256=photo_sha, content_type="image/png", size=len(photo_data), data=photo_data))
        session.flush()
    tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (Household, households),
        (Resident, residents),
        (Visit, sorted(visits + demand_visits, key=lambda v: v["at"])),
        (Demand, demands),
        (DemandEvent, events),
        (TravelCard, cards),
        (TravelCardEvent, card_events),
    ]
    # Bulk inserts bypass the flush hook, so they take their versions here (SYNC.md rule 9).
    versions = iter(allocate(session, sum(len(rows) for _, rows in tables)))
    for model, rows in tables:
        for row in rows:
            row["version"] = next(versions)
        session.execute(insert(model.__table__), rows)
    refs = [
        {"sha256": photo_sha, "record_type": "travel_card", "record_id": c["id"]} for c in cards if c["photo"]
    ]
    if refs:
        session.execute(insert(BlobRef), refs)
    actors = {
        code: actor_for(session, users[s.username])
        for s in LOGINS
        if (code := s.grid) and s.username in users
    }
    office = users.get("staff1")
    if office is not None:
        demo_guide.create_assisted(
            session,
            rng=people.rng,
            now=people.now,
            workers={grids[code].id: actor for code, actor in actors.items()},
            office=actor_for(session, office),
            photo_sha=photo_sha,
        )
    links = [{"resident_id": r["id"], "tag_id": tag_ids[code]} for r in residents for code in r["tags"]]
    if links:
        session.execute(insert(ResidentTag), links)
    deliberation.create(session, community, users, departments, people.rng)


def _counts(session: Session, community_id: uuid.UUID) -> dict[str, int]:
    def count(model: Any, *where: Any) -> int:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())

    live_demand = (Demand.community_id == community_id, Demand.deleted_at == None)  # noqa: E711
    return {
        "grids": count(Grid, Grid.community_id == community_id, Grid.deleted_at == None),  # noqa: E711
        "households": count(Household, Household.community_id == community_id, Household.deleted_at == None),  # noqa: E711
        "residents": count(Resident, Resident.community_id == community_id, Resident.deleted_at == None),  # noqa: E711
        "tags": count(Tag, Tag.deleted_at == None),  # noqa: E711
        "departments": count(Department, Department.deleted_at == None),  # noqa: E711
        "visits": count(Visit, Visit.community_id == community_id, Visit.deleted_at == None),  # noqa: E711
        "demands": count(Demand, *live_demand),
        "demand_events": count(DemandEvent, DemandEvent.community_id == community_id),
        "travel_cards": count(TravelCard, TravelCard.community_id == community_id),
        "service_items": count(ServiceItem, ServiceItem.deleted_at == None),  # noqa: E711
        "assisted": count(AssistedApplication, AssistedApplication.community_id == community_id),
        "waiting": count(
            Demand, *live_demand, Demand.status == "dispatched", col(Demand.assignee_id).is_(None)
        ),
    }
