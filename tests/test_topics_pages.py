"""议事 office pages and residents' pages (issue 21): a meeting decides three topics three ways
through the pages, one creating a department's request; "提交议事" on a request; the community's
public page shows only what is published and no personal data; the public opinion link is
rate-limited, has a honeypot, and counts a phone number once, apart from the door answers."""

from __future__ import annotations

import uuid

from sqlmodel import select
from starlette.testclient import TestClient

from server.commands import demands as demand_commands
from server.commands import topics as commands
from server.db import Database
from server.models import Community, Demand, Meeting, Opinion, Topic
from tests.conftest import Factory, login
from tests.test_public_form import anonymous_csrf


def post(client: TestClient, url: str, csrf: str, **data: object) -> int:
    return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False).status_code


def test_a_meeting_decides_three_topics_three_ways_through_the_pages(
    make: Factory, db: Database, client: TestClient
) -> None:
    grid = make.grid(name="一网格")
    department = make.department(name="县住建局")
    staff = make.user("community_staff", community=make.defaults["community"])
    worker = make.user("grid_worker", grids=[grid])
    home = make.household(grid)
    with db.write() as session:
        demand = demand_commands.create_demand(
            session,
            actor=make.actor(worker),
            data={
                "demand_id": str(uuid.uuid4()),
                "household_id": str(home.id),
                "field": "infrastructure",
                "description": "电动车充电线从窗户拉下来",
                "source": "visit",
                "contact_name": "王阿姨",
                "contact_phone": "13800001111",
            },
        )
    csrf = str(login(client, staff)["csrf_token"])
    assert post(client, "/topics", csrf, demand_id=str(demand.id), title="建电动车充电棚") == 303
    for title in ("楼道灯坏了", "广场舞音量"):
        assert post(client, "/topics", csrf, title=title) == 303
    assert (
        post(client, "/meetings", csrf, kind="tea", starts_at="2026-11-20T15:00", place="社区活动室") == 303
    )
    with db.read() as session:
        topics = {t.title: t for t in session.exec(select(Topic)).all()}
        (meeting,) = session.exec(select(Meeting)).all()
    assert topics["建电动车充电棚"].demand_id == demand.id
    base = f"/meetings/{meeting.id}"
    for topic in topics.values():
        assert post(client, f"{base}/agenda", csrf, topic_id=str(topic.id)) == 303
    present = client.post(
        f"{base}/attend",
        data={
            "csrf_token": csrf,
            "category": ["secretary", "department"],
            "name": ["刘书记", "县住建局"],
            "present": ["0"],
        },
        follow_redirects=False,
    )
    assert present.status_code == 303
    page = client.get(base)
    assert page.status_code == 200 and "HX-Request" in page.headers["vary"]
    assert client.get(base, headers={"HX-Request": "true"}).text.count("data-minute=") == 3
    # A department outcome without a department is refused in Chinese and changes nothing.
    shed = topics["建电动车充电棚"]
    refused = client.post(
        f"{base}/minute",
        data={"csrf_token": csrf, "topic_id": str(shed.id), "result": "department", "note": "住建局建棚"},
    )
    assert refused.status_code == 400 and "职能部门：必须选择。" in refused.text
    swapped = client.post(
        f"{base}/minute",
        data={"csrf_token": csrf, "topic_id": str(shed.id), "result": "department", "note": "住建局建棚"},
        headers={"HX-Request": "true"},
    )
    assert (
        swapped.status_code == 200 and "职能部门：必须选择。" in swapped.text and "<html" not in swapped.text
    )
    outcomes = [
        (
            shed,
            {"result": "department", "note": "住建局在3栋北侧建充电棚", "department_id": str(department.id)},
        ),
        (topics["楼道灯坏了"], {"result": "resolved", "note": "物业当场答应明天换灯"}),
        (topics["广场舞音量"], {"result": "rejected", "note": "已有管理规定"}),
    ]
    for topic, extra in outcomes:
        assert (
            post(client, f"{base}/minute", csrf, topic_id=str(topic.id), minutes="讨论记录", **extra) == 303
        )
    assert post(client, f"{base}/close", csrf) == 303
    minutes = client.get(f"{base}/minutes").text
    assert "主持人（签字）" in minutes and "刘书记" in minutes and "县住建局" in minutes
    assert minutes.count('class="minutes-item"') == 3
    with db.read() as session:
        after = {t.title: t for t in session.exec(select(Topic)).all()}
        request = session.get(Demand, demand.id)
        assert request is not None
    assert [after[t].status for t in ("建电动车充电棚", "楼道灯坏了", "广场舞音量")] == [
        "implementing",
        "closed",
        "declined",
    ]
    assert (request.status, request.department_id) == ("transferred", department.id)
    # A held meeting takes no more minutes.
    assert post(client, f"{base}/minute", csrf, topic_id=str(shed.id), minutes="补充") == 409

    # The public page: decided topics, decision and progress, no personal data.
    with db.read() as session:
        community = session.get(Community, make.defaults["community"].id)
        assert community is not None
    public = TestClient(client.app)
    shown = public.get(f"/p/{community.public_token}/topics").text
    assert "住建局在3栋北侧建充电棚" in shown and "物业当场答应明天换灯" in shown
    assert "广场舞音量" not in shown  # declined: not published
    for personal in ("王阿姨", "13800001111", home.address, staff.display_name, "刘书记"):
        assert personal not in shown


def test_only_the_community_s_staff_see_its_topics(make: Factory, db: Database, client: TestClient) -> None:
    make.grid()
    staff = make.user("community_staff", community=make.defaults["community"])
    with db.write() as session:
        topic = commands.create_topic(session, actor=make.actor(staff), data={"title": "建充电棚"})
    other = make.user("community_staff", community=make.community())
    login(client, other)
    assert client.get(f"/topics/{topic.id}").status_code == 404
    worker = TestClient(client.app)
    login(worker, make.user("grid_worker", grids=[make.grid()]))
    assert worker.get("/topics").status_code == 403


def test_residents_answer_through_the_public_link_once_per_phone_and_apart_from_the_door(
    make: Factory, db: Database, client: TestClient
) -> None:
    make.grid()
    community = make.defaults["community"]
    staff = make.user("community_staff", community=community)
    with db.write() as session:
        topic = commands.create_topic(session, actor=make.actor(staff), data={"title": "建充电棚"})
    url = f"/p/{community.public_token}/topics/{topic.id}"
    csrf = anonymous_csrf(client, url)

    def stored() -> list[Opinion]:
        with db.read() as session:
            return list(session.exec(select(Opinion)).all())

    trap = client.post(url, data={"csrf_token": csrf, "stance": "for", "website": "http://spam"})
    assert trap.status_code == 400 and stored() == []
    bad = client.post(url, data={"csrf_token": csrf, "stance": "for", "phone": "12345"})
    assert bad.status_code == 400 and "电话号码格式不对" in bad.text and stored() == []
    wrong = client.post(url, data={"csrf_token": csrf, "stance": "maybe"})
    assert wrong.status_code == 400 and "意见：不是可选的值。" in wrong.text and stored() == []
    assert post(client, url, csrf, stance="against", phone="13900002222") == 303
    assert post(client, url, csrf, stance="for", phone="139 0000 2222", comment="想通了") == 303
    assert post(client, url, csrf, stance="none") == 303
    opinions = stored()
    assert sorted((o.stance, o.channel, o.household_id) for o in opinions) == [
        ("for", "resident", None),
        ("none", "resident", None),
    ]
    assert all("13900002222" not in (o.phone_hash or "") for o in opinions)
    login(client, staff)
    detail = client.get(f"/topics/{topic.id}").text
    assert "居民本人通过链接表态 2 次" in detail and "入户征求 0 户" in detail
    anonymous = TestClient(client.app)
    csrf = anonymous_csrf(anonymous, url)
    # Ten posts an hour from one address (the six above count too), then 429.
    codes = [post(anonymous, url, csrf, stance="for") for _ in range(6)]
    assert codes == [303] * 4 + [429] * 2


def test_an_escalated_request_is_on_the_joint_meeting_s_page_and_decided_from_its_minutes(
    make: Factory, db: Database, client: TestClient
) -> None:
    grid = make.grid()
    department = make.department(name="县住建局")
    staff = make.user("community_staff", community=make.defaults["community"])
    with db.write() as session:
        demand = Demand(
            community_id=grid.community_id,
            grid_id=grid.id,
            field="dispute",
            description="楼上漏水多次协调不成",
            source="visit",
            status="escalated",
        )
        session.add(demand)
        joint = commands.create_meeting(
            session,
            actor=make.actor(staff),
            data={"kind": "joint", "starts_at": "2026-11-21T15:00", "place": "会议室"},
        )
    csrf = str(login(client, staff)["csrf_token"])
    page = client.get(f"/meetings/{joint.id}")
    assert f'data-escalated-demand="{demand.id}"' in page.text
    url = f"/meetings/{joint.id}/decide"
    assert post(client, url, csrf, demand_id=str(demand.id), decision="") == 400
    assert (
        post(
            client,
            url,
            csrf,
            demand_id=str(demand.id),
            decision="住建局牵头维修",
            department_id=str(department.id),
        )
        == 303
    )
    with db.read() as session:
        after = session.get(Demand, demand.id)
        assert after is not None
    assert (after.status, after.department_id) == ("transferred", department.id)
    assert "住建局牵头维修" in client.get(f"/meetings/{joint.id}/minutes").text
