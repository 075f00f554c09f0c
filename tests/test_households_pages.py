from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, col, func, select
from starlette.testclient import TestClient

from server import preferences
from server.clock import local_today
from server.commands.households import update_household
from server.db import Database
from server.models import AuditLog, Conflict, Grid, Household, Resident, ResidentTag, TravelCard, User, Visit
from server.people import idnumber
from tests.conftest import Factory, login

ROW = re.compile(r'href="/households/([0-9a-f-]{36})"')
ID_SHAPE = "身份证号应为 18 位（最后一位可以是 X），或 15 位旧号码。"
ID_CHECKSUM = "身份证号校验位不对，请核对后重新输入。"
ID_BIRTH = "身份证号中的出生日期无效。"
PHONE_BAD = "电话号码格式不对：手机号为 1 开头的 11 位数字，座机请带区号（如 0794-1234567）。"


@dataclass
class World:
    grid_a: Grid
    grid_b: Grid
    worker: User
    staff: User
    home: Household  # in grid A, the worker's
    away: Household  # in grid B
    resident: Resident  # in home
    stranger: Resident  # in away


@pytest.fixture
def world(make: Factory) -> World:
    grid_a, grid_b = make.grid(name="一网格"), make.grid(name="二网格")
    home = make.household(grid_a, estate="桂花苑", phone="13812345678")
    away = make.household(grid_b, estate="梧桐里")
    return World(
        grid_a=grid_a,
        grid_b=grid_b,
        worker=make.user("grid_worker", grids=[grid_a]),
        staff=make.user("community_staff"),
        home=home,
        away=away,
        resident=make.resident(home, name="张秀英", relation="head", phone="13900001111"),
        stranger=make.resident(away, name="李四", relation="head"),
    )


def signed_in(client: TestClient, user: User) -> str:
    return str(login(client, user)["csrf_token"])


def listed(html: str) -> set[str]:
    return set(ROW.findall(html))


def count(db: Database, model: Any) -> int:
    with Session(db.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def fetch(db: Database, model: Any, key: Any) -> Any:
    with Session(db.engine) as session:
        return session.get(model, key)


def test_search_matches_address_resident_name_and_phone_tail(
    client: TestClient, make: Factory, world: World
) -> None:
    other = make.household(world.grid_a, estate="幸福小区")
    make.resident(other, name="王建国", phone="13987654321")
    signed_in(client, world.worker)

    assert listed(client.get("/households", params={"q": "桂花"}).text) == {str(world.home.id)}
    assert listed(client.get("/households", params={"q": "建国"}).text) == {str(other.id)}
    assert listed(client.get("/households", params={"q": "5678"}).text) == {str(world.home.id)}
    assert listed(client.get("/households", params={"q": "7654321"}).text) == {str(other.id)}
    assert listed(client.get("/households", params={"q": "678"}).text) == set()
    assert listed(client.get("/households", params={"q": "桂花 秀英"}).text) == {str(world.home.id)}
    assert listed(client.get("/households").text) == {str(world.home.id), str(other.id)}


def test_search_treats_like_wildcards_as_text(client: TestClient, world: World) -> None:
    signed_in(client, world.worker)
    assert listed(client.get("/households", params={"q": "%"}).text) == set()
    assert listed(client.get("/households", params={"q": "_"}).text) == set()


def test_filters_by_grid_tag_and_status(client: TestClient, make: Factory, world: World) -> None:
    lonely = make.tag("lonely_elder", name="独居老人")
    make.tag("party", name="流动党员")
    vacant = make.household(world.grid_b, estate="空置楼", status="vacant")
    make.resident(world.away, name="赵六", tags=[lonely.code])
    signed_in(client, world.staff)

    every = {str(world.home.id), str(world.away.id), str(vacant.id)}
    assert listed(client.get("/households").text) == every
    by_grid = client.get("/households", params={"grid": str(world.grid_b.id)}).text
    assert listed(by_grid) == {str(world.away.id), str(vacant.id)}
    by_tag = client.get("/households", params={"tag": "lonely_elder"}).text
    assert listed(by_tag) == {str(world.away.id)}
    assert "独居老人" in by_tag
    assert listed(client.get("/households", params={"tag": "party"}).text) == set()
    assert listed(client.get("/households", params={"status": "vacant"}).text) == {str(vacant.id)}
    assert listed(client.get("/households", params={"status": "nonsense"}).text) == every
    both = client.get("/households", params={"grid": str(world.grid_b.id), "status": "active"}).text
    assert listed(both) == {str(world.away.id)}


def test_a_worker_filtering_by_another_grid_sees_nothing_of_it(client: TestClient, world: World) -> None:
    signed_in(client, world.worker)
    assert listed(client.get("/households", params={"grid": str(world.grid_b.id)}).text) == set()
    assert listed(client.get("/households", params={"q": "梧桐"}).text) == set()


def test_pagination_twenty_a_page_with_total_and_links(
    client: TestClient, make: Factory, world: World
) -> None:
    for n in range(44):
        make.household(world.grid_a, estate="分页小区", building=f"{n:02d}栋")
    signed_in(client, world.worker)

    first = client.get("/households")
    assert "共 45 户" in first.text
    assert len(listed(first.text)) == 20
    assert 'href="/households?page=2"' in first.text
    assert "上一页" not in first.text
    third = client.get("/households", params={"page": "3"})
    assert len(listed(third.text)) == 5
    assert "第 3 / 3 页" in third.text
    assert "下一页" not in third.text
    seen = listed(first.text) | listed(client.get("/households?page=2").text) | listed(third.text)
    assert len(seen) == 45
    assert listed(client.get("/households", params={"page": "99"}).text) == listed(third.text)
    filtered = client.get("/households", params={"q": "分页", "page": "2"}).text
    assert "共 44 户" in filtered
    assert 'href="/households?q=%E5%88%86%E9%A1%B5&amp;page=3"' in filtered


def test_htmx_search_answers_only_the_results_block(client: TestClient, world: World) -> None:
    signed_in(client, world.worker)
    fragment = client.get("/households", params={"q": "桂花"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<form" not in fragment.text
    assert listed(fragment.text) == {str(world.home.id)}
    assert "HX-Request" in fragment.headers["vary"]
    restore = client.get("/households", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_list_rows_show_head_masked_phone_and_badges(client: TestClient, make: Factory, world: World) -> None:
    signed_in(client, world.worker)
    html = client.get("/households").text
    assert "张秀英" in html
    assert "138****5678" in html
    assert "户籍" in html and "在住" in html


def test_pages_never_contain_full_id_numbers_or_phones(
    client: TestClient, make: Factory, world: World
) -> None:
    numbers = [idnumber.make("360121", date(1940 + n, 3, 9), 100 + n) for n in range(3)]
    for n, number in enumerate(numbers):
        make.resident(world.home, name=f"住户{n}", id_number=number, phone=f"1390000222{n}")
    signed_in(client, world.worker)
    pages = [
        client.get("/households").text,
        client.get("/households", params={"q": "住户"}).text,
        client.get("/households", params={"q": "2221"}, headers={"HX-Request": "true"}).text,
        client.get(f"/households/{world.home.id}").text,
        client.get(f"/households/{world.home.id}/edit").text,
        client.get(f"/residents/{world.resident.id}/edit").text,
    ]
    for html in pages:
        for number in [*numbers, "13812345678", "13900001111", "13900002220"]:
            assert number not in html
    detail = pages[3]
    assert idnumber.mask(numbers[0]) in detail
    assert "139****2220" in detail


def test_detail_shows_facts_residents_and_visits_newest_first(
    client: TestClient, make: Factory, world: World
) -> None:
    tag = make.tag("disabled", name="残疾人")
    make.resident(world.home, name="张小明", relation="child", born=date(2010, 6, 1), tags=[tag.code])
    csrf = signed_in(client, world.worker)
    for notes in ("第一次", "第二次"):
        data = {"csrf_token": csrf, "visit_id": str(uuid.uuid4()), "purpose": "care", "outcome": "completed"}
        client.post(f"/households/{world.home.id}/visits/new", data={**data, "notes": notes})

    html = client.get(f"/households/{world.home.id}").text
    assert "桂花苑" in html and "一网格" in html and "138****5678" in html
    assert "张小明" in html and "子女" in html and "残疾人" in html and "男" in html
    assert "关爱重点人群" in html and "已完成" in html and "用户" in html
    assert html.index("第二次") < html.index("第一次")
    for link in ("/edit", "/residents/new", "/visits/new"):
        assert f'href="/households/{world.home.id}{link}"' in html


def worker_routes(world: World) -> list[tuple[str, str, dict[str, str]]]:
    away, stranger = world.away.id, world.stranger.id
    return [
        ("GET", f"/households/{away}", {}),
        ("GET", f"/households/{away}/edit", {}),
        ("POST", f"/households/{away}/edit", {"base_version": "0", "notes": "越界"}),
        ("GET", f"/households/{away}/residents/new", {}),
        ("POST", f"/households/{away}/residents/new", {"name": "越界", "relation": "head"}),
        ("GET", f"/households/{away}/visits/new", {}),
        (
            "POST",
            f"/households/{away}/visits/new",
            {"visit_id": str(uuid.uuid4()), "purpose": "routine", "outcome": "completed"},
        ),
        ("GET", f"/residents/{stranger}/edit", {}),
        ("POST", f"/residents/{stranger}/edit", {"base_version": "0", "name": "越界"}),
        ("POST", f"/residents/{stranger}/reveal", {}),
        ("POST", "/households/new", {"grid_id": str(world.grid_b.id), "estate": "越界小区"}),
    ]


def snapshot(db: Database) -> tuple[Any, ...]:
    with Session(db.engine) as session:
        counts = tuple(
            session.exec(select(func.count()).select_from(m)).one()
            for m in (Household, Resident, Visit, AuditLog, Conflict, ResidentTag)
        )
        versions = tuple(session.exec(select(Household.version).order_by(col(Household.id))))
        names = tuple(session.exec(select(Resident.name).order_by(col(Resident.id))))
    return counts, versions, names


def test_a_worker_gets_404_for_another_grids_records_on_every_route(
    client: TestClient, db: Database, world: World
) -> None:
    csrf = signed_in(client, world.worker)
    before = snapshot(db)
    for method, url, data in worker_routes(world):
        response = client.request(
            method, url, data={**data, "csrf_token": csrf} if method == "POST" else None
        )
        assert response.status_code == 404, (method, url, response.status_code)
        assert "找不到" in response.text
    assert snapshot(db) == before


def test_unknown_ids_are_404(client: TestClient, world: World) -> None:
    signed_in(client, world.worker)
    assert client.get(f"/households/{uuid.uuid4()}").status_code == 404
    assert client.get(f"/residents/{uuid.uuid4()}/edit").status_code == 404
    assert client.get("/households/not-a-uuid").status_code == 404


def test_department_users_are_refused_with_403(client: TestClient, make: Factory, world: World) -> None:
    csrf = signed_in(client, make.user("department"))
    assert client.get("/households").status_code == 403
    assert client.get(f"/households/{world.home.id}").status_code == 403
    assert client.get("/households/new").status_code == 403
    refused = client.post(f"/residents/{world.resident.id}/reveal", data={"csrf_token": csrf})
    assert refused.status_code == 403


def test_signed_out_visitors_are_sent_to_login(client: TestClient, world: World) -> None:
    response = client.get(f"/households/{world.home.id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/households/")


def post_routes(world: World) -> list[tuple[str, dict[str, str]]]:
    home, resident = world.home.id, world.resident.id
    return [
        ("/households/new", {"grid_id": str(world.grid_a.id), "estate": "新小区"}),
        (f"/households/{home}/edit", {"base_version": "0", "notes": "改了"}),
        (f"/households/{home}/residents/new", {"name": "新人", "relation": "child"}),
        (f"/residents/{resident}/edit", {"base_version": "0", "name": "改名"}),
        (f"/residents/{resident}/reveal", {}),
        (
            f"/households/{home}/visits/new",
            {"visit_id": str(uuid.uuid4()), "purpose": "routine", "outcome": "completed"},
        ),
    ]


def test_every_post_refuses_a_missing_or_wrong_csrf_token(
    client: TestClient, db: Database, world: World
) -> None:
    csrf = signed_in(client, world.worker)
    before = snapshot(db)
    for url, data in post_routes(world):
        for token in (None, "wrong-" + csrf):
            body = data if token is None else {**data, "csrf_token": token}
            response = client.post(url, data=body)
            assert response.status_code == 403, (url, token)
    assert snapshot(db) == before
    # The same posts with the right token do go through, so the refusals above were CSRF's.
    for url, data in post_routes(world):
        assert client.post(url, data={**data, "csrf_token": csrf}).status_code in (200, 303), url
    assert snapshot(db) != before


def valid_id(sequence: int = 123) -> str:
    return idnumber.make("360121", date(1950, 1, 1), sequence)


def bad_birth_date() -> str:
    first17 = "360121" + "19501332" + "123"
    return first17 + idnumber.check_character(first17)


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        (valid_id()[:-1] + ("0" if valid_id()[-1] != "0" else "1"), ID_CHECKSUM),
        (bad_birth_date(), ID_BIRTH),
        (valid_id()[:16], ID_SHAPE),
        (valid_id() + "1", ID_SHAPE),
    ],
)
def test_invalid_id_numbers_are_refused_in_chinese_and_store_nothing(
    client: TestClient, db: Database, world: World, id_number: str, message: str
) -> None:
    csrf = signed_in(client, world.worker)
    before = snapshot(db)
    response = client.post(
        f"/households/{world.home.id}/residents/new",
        data={"csrf_token": csrf, "name": "王小红", "relation": "spouse", "id_number": id_number},
    )
    assert response.status_code == 400
    assert message in response.text
    assert 'value="王小红"' in response.text
    assert f'value="{id_number}"' in response.text
    assert snapshot(db) == before


def test_invalid_phones_are_refused_in_chinese_and_store_nothing(
    client: TestClient, db: Database, world: World
) -> None:
    csrf = signed_in(client, world.worker)
    before = snapshot(db)
    resident = client.post(
        f"/households/{world.home.id}/residents/new",
        data={
            "csrf_token": csrf,
            "name": "王小红",
            "relation": "head",
            "phone": "12345",
            "id_number": valid_id(),
        },
    )
    household = client.post(
        "/households/new",
        data={"csrf_token": csrf, "grid_id": str(world.grid_a.id), "estate": "新小区", "phone": "999"},
    )
    edit = client.post(
        f"/residents/{world.resident.id}/edit",
        data={"csrf_token": csrf, "base_version": "0", "phone": "1380013800"},
    )
    for response in (resident, household, edit):
        assert response.status_code == 400
        assert PHONE_BAD in response.text
    assert 'value="新小区"' in household.text
    assert snapshot(db) == before


def test_missing_required_fields_show_messages_next_to_them(
    client: TestClient, db: Database, world: World
) -> None:
    csrf = signed_in(client, world.worker)
    before = snapshot(db)
    household = client.post(
        "/households/new", data={"csrf_token": csrf, "grid_id": str(world.grid_a.id), "estate": ""}
    )
    assert household.status_code == 400
    assert "小区：必须填写。" in household.text
    visit = client.post(
        f"/households/{world.home.id}/visits/new",
        data={"csrf_token": csrf, "visit_id": str(uuid.uuid4()), "notes": "记下的话"},
    )
    assert visit.status_code == 400
    assert "走访目的：必须填写。" in visit.text and "走访结果：必须填写。" in visit.text
    assert "记下的话" in visit.text
    assert snapshot(db) == before


def test_create_household_and_resident_through_the_forms(
    client: TestClient, db: Database, make: Factory, world: World
) -> None:
    tag_code = "lonely_elder"
    csrf = signed_in(client, world.worker)
    form = client.get("/households/new").text
    household_id = re.search(r'name="household_id" value="([0-9a-f-]{36})"', form)
    assert household_id is not None
    data = {
        "csrf_token": csrf,
        "household_id": household_id.group(1),
        "grid_id": str(world.grid_a.id),
        "estate": "新苑",
        "building": "3栋",
        "room": "502",
        "kind": "rental",
        "phone": "0794-1234567",
    }
    created = client.post("/households/new", data=data, follow_redirects=False)
    again = client.post("/households/new", data=data, follow_redirects=False)
    assert created.status_code == again.status_code == 303
    assert created.headers["location"] == again.headers["location"]
    household = fetch(db, Household, uuid.UUID(household_id.group(1)))
    assert (household.address, household.kind, household.phone) == ("新苑 3栋 502", "rental", "0794-1234567")

    make.tag(tag_code, name="独居老人")
    number = valid_id(8)  # an even sequence: a woman
    response = client.post(
        f"/households/{household.id}/residents/new",
        data={
            "csrf_token": csrf,
            "resident_id": str(uuid.uuid4()),
            "name": "陈阿婆",
            "relation": "head",
            "id_number": number,
            "phone": "13700001234",
            "tags": [tag_code],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    with Session(db.engine) as session:
        resident = session.exec(select(Resident).where(Resident.name == "陈阿婆")).one()
        assert resident.tags == [tag_code]
        assert resident.birth_date == date(1950, 1, 1) and resident.sex == "female"
        assert resident.id_masked == idnumber.mask(number)
        assert number not in resident.id_cipher
    page = client.get(f"/households/{household.id}").text
    assert "陈阿婆" in page and "独居老人" in page and "137****1234" in page and number not in page


def test_edit_resident_with_empty_id_number_keeps_the_stored_one(
    client: TestClient, db: Database, world: World
) -> None:
    csrf = signed_in(client, world.worker)
    form = client.get(f"/residents/{world.resident.id}/edit").text
    assert 'name="id_number" value=""' in form
    assert world.resident.id_masked in form  # as a placeholder only
    before = fetch(db, Resident, world.resident.id)
    response = client.post(
        f"/residents/{world.resident.id}/edit",
        data={
            "csrf_token": csrf,
            "base_version": str(before.version),
            "was_name": "张秀英",
            "name": "张秀英",
            "was_relation": "head",
            "relation": "head",
            "was_notes": "",
            "notes": "腿脚不便",
            "id_number": "",
            "phone": "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    after = fetch(db, Resident, world.resident.id)
    assert after.notes == "腿脚不便"
    assert (after.id_hash, after.id_cipher, after.phone) == (before.id_hash, before.id_cipher, before.phone)


def reveals(db: Database) -> list[AuditLog]:
    with Session(db.engine) as session:
        return list(session.exec(select(AuditLog).where(AuditLog.action == "reveal_id_number")))


def test_reveal_writes_one_audit_row_and_returns_the_full_numbers(
    client: TestClient, db: Database, make: Factory, world: World
) -> None:
    number = valid_id(42)
    resident = make.resident(world.home, name="刘大爷", id_number=number, phone="13655556666")
    csrf = signed_in(client, world.worker)
    response = client.post(
        f"/residents/{resident.id}/reveal", data={"csrf_token": csrf}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert number in response.text and "13655556666" in response.text
    assert "<html" not in response.text and f'id="resident-{resident.id}"' in response.text
    rows = reveals(db)
    assert len(rows) == 1
    row = rows[0]
    assert (row.action, row.record_type, row.record_id) == ("reveal_id_number", "resident", str(resident.id))
    assert row.actor_id == world.worker.id
    assert number not in str(row.detail)

    page = client.post(f"/residents/{resident.id}/reveal", data={"csrf_token": csrf})
    assert "<html" in page.text and number in page.text
    assert len(reveals(db)) == 2


def test_a_stale_edit_of_a_field_changed_meanwhile_becomes_a_conflict(
    client: TestClient, db: Database, make: Factory, world: World
) -> None:
    csrf = signed_in(client, world.worker)
    form = client.get(f"/households/{world.home.id}/edit").text
    shown = re.search(r'name="base_version" value="(\d+)"', form)
    assert shown is not None
    with db.write() as session:
        update_household(
            session,
            actor=make.actor(world.staff),
            data={"household_id": str(world.home.id), "set": {"notes": "社区改的备注", "room": "909室"}},
        )
    fields = {
        f: str(getattr(world.home, f)) for f in ("estate", "building", "unit", "room", "kind", "status")
    }
    data = {
        "csrf_token": csrf,
        "base_version": shown.group(1),
        **fields,
        **{f"was_{k}": v for k, v in fields.items()},
        "was_notes": "",
        "notes": "网格员的备注",
    }
    response = client.post(f"/households/{world.home.id}/edit", data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/households/{world.home.id}?saved=conflict"
    with Session(db.engine) as session:
        conflicts = session.exec(select(Conflict)).all()
        household = session.get(Household, world.home.id)
    assert [(c.field, c.server_value, c.client_value) for c in conflicts] == [
        ("notes", "社区改的备注", "网格员的备注")
    ]
    assert household is not None and household.notes == "社区改的备注"
    assert household.room == "909室"  # the worker did not touch the room: no stale overwrite
    page = client.get(response.headers["location"]).text
    assert "待处理的冲突" in page and "网格员的备注" in page and "社区改的备注" in page


def test_only_staff_may_move_a_household_to_another_grid(
    client: TestClient, db: Database, make: Factory, world: World
) -> None:
    csrf = signed_in(client, world.worker)
    assert 'name="grid_id"' not in client.get(f"/households/{world.home.id}/edit").text
    version = str(fetch(db, Household, world.home.id).version)
    data = {"csrf_token": csrf, "base_version": version, "grid_id": str(world.grid_b.id), "notes": "x"}
    client.post(f"/households/{world.home.id}/edit", data=data)
    assert fetch(db, Household, world.home.id).grid_id == world.grid_a.id

    client.cookies.clear()
    csrf = signed_in(client, world.staff)
    assert 'name="grid_id"' in client.get(f"/households/{world.home.id}/edit").text
    data = {
        "csrf_token": csrf,
        "base_version": version,
        "was_grid_id": str(world.grid_a.id),
        "grid_id": str(world.grid_b.id),
    }
    assert (
        client.post(f"/households/{world.home.id}/edit", data=data, follow_redirects=False).status_code == 303
    )
    assert fetch(db, Household, world.home.id).grid_id == world.grid_b.id
    assert fetch(db, Resident, world.resident.id).grid_id == world.grid_b.id


def test_recording_the_same_visit_twice_stores_one(client: TestClient, db: Database, world: World) -> None:
    csrf = signed_in(client, world.worker)
    form = client.get(f"/households/{world.home.id}/visits/new").text
    visit_id = re.search(r'name="visit_id" value="([0-9a-f-]{36})"', form)
    assert visit_id is not None
    data = {
        "csrf_token": csrf,
        "visit_id": visit_id.group(1),
        "purpose": "service",
        "outcome": "nobody_home",
        "notes": "门上贴了联系卡",
    }
    for _ in range(2):
        response = client.post(f"/households/{world.home.id}/visits/new", data=data, follow_redirects=False)
        assert response.status_code == 303
    with Session(db.engine) as session:
        visits = session.exec(select(Visit)).all()
    assert len(visits) == 1
    visit = visits[0]
    assert str(visit.id) == visit_id.group(1)
    assert (visit.household_id, visit.worker_id) == (world.home.id, world.worker.id)
    assert (visit.purpose, visit.outcome, visit.notes) == ("service", "nobody_home", "门上贴了联系卡")
    page = client.get(f"/households/{world.home.id}").text
    assert "代办服务" in page and "无人在家" in page and "门上贴了联系卡" in page


def test_a_visit_id_reused_with_other_content_is_refused(
    client: TestClient, db: Database, world: World
) -> None:
    csrf = signed_in(client, world.worker)
    data = {"csrf_token": csrf, "visit_id": str(uuid.uuid4()), "purpose": "routine", "outcome": "completed"}
    client.post(f"/households/{world.home.id}/visits/new", data=data)
    response = client.post(f"/households/{world.home.id}/visits/new", data={**data, "outcome": "refused"})
    assert response.status_code == 409
    assert "这个走访编号已被另一条记录使用。" in response.text
    assert count(db, Visit) == 1


def test_editing_a_resident_keeps_a_retired_tag_they_carry(
    client: TestClient, db: Database, make: Factory, world: World
) -> None:
    retired = make.tag("old_code", name="旧标签", active=False)
    current = make.tag("lonely_elder", name="独居老人")
    resident = make.resident(world.home, name="周奶奶", tags=[retired.code])
    csrf = signed_in(client, world.worker)
    form = client.get(f"/residents/{resident.id}/edit").text
    assert 'value="old_code" checked' in form
    assert 'name="was_tags" value="old_code"' in form
    assert "旧标签" not in client.get(f"/households/{world.home.id}/residents/new").text

    response = client.post(
        f"/residents/{resident.id}/edit",
        data={
            "csrf_token": csrf,
            "base_version": str(resident.version),
            "was_tags": "old_code",
            "tags": ["old_code", current.code],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert fetch(db, Resident, resident.id).tags == ["lonely_elder", "old_code"]
    with Session(db.engine) as session:
        links = session.exec(select(ResidentTag).where(ResidentTag.resident_id == resident.id)).all()
    assert len(links) == 2


def test_the_pages_render_in_english_too(client: TestClient, world: World) -> None:
    signed_in(client, world.worker)
    client.cookies.set("doorstep_lang", "en")
    for url in (
        "/households",
        f"/households/{world.home.id}",
        f"/households/{world.home.id}/edit",
        f"/households/{world.home.id}/visits/new",
        f"/residents/{world.resident.id}/edit",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="en">' in response.text


def years_ago(years: int) -> date:
    return date(local_today().year - years, 1, 1)


def card_buttons(html: str, resident: Resident) -> tuple[bool, str | None]:
    """(offers 申请出行卡, the open application linked) on this resident's card of the household page."""
    start = html.index(f'id="resident-{resident.id}"')
    card = html[start : html.index("</li>", start)]
    linked = re.search(r'href="/travel-cards/([0-9a-f-]{36})"', card)
    return f"/travel-cards/new?resident={resident.id}" in card, linked.group(1) if linked else None


def test_a_travel_card_is_offered_only_to_residents_the_settings_make_eligible(
    client: TestClient, make: Factory, world: World, db: Database
) -> None:
    baby = make.resident(world.home, name="小宝", relation="child", born=years_ago(1))
    sixty_two = make.resident(world.home, name="王阿姨", relation="spouse", born=years_ago(62))
    seventy = make.resident(world.home, name="李大爷", relation="parent", born=years_ago(70))
    applied = make.resident(world.home, name="赵奶奶", relation="parent", born=years_ago(80))
    with db.write() as session:
        card = TravelCard(
            resident_id=applied.id,
            household_id=world.home.id,
            community_id=world.home.community_id,
            grid_id=world.home.grid_id,
            applicant_hash=applied.id_hash,
            status="submitted",
        )
        session.add(card)
    signed_in(client, world.staff)

    html = client.get(f"/households/{world.home.id}").text
    assert card_buttons(html, baby) == (False, None)
    assert card_buttons(html, sixty_two) == (False, None)  # the free age is 65, no discount tier yet
    assert card_buttons(html, seventy) == (True, None)
    assert card_buttons(html, applied) == (False, str(card.id))
    assert "出行卡：待审核" in html

    with db.write() as session:
        preferences.set(session, "travel_card.discount_age", 60, None)
    html = client.get(f"/households/{world.home.id}").text
    assert card_buttons(html, sixty_two) == (True, None)
    assert card_buttons(html, baby) == (False, None)
