"""The request pages in real Chromium: the dashboard, a request's timeline, the triage queue and
the residents' public page, on a 360×740 phone and on a desktop (screenshots to look at)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlmodel import select

from server.access import Actor
from server.auth import actor_for
from server.commands import demands as dm
from server.db import Database
from server.models import Community, Demand, Department, Grid, User, utcnow
from server.web.pages import STATIC
from tests.browser.conftest import LiveServer, overflow, screenshot, sign_in, watch_console
from tests.conftest import Factory
from tests.test_dashboard import h, put, weeks

pytestmark = pytest.mark.browser

ICON = "/static/icons/icon-192.png"
NOT_YET_THERE = () if (STATIC / ICON.removeprefix("/static/")).exists() else (ICON,)


@dataclass
class Office:
    community: Community
    staff: User
    timeline: Demand


def _actor(db: Database, user: User) -> Actor:
    with db.read() as s:
        return actor_for(s, user)


@pytest.fixture
def office(make: Factory, db: Database) -> Office:
    grids = [
        make.grid(name="芙蓉一网格", code="g1", lat=27.43, lng=115.83),
        make.grid(name="芙蓉二网格", code="g2", lat=27.44, lng=115.84),
        make.grid(name="芙蓉三网格", code="g3", lat=27.45, lng=115.85),
    ]
    departments = [make.department(name="乐安县住房和城乡建设局"), make.department(name="乐安县民政局")]
    with db.read() as s:
        community = s.get(Community, grids[0].community_id)
        assert community is not None
    staff = make.user("community_staff")
    worker = make.user("grid_worker", grids=[grids[0]])
    department_user = make.user("department", department=departments[0])
    history(db, community, grids, departments)

    home = make.household(grids[0], estate="芙蓉小区", building="3栋", unit="2单元", room="301室")
    office, field, dept = _actor(db, staff), _actor(db, worker), _actor(db, department_user)
    demand_id = str(uuid.uuid4())
    ref = {"demand_id": demand_id}
    with db.write() as s:
        dm.create_demand(
            s,
            actor=field,
            data={
                **ref,
                "household_id": str(home.id),
                "field": "infrastructure",
                "description": "3栋楼道的声控灯坏了一个多月，老人晚上上下楼看不见，担心摔倒。",
                "source": "visit",
                "contact_name": "詹民华",
                "contact_phone": "13907941234",
            },
        )
    steps = [
        (
            dm.dispatch_demand,
            office,
            {"grid_id": str(grids[0].id), "handling_type": "self", "priority": "urgent"},
        ),
        (dm.accept_demand, field, {}),
        (dm.progress_demand, field, {"note": "已上门查看，是线路老化，需要住建部门更换。"}),
        (
            dm.transfer_demand,
            office,
            {"department_id": str(departments[0].id), "note": "超出社区维修能力，转交住建局。"},
        ),
        (dm.resolve_demand, dept, {"note": "已更换整栋楼道线路和声控灯。"}),
        (dm.rate_demand, field, {"rating": "dissatisfied", "comment": "二楼的灯还是不亮"}),
        (dm.progress_demand, dept, {"note": "安排电工复查二楼开关。"}),
    ]
    for command, actor, args in steps:
        with db.write() as s:
            command(s, actor=actor, data={**ref, **args})
    with db.read() as s:
        timeline = s.get(Demand, uuid.UUID(demand_id))
        assert timeline is not None
    return Office(community, staff, timeline)


def history(db: Database, community: Community, grids: list[Grid], departments: list[Department]) -> None:
    """Twelve weeks of requests in every state, so the charts have something to show."""
    fields = ("property", "elderly_care", "infrastructure", "environment", "dispute")
    texts = (
        ("电梯三天两头停运，物业说在等配件。", "芙蓉小区5栋"),
        ("独居的母亲腿脚不便，想申请助餐服务。", "芙蓉小区2栋"),
        ("小区门口的井盖松动，走过去会响。", "桂花苑东门"),
        ("垃圾桶每天傍晚就满了，气味很大。", "芙蓉小区北门"),
        ("楼上装修天天到晚上十点，协商不成。", "桂花苑7栋"),
    )
    plan = [
        ("closed", 11, "satisfied"),
        ("closed", 10, "satisfied"),
        ("closed", 10, "basically_satisfied"),
        ("closed", 9, "satisfied"),
        ("closed", 8, "satisfied"),
        ("closed", 8, "dissatisfied"),
        ("closed", 7, "satisfied"),
        ("resolved", 6, None),
        ("closed", 6, "satisfied"),
        ("closed", 5, "basically_satisfied"),
        ("replied", 4, None),
        ("closed", 4, "satisfied"),
        ("resolved", 3, None),
        ("rectifying", 3, "dissatisfied"),
        ("in_progress", 2, None),
        ("accepted", 2, None),
        ("transferred", 1, None),
        ("dispatched", 1, None),
        ("dispatched", 0, None),
        ("submitted", 0, None),
        ("submitted", 0, None),
    ]
    today = utcnow()  # the page counts from the real clock
    for n, (status, ago, rating) in enumerate(plan):
        created = today - weeks(ago) - h(30 + n)
        answered = status in ("closed", "resolved", "replied")
        routed = status != "submitted"
        put(
            db,
            community,
            status=status,
            field=fields[n % len(fields)],
            description=texts[n % len(texts)][0],
            address=texts[n % len(texts)][1],
            created=created,
            grid=grids[n % len(grids)] if routed else None,
            department=departments[n % 2] if status == "transferred" else None,
            dispatched=h(1 + n % 3) if routed else None,
            accepted=h(3 + n % 5) if routed and status not in ("dispatched", "transferred") else None,
            resolved=h(20 + 7 * (n % 6)) if answered else None,
            deadline=(today - h(5) if n % 2 else today + h(12)) if routed and not answered else None,
            rating=rating if status in ("closed", "rectifying") else None,
        )


def look(page: Page, server: LiveServer, path: str, name: str) -> None:
    page.goto(f"{server.url}{path}")
    screenshot(page, name)
    assert overflow(page) == 0, f"{name} is wider than the screen"


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_dashboard_and_timeline(
    device: str, request: pytest.FixtureRequest, live_server: LiveServer, office: Office
) -> None:
    context: BrowserContext = request.getfixturevalue(device)
    page = context.new_page()
    problems = watch_console(page, ignore=NOT_YET_THERE)
    sign_in(page, live_server, office.staff.username, next="/demands/dashboard")

    look(page, live_server, "/demands/dashboard", f"demands-dashboard-{device}")
    expect(page.locator("svg.chart")).to_have_count(6)  # with the care-visit coverage per grid
    expect(page.locator(".figures").first).to_contain_text("满意率")
    width = page.locator("svg.chart").first.bounding_box()
    assert width is not None and width["width"] <= page.viewport_size["width"]  # type: ignore[index]

    look(page, live_server, f"/demands/{office.timeline.id}", f"demands-timeline-{device}")
    expect(page.locator(".timeline li")).to_have_count(8)
    expect(page.locator(".demand-card")).to_contain_text("差评整改")
    expect(page.locator(".demand-card")).to_contain_text("139****1234")

    look(page, live_server, "/demands", f"demands-triage-{device}")
    expect(page.locator(".demands li .suggest").first).to_contain_text("建议派给：芙蓉一网格")

    look(page, live_server, "/demands?view=overdue", f"demands-overdue-{device}")
    look(page, live_server, "/demands/qr", f"demands-qr-{device}")
    assert problems == []


def test_the_public_page_on_a_phone(
    phone: BrowserContext, live_server: LiveServer, office: Office, db: Database
) -> None:
    page = phone.new_page()
    problems = watch_console(page, ignore=NOT_YET_THERE)
    look(page, live_server, f"/p/{office.community.public_token}", "demands-public-phone")
    page.get_by_label("是哪方面的事？").select_option("environment")
    page.get_by_label("请说说是什么事").fill("小区东门垃圾桶每天傍晚就满了，能不能多收一次？")
    page.get_by_label("手机或座机").fill("13907941234")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/thanks**")
    expect(page.locator("h1")).to_have_text("谢谢，我们已收到您的诉求")
    screenshot(page, "demands-public-thanks-phone")
    assert overflow(page) == 0
    assert problems == []
    with db.read() as s:
        sources = set(s.exec(select(Demand.source).where(Demand.status == "submitted")))
    assert "public" in sources


def test_a_triaged_request_is_dispatched_from_the_phone(
    phone: BrowserContext, live_server: LiveServer, office: Office, db: Database, make: Factory
) -> None:
    page = phone.new_page()
    problems = watch_console(page, ignore=NOT_YET_THERE)
    sign_in(page, live_server, office.staff.username, next="/demands")
    page.locator(".demands li a").first.click()
    page.wait_for_url("**/demands/*")
    expect(page.locator("details.step-dispatch")).to_have_attribute("open", "")
    screenshot(page, "demands-dispatch-form-phone")
    page.get_by_text("受理自办类").click()
    page.locator("details.step-dispatch button[type=submit]").click()
    page.wait_for_url("**done=dispatch")
    expect(page.locator(".notice")).to_contain_text("已保存：派单。")
    expect(page.locator(".demand-card")).to_contain_text("已派单")
    assert problems == []
