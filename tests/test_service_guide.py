"""The service guide (办事指南): office pages keep it versioned, phones pull it, residents read it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from defusedxml import ElementTree as DET
from sqlalchemy import func
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.commands import service_items
from server.db import Database
from server.models import AuditLog, Community, ServiceItem, ServiceItemRevision, VersionCounter, Visit
from server.queries import service_items as queries
from tests.conftest import Factory
from tests.test_admin_pages import signed_in

MATERIALS = "居民身份证｜原件｜1份｜核对后退回\n户口簿|Copy|2\n一寸照片"


@pytest.fixture
def community(make: Factory) -> Community:
    return make.community(code="lean", name="乐安社区")


@pytest.fixture
def staff(app: Starlette, make: Factory, community: Community) -> Iterator[tuple[TestClient, str]]:
    client, token = signed_in(app, make.user("community_staff", community=community))
    yield client, token
    client.close()


def item_form(token: str, **change: str) -> dict[str, str]:
    form = {
        "csrf_token": token,
        "name": "城乡居民基本养老保险参保登记",
        "category": "social_security",
        "eligibility": "年满16周岁、未参加职工养老保险的城乡居民",
        "materials": MATERIALS,
        "steps": "带齐材料到窗口\n窗口审核录入\n当场打印回执",
        "window": "社保窗口 3 号",
        "address": "乐安社区党群服务中心一楼",
        "hours": "周一至周五 9:00–12:00",
        "phone": "0794-6581234",
        "time_limit_days": "5",
        "fees": "",
        "online_url": "https://www.jxrs.gov.cn/",
        "active": "1",
    }
    return {**form, **change}


def kept(db: Database) -> dict[str, Any]:
    """What any change to the guide would alter."""
    with db.read() as s:
        return {
            "version": s.get(VersionCounter, 1).value,  # type: ignore[union-attr]
            "audit": s.exec(select(func.count()).select_from(AuditLog)).one(),
            "items": sorted((i.name, i.revision, str(i.materials)) for i in s.exec(select(ServiceItem))),
            "revisions": s.exec(select(func.count()).select_from(ServiceItemRevision)).one(),
        }


def quick_item(db: Database, **fields: str) -> str:
    """An item made by an operator's command (no actor), its id."""
    with db.write() as s:
        return str(
            service_items.create_service_item(s, actor=None, fields=service_items.ItemFields(**fields)).id
        )


def create(client: TestClient, token: str, **change: str) -> str:
    created = client.post("/guide/new", data=item_form(token, **change), follow_redirects=False)
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    assert location.endswith("?done=created")
    return location.split("/")[2].split("?")[0]


def test_staff_add_an_item_and_an_edit_keeps_the_old_version(
    staff: tuple[TestClient, str], db: Database
) -> None:
    client, token = staff
    item_id = create(client, token)
    page = client.get(f"/guide/{item_id}?done=created").text
    assert "已创建" in page and "第 1 版" in page and "5 个工作日内办结" in page
    with db.read() as s:
        item = queries.service_item(s, item_id)
        assert item.materials == [
            {"name": "居民身份证", "form": "original", "count": 1, "note": "核对后退回"},
            {"name": "户口簿", "form": "copy", "count": 2, "note": ""},
            {"name": "一寸照片", "form": "copy", "count": 1, "note": ""},
        ]
        assert item.steps == ["带齐材料到窗口", "窗口审核录入", "当场打印回执"]
        first_version = item.version

    edited = client.post(
        f"/guide/{item_id}",
        data=item_form(token, materials="居民身份证｜原件｜1份", time_limit_days="3"),
        follow_redirects=False,
    )
    assert (edited.status_code, edited.headers["location"]) == (303, f"/guide/{item_id}?done=saved")
    with db.read() as s:
        item = queries.service_item(s, item_id)
        assert (item.revision, item.time_limit_days, len(item.materials)) == (2, 3, 1)
        assert item.version > first_version
        old = queries.revision(s, item.id, 1)
        assert (len(old["materials"]), old["time_limit_days"]) == (3, 5)
        assert queries.revision(s, item.id, 2)["materials"] == item.materials
        assert [r.revision for r in queries.revisions(s, item.id)] == [2, 1]
        actions = list(s.exec(select(AuditLog.action).where(AuditLog.record_id == item_id)))
        assert actions == ["service_item.create", "service_item.update"]
    page = client.get(f"/guide/{item_id}").text
    assert "第 2 版" in page and "第 1 版" in page

    before = kept(db)
    same = client.post(
        f"/guide/{item_id}",
        data=item_form(token, materials="居民身份证｜原件｜1份", time_limit_days="3"),
        follow_redirects=False,
    )
    assert same.status_code == 303
    assert kept(db) == before, "an unchanged form writes no version"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": " "}, "name", "事项名称：必须填写。"),
        ({"category": "astrology"}, "category", "类别：请选择一个类别。"),
        ({"materials": ""}, "materials", "所需材料：至少填写一项"),
        ({"materials": "身份证｜扫描件"}, "materials", "所需材料第 1 行：请写“原件”或“复印件”。"),
        ({"materials": "身份证\n户口簿｜原件｜0份"}, "materials", "所需材料第 2 行：份数必须是 1 到 99。"),
        ({"time_limit_days": "五"}, "time_limit_days", "办结时限：必须是 0 到 365 之间的整数"),
        ({"time_limit_days": "400"}, "time_limit_days", "办结时限：必须是 0 到 365 之间的整数"),
        (
            {"online_url": "javascript:alert(1)"},
            "online_url",
            "网上办理：请填写以 http:// 或 https:// 开头的网址。",
        ),
        ({"phone": "call me"}, "phone", "咨询电话：只能有数字"),
        ({"steps": "步" * 301}, "steps", "办理流程：每一步不超过 300 字。"),
    ],
)
def test_a_bad_item_is_refused_in_chinese_and_changes_nothing(
    staff: tuple[TestClient, str], db: Database, change: dict[str, str], field: str, message: str
) -> None:
    client, token = staff
    item_id = create(client, token)
    before = kept(db)
    for url in ("/guide/new", f"/guide/{item_id}"):
        refused = client.post(url, data=item_form(token, **change), follow_redirects=False)
        assert refused.status_code == 400
        assert message in refused.text
        assert f'id="{field}-error"' in refused.text
        assert kept(db) == before


def test_only_staff_and_admins_edit_while_every_role_reads(
    app: Starlette, make: Factory, community: Community, staff: tuple[TestClient, str], db: Database
) -> None:
    item_id = create(*staff)
    grid = make.grid(community)
    for user in (make.user(grids=[grid]), make.user("department")):
        client, token = signed_in(app, user)
        listing = client.get("/guide")
        assert listing.status_code == 200 and "城乡居民基本养老保险参保登记" in listing.text
        assert "/guide/new" not in listing.text
        before = kept(db)
        assert client.post("/guide/new", data=item_form(token), follow_redirects=False).status_code == 403
        assert (
            client.post(
                f"/guide/{item_id}", data=item_form(token, name="改"), follow_redirects=False
            ).status_code
            == 403
        )
        assert kept(db) == before
        client.close()
    admin, token = signed_in(app, make.user("admin"))
    assert (
        admin.post(
            f"/guide/{item_id}", data=item_form(token, name="参保登记"), follow_redirects=False
        ).status_code
        == 303
    )
    admin.close()


def test_the_list_searches_by_name_and_category_and_answers_htmx_with_the_fragment(
    staff: tuple[TestClient, str],
) -> None:
    client, token = staff
    create(client, token)
    create(client, token, name="最低生活保障申请", category="civil_affairs")
    by_name = client.get("/guide", params={"q": "低保"})
    assert "最低生活保障申请" not in by_name.text  # the name says 最低生活保障, not 低保
    by_name = client.get("/guide", params={"q": "生活保障"})
    assert "最低生活保障申请" in by_name.text and "参保登记" not in by_name.text
    by_category = client.get("/guide", params={"category": "social_security"})
    assert "参保登记" in by_category.text and "最低生活保障申请" not in by_category.text
    fragment = client.get("/guide", params={"q": "生活保障"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "最低生活保障申请" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]


def test_residents_read_the_item_its_qr_card_and_the_communitys_list_without_an_account(
    app: Starlette, staff: tuple[TestClient, str], community: Community
) -> None:
    client, token = staff
    item_id = create(client, token)
    create(client, token, name="最低生活保障申请", category="civil_affairs")
    hidden = create(client, token, name="已停用的事项", active="")
    card = client.get(f"/guide/{item_id}/card").text
    assert "<svg" in card and "居民身份证" in card and f"/s/{item_id}" in card

    with TestClient(app) as resident:
        page = resident.get(f"/s/{item_id}")
        assert page.status_code == 200
        assert "<script" not in page.text.split("</head>")[1]
        for text in ("居民身份证", "原件", "2 份", "社保窗口 3 号", "5 个工作日内办结", "不收费"):
            assert text in page.text
        qr = resident.get(f"/s/{item_id}/qr.svg")
        assert qr.headers["content-type"].startswith("image/svg+xml")
        assert DET.fromstring(qr.content).tag == "{http://www.w3.org/2000/svg}svg"  # an <img> draws it
        listing = resident.get(f"/p/{community.public_token}/guide")
        assert "参保登记" in listing.text and "最低生活保障申请" in listing.text
        assert "已停用的事项" not in listing.text
        civil = resident.get(f"/p/{community.public_token}/guide", params={"category": "civil_affairs"})
        assert "最低生活保障申请" in civil.text and "参保登记" not in civil.text
        assert resident.get(f"/s/{hidden}").status_code == 404
        assert resident.get("/p/nosuchtoken/guide").status_code == 404
        assert resident.get("/guide", follow_redirects=False).status_code in (302, 303)


def test_every_phone_pulls_the_guide_and_an_edit_arrives_as_a_new_version(
    make: Factory, db: Database, sync_phone: Any, community: Community
) -> None:
    item_id = quick_item(db, name="残疾人证办理", category="disability", materials="身份证｜原件")
    grid = make.grid(community)
    phones = [
        sync_phone(make.user(grids=[grid])),
        sync_phone(make.user("community_staff", community=community)),
        sync_phone(make.user("department")),
    ]
    for phone in phones:
        phone.pull()
        data = phone.records("service_item")[item_id]
        assert (data["name"], data["category"], data["revision"]) == ("残疾人证办理", "disability", 1)
        assert data["materials"] == [{"name": "身份证", "form": "original", "count": 1, "note": ""}]
        assert "field_versions" not in data
    first = phones[0].records("service_item")[item_id]["version"]
    with db.write() as s:
        service_items.update_service_item(
            s,
            actor=None,
            item_id=item_id,
            fields=service_items.ItemFields(
                name="残疾人证办理", category="disability", materials="身份证｜原件\n户口簿"
            ),
        )
    phones[0].pull()
    changed = phones[0].records("service_item")[item_id]
    assert changed["version"] > first and changed["revision"] == 2 and len(changed["materials"]) == 2


def test_a_visit_records_the_items_explained_at_the_door(
    make: Factory, db: Database, sync_phone: Any, community: Community
) -> None:
    item_id = quick_item(db, name="高龄津贴申领", category="elderly", materials="身份证")
    grid = make.grid(community)
    household = make.household(grid)
    phone = sync_phone(make.user(grids=[grid]))
    args = {"household_id": str(household.id), "purpose": "service", "outcome": "completed"}
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    phone.queue("visit.record", {**args, "visit_id": good, "explained_items": [item_id, item_id]})
    phone.queue("visit.record", {**args, "visit_id": bad, "explained_items": [str(uuid.uuid4())]})
    result = phone.push()
    assert result is not None
    statuses = [(r["status"], r.get("code")) for r in result["results"]]
    assert statuses == [("applied", None), ("rejected", "invalid_args")]
    assert "讲解的办事事项：有事项不存在或已删除。" in result["results"][1]["message"]
    with db.read() as s:
        visits = {str(v.id): v for v in s.exec(select(Visit))}
    assert list(visits) == [good]
    assert visits[good].explained_items == [item_id]
    phone.pull()
    assert phone.records("visit")[good]["explained_items"] == [item_id]
