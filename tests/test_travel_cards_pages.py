"""The travel card office pages through the TestClient: queues, decisions, lists, forms, print."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import segno
from sqlmodel import col, select
from starlette.testclient import TestClient

from server.clock import local_today
from server.commands import travel_cards as tc
from server.db import Database
from server.models import Blob, Grid, Household, Resident, TravelCard, TravelCardEvent, User, Visit
from server.routes.travel_cards import status_qr
from server.workflows import travel_cards as card_flow
from tests.conftest import Factory, login
from tests.test_travel_cards import JPEG, PHOTO, count, events, put_card, reload

NAME_IN_QUEUE = re.compile(r'<h2><a href="/travel-cards/[0-9a-f-]{36}">([^<]+)</a></h2>')


@dataclass
class Office:
    grid: Grid
    other_grid: Grid
    household: Household
    elsewhere: Household  # in the other grid
    resident: Resident
    stranger: Resident  # in the other grid
    worker: User
    staff: User


@pytest.fixture
def office(make: Factory) -> Office:
    grid, other_grid = make.grid(name="桂花网格"), make.grid(name="梧桐网格")
    household = make.household(grid, estate="桂花苑", building="3栋", unit="2单元", room="501室")
    elsewhere = make.household(other_grid, estate="梧桐里")
    return Office(
        grid=grid,
        other_grid=other_grid,
        household=household,
        elsewhere=elsewhere,
        resident=make.resident(household, name="陈秀兰", born=date(1948, 3, 9)),
        stranger=make.resident(elsewhere, name="李福", born=date(1950, 5, 5)),
        worker=make.user("grid_worker", grids=[grid]),
        staff=make.user("community_staff"),
    )


def signed_in(client: TestClient, user: User) -> str:
    return str(login(client, user)["csrf_token"])


def older(make: Factory, household: Household, name: str, years: int = 70) -> Resident:
    return make.resident(household, name=name, born=date(local_today().year - years, 1, 2))


# -- the review queue --------------------------------------------------------------------------


def test_the_review_queue_shows_the_longest_waiting_first_with_photo_and_materials(
    client: TestClient, make: Factory, db: Database, office: Office
) -> None:
    now = datetime.now(UTC)
    for name, hours in (("周二", 2), ("周一", 30), ("周三", 1)):
        put_card(
            db,
            older(make, office.household, name),
            "submitted",
            submitted_at=now - timedelta(hours=hours),
            proxy={"name": "代办人" + name, "relation": "女儿", "phone": "13912345678"},
        )
    put_card(db, older(make, office.household, "草稿"), "draft")
    signed_in(client, office.staff)
    page = client.get("/travel-cards/queue")
    assert page.status_code == 200
    assert NAME_IN_QUEUE.findall(page.text) == ["周一", "周二", "周三"]
    html = page.text
    assert f'src="/sync/blobs/{PHOTO}"' in html
    assert "代办人周一（女儿）" in html and "139****5678" in html and "13912345678" not in html
    assert "3601**********" in html and "70 岁" in html
    assert "本地户籍" in html and "已同意（2026-01-05 09:00" in html and "tc-2026-01" in html
    assert "草稿" not in NAME_IN_QUEUE.findall(html)


def test_decisions_through_the_form_reach_the_application_and_its_history(
    client: TestClient, make: Factory, db: Database, office: Office
) -> None:
    csrf = signed_in(client, office.staff)
    first, second, third = (put_card(db, older(make, office.household, n), "submitted") for n in "甲乙丙")
    ok = client.post(
        f"/travel-cards/{first.id}/review",
        data={"csrf_token": csrf, "decision": "approve", "reason": "", "next": "/travel-cards/queue"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/travel-cards/queue?done=approve"
    assert "已完成：审核通过" in client.get(ok.headers["location"]).text
    assert reload(db, first.id).status == "approved"

    refused = client.post(
        f"/travel-cards/{second.id}/review", data={"csrf_token": csrf, "decision": "reject", "reason": ""}
    )
    assert refused.status_code == 400 and "不予通过时必须写明原因。" in refused.text
    assert reload(db, second.id).status == "submitted"

    sent_back = client.post(
        f"/travel-cards/{third.id}/review",
        data={"csrf_token": csrf, "decision": "needs_supplement", "reason": "请补拍一张正面照片"},
    )
    assert sent_back.status_code == 200  # the application page, after the redirect
    assert "需要补充" in sent_back.text and "请补拍一张正面照片" in sent_back.text
    card = reload(db, third.id)
    assert card.status == "needs_supplement" and card.reason == "请补拍一张正面照片"
    assert [(e.kind, e.note, e.actor_id) for e in events(db, third.id)] == [
        ("needs_supplement", "请补拍一张正面照片", office.staff.id)
    ]

    again = client.post(
        f"/travel-cards/{first.id}/review", data={"csrf_token": csrf, "decision": "reject", "reason": "x"}
    )
    assert again.status_code == 409 and "这份申请现在是“审核通过”，不能不予通过。" in again.text


def test_the_application_page_shows_its_whole_history_and_only_the_steps_allowed(
    client: TestClient, make: Factory, db: Database, office: Office
) -> None:
    card = put_card(db, office.resident, "ready", delivery="door")
    staff = make.actor(office.staff)
    with db.write() as session:
        tc.advance_application(
            session, actor=staff, data={"application_id": str(card.id), "to": "issued", "note": "交给女儿"}
        )
    csrf = signed_in(client, office.worker)
    page = client.get(f"/travel-cards/{card.id}").text
    assert "已发卡" in page and "交给女儿" in page and "用户" in page  # the step, its note, who
    assert "年审到期" in page and reload(db, card.id).review_due.isoformat() in page  # type: ignore[union-attr]
    for step in ("advance", "review", "submit", "cancel", "edit"):
        assert f"/travel-cards/{card.id}/{step}" not in page, step
    assert "安排年审走访" in page  # the one step open on an issued card
    planned = client.post(
        "/travel-cards/reviews/plan",
        data={"csrf_token": csrf, "application_id": str(card.id), "planned_for": local_today().isoformat()},
    )
    assert planned.status_code == 200 and count(db, Visit) == 1
    assert "已安排" in client.get(f"/travel-cards/{card.id}").text


# -- scope and roles ---------------------------------------------------------------------------


def test_a_worker_gets_404_for_another_grid_s_application_and_403_on_office_lists(
    client: TestClient, make: Factory, db: Database, office: Office
) -> None:
    theirs = put_card(db, office.stranger, "submitted")
    mine = put_card(db, office.resident, "draft")
    csrf = signed_in(client, office.worker)
    for path in ("", "/print", "/edit"):
        assert client.get(f"/travel-cards/{theirs.id}{path}").status_code == 404, path
    assert client.post(f"/travel-cards/{theirs.id}/submit", data={"csrf_token": csrf}).status_code == 404
    assert client.get(f"/travel-cards/new?resident={office.stranger.id}").status_code == 404
    for path in ("/travel-cards/queue", "/travel-cards/production", "/travel-cards/ready"):
        assert client.get(path).status_code == 403, path
    assert client.get(f"/travel-cards/{mine.id}").status_code == 200
    listed = client.get("/travel-cards").text
    assert str(mine.id) in listed and str(theirs.id) not in listed
    # A decision is the office's, even on the worker's own application.
    approve = client.post(f"/travel-cards/{mine.id}/review", data={"csrf_token": csrf, "decision": "approve"})
    assert approve.status_code == 403
    assert reload(db, theirs.id).version == theirs.version and reload(db, mine.id).version == mine.version


def test_departments_have_no_travel_card_pages(client: TestClient, make: Factory) -> None:
    signed_in(client, make.user("department"))
    for path in ("/travel-cards", "/travel-cards/delivery", "/travel-cards/reviews", "/travel-cards/new"):
        assert client.get(path).status_code == 403, path


def test_every_post_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing(
    client: TestClient, make: Factory, db: Database, office: Office
) -> None:
    card = put_card(db, office.resident, "submitted")
    issued = put_card(db, older(make, office.household, "年审"), "issued")
    csrf = signed_in(client, office.staff)
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"/travel-cards/{card.id}/review", {"decision": "approve"}),
        (f"/travel-cards/{card.id}/advance", {"to": "in_production"}),
        (f"/travel-cards/{card.id}/cancel", {"reason": "不需要了"}),
        (f"/travel-cards/{card.id}/submit", {}),
        (f"/travel-cards/{card.id}/edit", {"delivery": "door", "was_delivery": "collect"}),
        ("/travel-cards/new", {"application_id": str(uuid.uuid4()), "resident_id": str(office.resident.id)}),
        ("/travel-cards/reviews/plan", {"application_id": str(issued.id), "planned_for": "2030-01-01"}),
    ]
    before = (count(db, TravelCard), count(db, TravelCardEvent), count(db, Visit))
    for url, data in posts:
        for token in (None, "wrong-" + csrf):
            sent = data if token is None else {**data, "csrf_token": token}
            response = client.post(url, data=sent, follow_redirects=False)
            assert response.status_code == 403, (url, token)
            assert "页面已过期或来源不明" in response.text
    assert (count(db, TravelCard), count(db, TravelCardEvent), count(db, Visit)) == before
    assert reload(db, card.id).version == card.version


# -- production, ready, delivery ---------------------------------------------------------------


def test_production_ready_and_door_delivery_lists_move_a_card_to_the_door(
    client: TestClient, make: Factory, db: Database, office: Office, app: Any
) -> None:
    door = put_card(db, office.resident, "approved", delivery="door")
    collect = put_card(db, older(make, office.household, "自取"), "approved")
    far = put_card(db, office.stranger, "ready", delivery="door")
    csrf = signed_in(client, office.staff)
    production = client.get("/travel-cards/production").text
    assert production.count('value="in_production"') == 2
    for card in (door, collect):
        for to in ("in_production", "ready"):
            moved = client.post(
                f"/travel-cards/{card.id}/advance",
                data={"csrf_token": csrf, "to": to, "next": "/travel-cards/production"},
                follow_redirects=False,
            )
            assert moved.headers["location"] == f"/travel-cards/production?done={to}"
    ready_page = client.get("/travel-cards/ready").text
    assert ready_page.count('value="issued"') == 1  # the one collected at the office
    staff_deliveries = client.get("/travel-cards/delivery").text
    assert "桂花网格" in staff_deliveries and "梧桐网格" in staff_deliveries

    with TestClient(app) as phone_browser:
        worker_csrf = signed_in(phone_browser, office.worker)
        deliveries = phone_browser.get("/travel-cards/delivery").text
        assert (
            str(door.id) in deliveries and str(far.id) not in deliveries and str(collect.id) not in deliveries
        )
        delivered = phone_browser.post(
            f"/travel-cards/{door.id}/advance",
            data={"csrf_token": worker_csrf, "to": "issued", "next": "/travel-cards/delivery"},
            follow_redirects=False,
        )
        assert delivered.headers["location"] == "/travel-cards/delivery?done=issued"
        # A worker may deliver, not produce.
        refused = phone_browser.post(
            f"/travel-cards/{collect.id}/advance", data={"csrf_token": worker_csrf, "to": "ready"}
        )
        assert refused.status_code == 403
    card = reload(db, door.id)
    assert card.status == "issued" and card.review_due == card_flow.add_months(local_today(), 12)


def test_reviews_due_within_30_days_per_grid_become_planned_visits_once(
    client: TestClient, make: Factory, db: Database, office: Office
) -> None:
    today = local_today()
    soon = put_card(db, office.resident, "issued", review_due=today + timedelta(days=10))
    late = put_card(db, older(make, office.household, "逾期"), "issued", review_due=today - timedelta(days=3))
    later = put_card(
        db, older(make, office.household, "明年"), "issued", review_due=today + timedelta(days=45)
    )
    theirs = put_card(db, office.stranger, "issued", review_due=today + timedelta(days=5))
    csrf = signed_in(client, office.worker)
    page = client.get("/travel-cards/reviews").text
    for card in (soon, late):
        assert f'value="{card.id}"' in page
    assert str(later.id) not in page and str(theirs.id) not in page
    assert "已逾期" in page and "桂花网格" in page

    day = (today + timedelta(days=2)).isoformat()
    data = {"csrf_token": csrf, "application_id": [str(soon.id), str(late.id)], "planned_for": day}
    first = client.post("/travel-cards/reviews/plan", data=data, follow_redirects=False)
    assert first.headers["location"] == "/travel-cards/reviews?planned=2"
    again = client.post("/travel-cards/reviews/plan", data=data, follow_redirects=False)
    assert again.headers["location"] == "/travel-cards/reviews?planned=0"
    with db.read() as session:
        visits = session.exec(select(Visit).order_by(col(Visit.created_at))).all()
    assert len(visits) == 2 and {v.outcome for v in visits} == {"planned"}
    assert {v.planned_for for v in visits} == {date.fromisoformat(day)}
    assert {v.worker_id for v in visits} == {office.worker.id}
    shown = client.get("/travel-cards/reviews?planned=2").text
    assert "已安排 2 次走访" in shown and f'value="{soon.id}"' not in shown

    nothing = client.post("/travel-cards/reviews/plan", data={"csrf_token": csrf, "planned_for": day})
    assert nothing.status_code == 400 and "请先勾选" in nothing.text
    bad_day = client.post(
        "/travel-cards/reviews/plan",
        data={"csrf_token": csrf, "application_id": str(later.id), "planned_for": "明天"},
    )
    assert bad_day.status_code == 400 and "计划走访日期" in bad_day.text
    other = client.post(
        "/travel-cards/reviews/plan",
        data={"csrf_token": csrf, "application_id": str(theirs.id), "planned_for": day},
    )
    assert other.status_code == 404
    assert count(db, Visit) == 2


# -- applying from the office ------------------------------------------------------------------


def test_staff_apply_for_a_resident_with_a_photo_and_submit_through_the_same_commands(
    client: TestClient, make: Factory, db: Database, office: Office
) -> None:
    csrf = signed_in(client, office.staff)
    found = client.get("/travel-cards/new", params={"q": "陈"}).text
    assert f"/travel-cards/new?resident={office.resident.id}" in found
    young = make.resident(office.household, name="陈小明", born=date(2012, 5, 1))
    assert str(young.id) not in found

    form = client.get(f"/travel-cards/new?resident={office.resident.id}")
    assert form.status_code == 200 and card_flow.CONSENT.text.split("\n")[0] in form.text
    application_id = re.search(r'name="application_id" value="([0-9a-f-]{36})"', form.text).group(1)  # type: ignore[union-attr]
    fields = {
        "csrf_token": csrf,
        "application_id": application_id,
        "resident_id": str(office.resident.id),
        "delivery": "door",
        "residence": "permit",
        "id_seen": "1",
        "photo_taken": "1",
        "consent": "1",
        "consent_version": card_flow.CONSENT.version,
        "proxy_name": "陈建华",
        "proxy_relation": "儿子",
        "proxy_phone": "13800138000",
    }
    made = client.post(
        "/travel-cards/new",
        data=fields,
        files={"photo": ("face.jpg", JPEG, "image/jpeg")},
        follow_redirects=False,
    )
    assert (
        made.status_code == 303 and made.headers["location"] == f"/travel-cards/{application_id}?done=created"
    )
    card = reload(db, uuid.UUID(application_id))
    assert (card.status, card.delivery, card.residence, card.photo) == ("draft", "door", "permit", PHOTO)
    assert card.proxy == {"name": "陈建华", "relation": "儿子", "phone": "13800138000"}
    assert (
        card.checklist["consent"] is True and card.checklist["consent_version"] == card_flow.CONSENT.version
    )
    assert datetime.fromisoformat(card.checklist["consent_at"]) <= datetime.now(UTC)
    assert count(db, Blob) == 1 and client.get(f"/sync/blobs/{PHOTO}").content == JPEG
    # The same form sent twice is one application.
    client.post("/travel-cards/new", data=fields, files={"photo": ("face.jpg", JPEG, "image/jpeg")})
    assert count(db, TravelCard) == 1

    submitted = client.post(
        f"/travel-cards/{application_id}/submit", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert submitted.headers["location"] == f"/travel-cards/{application_id}?done=submit"
    assert reload(db, card.id).status == "submitted"
    again = client.get(f"/travel-cards/new?resident={office.resident.id}").text
    assert (
        "此人已有一份未结束的申请或有效的出行卡。" in again and 'enctype="multipart/form-data"' not in again
    )


def test_a_refused_application_form_keeps_what_was_typed_and_says_why_in_chinese(
    client: TestClient, db: Database, office: Office
) -> None:
    csrf = signed_in(client, office.worker)
    refused = client.post(
        "/travel-cards/new",
        data={
            "csrf_token": csrf,
            "application_id": str(uuid.uuid4()),
            "resident_id": str(office.resident.id),
            "delivery": "collect",
            "proxy_name": "陈建华",
            "proxy_relation": "儿子",
            "proxy_phone": "12345",
        },
        files={"photo": ("face.gif", b"GIF89a" + b"x" * 40, "image/gif")},
    )
    assert refused.status_code == 400
    assert "只接受 JPEG、PNG 或 WebP 照片。" in refused.text
    assert 'value="陈建华"' in refused.text
    assert count(db, TravelCard) == 0 and count(db, Blob) == 0
    bad_phone = client.post(
        "/travel-cards/new",
        data={
            "csrf_token": csrf,
            "application_id": str(uuid.uuid4()),
            "resident_id": str(office.resident.id),
            "proxy_name": "陈建华",
            "proxy_relation": "儿子",
            "proxy_phone": "12345",
        },
    )
    assert bad_phone.status_code == 400 and "电话号码格式不对" in bad_phone.text
    assert count(db, TravelCard) == 0


def test_editing_sends_only_what_changed_so_a_colleague_s_edit_stays(
    client: TestClient, make: Factory, db: Database, office: Office
) -> None:
    card = put_card(
        db,
        office.resident,
        "needs_supplement",
        proxy={"name": "王", "relation": "邻居", "phone": "13912345678"},
    )
    csrf = signed_in(client, office.worker)
    form = client.get(f"/travel-cards/{card.id}/edit").text
    assert "13912345678" not in form and "139****5678" in form
    staff = make.actor(office.staff)
    with db.write() as session:  # meanwhile, in the office
        tc.update_application(
            session, actor=staff, data={"application_id": str(card.id), "set": {"residence": "permit"}}
        )
    saved = client.post(
        f"/travel-cards/{card.id}/edit",
        data={
            "csrf_token": csrf,
            "base_version": str(card.version),
            "was_delivery": "collect",
            "delivery": "door",
            "was_residence": "hukou",
            "residence": "hukou",
            "was_proxy_name": "王",
            "proxy_name": "王",
            "was_proxy_relation": "邻居",
            "proxy_relation": "邻居",
            "was_checks": "id_seen,photo_taken,consent",
            "id_seen": "1",
            "photo_taken": "1",
            "consent": "1",
        },
        follow_redirects=False,
    )
    assert saved.headers["location"] == f"/travel-cards/{card.id}?done=updated"
    after = reload(db, card.id)
    assert (after.delivery, after.residence) == ("door", "permit")
    assert after.proxy == {"name": "王", "relation": "邻居", "phone": "13912345678"}
    assert after.checklist["consent_at"] == card.checklist["consent_at"]

    issued = put_card(db, older(make, office.household, "已发"), "issued")
    locked = client.get(f"/travel-cards/{issued.id}/edit").text
    assert "不能修改" in locked and '<form method="post" enctype' not in locked


def test_the_consent_text_is_served_for_the_field_app(client: TestClient, office: Office) -> None:
    signed_in(client, office.worker)
    body = client.get("/travel-cards/consent.json").json()
    assert body == {"version": card_flow.CONSENT.version, "text": card_flow.CONSENT.text}


# -- print -------------------------------------------------------------------------------------


def test_the_print_page_has_the_facts_signature_lines_and_a_qr_code_of_the_status_url(
    client: TestClient, make: Factory, db: Database, office: Office
) -> None:
    card = put_card(
        db, office.resident, "submitted", proxy={"name": "陈建华", "relation": "儿子", "phone": ""}
    )
    signed_in(client, office.staff)
    page = client.get(f"/travel-cards/{card.id}/print")
    assert page.status_code == 200
    url = f"http://testserver/travel-cards/{card.id}"
    assert url in page.text
    # segno was asked for the status URL: the same code built from it is on the page.
    expected = segno.make(url, error="m").svg_inline(scale=4, border=2, title=url, svgclass="tc-qr")
    assert expected in page.text and str(status_qr(url)) == expected
    assert str(status_qr(f"http://testserver/travel-cards/{uuid.uuid4()}")) not in page.text
    html = page.text
    for text in (
        "老年出行卡申请表",
        "陈秀兰",
        "3601**********",
        "陈建华（儿子）",
        "网格员签名",
        "社区审核意见及签名",
    ):
        assert text in html, text
    assert "<svg" in html and "style=" not in html and "<script>" not in html
    # The QR opens the status page, which requires signing in.
    with TestClient(client.app) as anonymous:
        assert anonymous.get(url, follow_redirects=False).status_code == 303
