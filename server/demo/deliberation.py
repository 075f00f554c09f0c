"""The demo community's deliberation (议事): two past 书记下午茶 with minutes, a topic being
carried out by a department, and one open for opinions with door answers in every grid —
all written through the same commands the office pages and phones use."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from server.access import Actor
from server.auth import actor_for
from server.commands import topics as commands
from server.models import (
    Community,
    Demand,
    DemandEvent,
    Department,
    Grid,
    Household,
    Meeting,
    Opinion,
    Topic,
    User,
    utcnow,
)

STANCES = ("for", "for", "for", "conditional", "conditional", "against", "none")
COMMENTS = {
    "conditional": ("要装灭火器和监控", "收费要便宜", "离窗户远一点", "晚上要有人管"),
    "against": ("占了停车位", "怕起火"),
}
OPEN_TOPIC = "在社区活动中心办老年食堂"
PARTICIPANTS = [
    {"category": "secretary", "name": "刘书记", "present": True},
    {"category": "cadre", "name": "王雪梅", "present": True},
    {"category": "party_member", "name": "退休党员 张德明", "present": True},
    {"category": "elder", "name": "老干部 李振华", "present": True},
    {"category": "resident_rep", "name": "芙蓉花园 居民代表", "present": True},
    {"category": "property", "name": "芙蓉物业公司", "present": True},
    {"category": "npc_deputy", "name": "县人大代表 周敏", "present": False},
]


def create(
    session: Session,
    community: Community,
    users: dict[str, User],
    departments: dict[str, Department],
    rng: random.Random,
) -> None:
    staff_user = users.get("staff1")
    if staff_user is None:
        return
    staff = actor_for(session, staff_user)
    now = utcnow()
    first_grid = session.exec(
        select(Grid).where(Grid.community_id == community.id).order_by(col(Grid.code))
    ).first()
    shed = _topic(
        session,
        staff,
        "芙蓉花园5栋、6栋之间建电动车充电棚",
        "电动车充电线从窗户拉下来，很危险。",
        now - timedelta(days=50),
        first_grid,
    )
    lights = _topic(
        session, staff, "芙蓉花园东门路灯不亮", "晚上进出看不清，老人怕摔。", now - timedelta(days=48)
    )
    clutter = _topic(
        session, staff, "楼道堆放杂物清理", "好几栋楼道堆满纸箱，消防通道不通。", now - timedelta(days=20)
    )
    square = _topic(session, staff, "广场舞音乐太响", "晚上九点后还在放音乐。", now - timedelta(days=18))
    department = departments.get("zhujian")
    first = _meeting(session, staff, community, "第一次书记下午茶", now - timedelta(days=35), [shed, lights])
    minutes = [
        (
            shed,
            "居民普遍赞成建棚，有条件赞成的希望装灭火器和监控。住建局表示可以纳入老旧小区改造。",
            "department",
            "住建局在5栋、6栋之间空地建充电棚，配灭火器和监控，物业负责日常管理。",
        ),
        (lights, "物业当场核实是线路老化。", "resolved", "物业三天内更换东门两盏路灯。"),
    ]
    _minute(session, staff, first, minutes, department, now - timedelta(days=35))
    commands.progress(
        session,
        actor=staff,
        data={"topic_id": str(shed), "note": "住建局已完成选址和设计，材料已进场。"},
        at=now - timedelta(days=12),
    )
    second = _meeting(
        session, staff, community, "第二次书记下午茶", now - timedelta(days=7), [clutter, square]
    )
    minutes = [
        (
            clutter,
            "意见分歧：有人担心东西被扔掉。先请网格员逐户通知。",
            "continue",
            "下次会议继续协商，先逐户通知。",
        ),
        (square, "已有广场活动管理规定，按规定九点前结束。", "rejected", "按现有规定执行，由物业提醒。"),
    ]
    _minute(session, staff, second, minutes, department, now - timedelta(days=7))
    canteen = _topic(
        session, staff, OPEN_TOPIC, "活动中心一楼办老年食堂，午餐每份十元左右。", now - timedelta(days=5)
    )
    _canvass(session, community, users, staff, canteen, rng, now)
    # Demo history is made, not edited: like the rest of the demo, its rows carry no record of
    # field changes (that record only tells a phone's later edit from a conflict).
    session.flush()
    models: tuple[Any, ...] = (Topic, Meeting, Opinion, Demand, DemandEvent)
    for model in models:
        table = model.__table__
        session.execute(update(table).where(table.c.community_id == community.id).values(field_versions={}))


def _topic(
    session: Session, staff: Actor, title: str, description: str, at: datetime, grid: Grid | None = None
) -> uuid.UUID:
    data = {"title": title, "description": description} | ({"grid_id": str(grid.id)} if grid else {})
    topic = commands.create_topic(session, actor=staff, data=data, at=at)
    return topic.id


def _meeting(
    session: Session, staff: Actor, community: Community, title: str, at: datetime, topics: list[uuid.UUID]
) -> uuid.UUID:
    meeting = commands.create_meeting(
        session,
        actor=staff,
        data={
            "kind": "tea",
            "title": title,
            "starts_at": at.isoformat(),
            "place": "芙蓉社区党群服务中心二楼",
            "participants": PARTICIPANTS,
        },
    )
    for topic in topics:
        commands.set_agenda(
            session, actor=staff, data={"meeting_id": str(meeting.id), "topic_id": str(topic)}, at=at
        )
    return meeting.id


def _minute(
    session: Session,
    staff: Actor,
    meeting: uuid.UUID,
    minutes: list[tuple[uuid.UUID, str, str, str]],
    department: Department | None,
    at: datetime,
) -> None:
    for topic, text, result, note in minutes:
        data = {
            "meeting_id": str(meeting),
            "topic_id": str(topic),
            "minutes": text,
            "result": result,
            "note": note,
        }
        if result == "department":
            if department is None:
                continue
            data |= {
                "department_id": str(department.id),
                "field": "infrastructure",
                "address": "芙蓉花园5栋、6栋之间空地",
            }
        commands.minute(session, actor=staff, data=data, at=at)
    commands.close_meeting(session, actor=staff, data={"meeting_id": str(meeting)}, at=at)


def _canvass(
    session: Session,
    community: Community,
    users: dict[str, User],
    staff: Actor,
    topic: uuid.UUID,
    rng: random.Random,
    now: datetime,
) -> None:
    """Door answers in every grid, by the grid's worker where it has one."""
    workers: dict[uuid.UUID, Actor] = {}
    for user in users.values():
        actor = actor_for(session, user)
        for grid_id in actor.grid_ids if actor.is_worker else ():
            workers[grid_id] = actor
    grids = session.exec(select(Grid).where(Grid.community_id == community.id).order_by(col(Grid.code))).all()
    for grid in grids:
        homes = session.exec(
            select(Household.id)
            .where(Household.grid_id == grid.id)
            .order_by(col(Household.address))
            .limit(40)
        ).all()
        for home in rng.sample(list(homes), min(12, len(homes))):
            stance = rng.choice(STANCES)
            comment = rng.choice(COMMENTS[stance]) if stance in COMMENTS else ""
            commands.record_opinion(
                session,
                actor=workers.get(grid.id, staff),
                data={
                    "topic_id": str(topic),
                    "household_id": str(home),
                    "stance": stance,
                    "comment": comment,
                },
                at=now - timedelta(days=rng.randint(0, 4), hours=rng.randint(0, 6)),
            )
