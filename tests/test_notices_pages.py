"""The inbox on office pages, receipts on a request's and an application's page, and the
dashboard's flag for notices nobody's device has pulled (issue 19)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from starlette.testclient import TestClient

from server.commands import demands as dm
from server.commands import travel_cards as tc
from server.db import Database
from server.models import CardStatus, Notice, utcnow
from server.queries.notices import undelivered
from tests.conftest import Factory, login
from tests.test_push_triggers import World, put_card, put_demand
from tests.test_push_triggers import world as world


def receipt_rows(html: str) -> list[str]:
    return [row.split(">", 1)[0] for row in html.split("<li data-person=")[1:]]


def test_an_office_user_reads_their_inbox_and_opens_a_notice(
    world: World, make: Factory, client: TestClient, db: Database
) -> None:
    with db.write() as s:
        demand = dm.submit_public(
            s,
            community=world.community,
            data={"field": "environment", "description": "小区门口垃圾三天没人清运"},
        )
    token = login(client, world.users["staff"])["csrf_token"]
    count = client.get("/notices/count", headers={"HX-Request": "true"})
    assert count.status_code == 200 and "HX-Request" in count.headers["vary"]
    assert '<span class="count" data-unread="1">1</span>' in count.text and "<html" not in count.text

    page = client.get("/notices")
    assert page.status_code == 200 and "居民提交了新诉求" in page.text and 'data-unread="1"' in page.text
    assert 'hx-trigger="every 60s"' in page.text
    fragment = client.get("/notices", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section id="inbox"')
    (mine,) = [n for n in _notices(db) if n.user_id == world.users["staff"].id]
    assert mine.delivered_at is not None and mine.read_at is None  # shown on a page is delivered

    assert client.post(f"/notices/{mine.id}/read", data={}).status_code == 403  # CSRF
    opened = client.post(f"/notices/{mine.id}/read", data={"csrf_token": token}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/demands/{demand.id}"
    (read,) = [n for n in _notices(db) if n.id == mine.id]
    assert read.read_at is not None
    assert 'data-unread="0"' in client.get("/notices").text
    assert "count" not in client.get("/notices/count", headers={"HX-Request": "true"}).text.split(">", 1)[1]


def test_another_persons_notice_is_not_found_and_stays_unread(
    world: World, make: Factory, client: TestClient, db: Database
) -> None:
    with db.write() as s:
        dm.submit_public(s, community=world.community, data={"field": "environment", "description": "垃圾"})
    theirs = next(n for n in _notices(db) if n.user_id == world.users["other_staff"].id)
    token = login(client, world.users["staff"])["csrf_token"]
    assert client.post(f"/notices/{theirs.id}/read", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/notices/{uuid.uuid4()}/read", data={"csrf_token": token}).status_code == 404
    assert all(n.read_at is None for n in _notices(db))
    assert str(theirs.id) not in client.get("/notices").text  # each sees their own inbox only


def _notices(db: Database) -> list[Notice]:
    with db.read() as s:
        return list(s.exec(select(Notice).order_by(col(Notice.created_at))))


def test_a_requests_page_shows_who_was_told_delivered_and_read(
    world: World, make: Factory, client: TestClient, sync_phone: Any, db: Database
) -> None:
    demand = put_demand(db, world, "submitted")
    with db.write() as s:
        dm.dispatch_demand(
            s,
            actor=world.actor(make, "staff"),
            data={"demand_id": str(demand.id), "grid_id": str(world.grid.id), "handling_type": "self"},
        )
    login(client, world.users["staff"])
    names = {who: world.users[who].display_name for who in ("worker", "partner")}
    page = client.get(f"/demands/{demand.id}")
    assert "消息回执" in page.text and "站内消息" in page.text and "推送：" in page.text
    assert sorted(receipt_rows(page.text)) == sorted(
        f'"{names[w]}" data-delivered="no" data-read="no"' for w in ("worker", "partner")
    )
    phone = sync_phone(world.users["worker"])
    phone.pull()
    (notice_id,) = phone.records("notice")
    rows = receipt_rows(client.get(f"/demands/{demand.id}").text)
    assert f'"{names["worker"]}" data-delivered="yes" data-read="no"' in rows
    phone.queue("notice.read", {"notice_id": notice_id})
    phone.push()
    rows = receipt_rows(client.get(f"/demands/{demand.id}").text)
    assert f'"{names["worker"]}" data-delivered="yes" data-read="yes"' in rows
    assert f'"{names["partner"]}" data-delivered="no" data-read="no"' in rows

    worker = TestClient(client.app)
    login(worker, world.users["worker"])
    assert "消息回执" not in worker.get(f"/demands/{demand.id}").text  # receipts are the office's


def test_an_applications_page_shows_its_receipts(
    world: World, make: Factory, client: TestClient, db: Database
) -> None:
    card = put_card(db, world, CardStatus.submitted)
    with db.write() as s:
        tc.review_application(
            s, actor=world.actor(make, "staff"), data={"application_id": str(card.id), "decision": "approve"}
        )
    login(client, world.users["other_staff"])
    page = client.get(f"/travel-cards/{card.id}")
    assert page.status_code == 200 and "出行卡申请已通过" in page.text
    assert receipt_rows(page.text) == [
        f'"{world.users["worker"].display_name}" data-delivered="no" data-read="no"'
    ]


def _notice_at(db: Database, world: World, at: datetime, **kw: Any) -> Notice:
    notice = Notice(
        user_id=world.users["worker"].id,
        kind="demand_dispatched",
        title="新诉求派到您的网格",
        body="…",
        link="/app/#/",
        **kw,
    )
    notice.created_at = at
    with db.write() as s:
        s.add(notice)
    return notice


SHANGHAI = timedelta(hours=8)


def test_undelivered_counts_working_time(world: World, db: Database) -> None:
    wednesday = datetime(2025, 6, 11, 9, 0, tzinfo=UTC) - SHANGHAI  # 09:00 in Shanghai
    _notice_at(db, world, wednesday)
    friday_night = datetime(2025, 6, 13, 23, 0, tzinfo=UTC) - SHANGHAI
    _notice_at(db, world, friday_night)
    with db.read() as s:
        at_1030 = undelivered(s, community_id=world.community.id, now=wednesday + timedelta(hours=1.5))
        at_noon = undelivered(s, community_id=world.community.id, now=wednesday + timedelta(hours=3))
        # Sunday evening: the Friday night one has waited one working hour only.
        sunday = undelivered(s, community_id=world.community.id, now=friday_night + timedelta(hours=45))
    assert at_1030[0] == 0
    assert at_noon[0] == 1 and at_noon[1][0].person == world.users["worker"].display_name
    assert sunday[0] == 1 and sunday[1][0].notice.created_at.replace(tzinfo=None) == wednesday.replace(
        tzinfo=None
    )


def test_the_dashboard_flags_notices_no_device_has_pulled(
    world: World, client: TestClient, db: Database
) -> None:
    now = utcnow()
    _notice_at(db, world, now - timedelta(days=14))
    _notice_at(db, world, now - timedelta(days=14), delivered_at=now - timedelta(days=13))
    _notice_at(db, world, now - timedelta(minutes=5))
    login(client, world.users["staff"])
    page = client.get("/demands/dashboard")
    assert 'id="undelivered" data-count="1"' in page.text
    assert "1 条消息超过 2 个工作小时仍未送达" in page.text


def test_time_limit_notices_carry_the_warning_colour(world: World, client: TestClient, db: Database) -> None:
    """预警 on notices as on the lists: a 即将超期 notice amber, an 已超期 one red, others neither."""
    staff = world.users["staff"]
    kinds = {
        "demand_due_soon": "诉求快到期了",
        "demand_overdue": "诉求已超期",
        "demand_urged": "社区督办了一条诉求",
    }
    with db.write() as s:
        for kind, title in kinds.items():
            s.add(Notice(user_id=staff.id, kind=kind, title=title, body="楼道灯坏了", link="/demands"))
    login(client, staff)
    page = client.get("/notices").text
    shown = {
        title: re.findall(r'data-warning="(\w+)">[^<]*</span> ' + title + "</button>", page)
        for title in kinds.values()
    }
    assert shown == {"诉求快到期了": ["soon"], "诉求已超期": ["overdue"], "社区督办了一条诉求": []}
    assert '<span class="badge amber" data-warning="soon">即将超期</span>' in page
    assert '<span class="badge red" data-warning="overdue">已超期</span>' in page
