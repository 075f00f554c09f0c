"""议事 at the table (issue 21): a meeting's agenda, attendance and minutes taken on a laptop with
htmx, three topics decided three ways; the printed 会议纪要; the community's 公示 page and a
resident's own answer on a 360×740 phone (screenshots to look at)."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext
from sqlmodel import select

from server.commands import topics as commands
from server.db import Database
from server.models import Community, Demand, Opinion, Topic
from tests.browser.conftest import overflow, screenshot, sign_in, watch_console
from tests.browser.test_accessibility import violations
from tests.conftest import Factory
from tests.live import LiveServer

pytestmark = pytest.mark.browser


def test_a_tea_meeting_decides_three_topics_and_residents_read_the_decisions(
    live_server: LiveServer, desktop: BrowserContext, phone: BrowserContext, make: Factory, db: Database
) -> None:
    grid = make.grid(name="芙蓉第一网格")
    homes = [make.household(grid, estate="芙蓉花园", building=f"{n}栋") for n in (5, 6)]
    make.department(name="县住建局")
    staff = make.user("community_staff", community=make.defaults["community"])
    worker = make.user("grid_worker", grids=[grid])
    titles = ("建电动车充电棚", "东门路灯不亮", "广场舞音乐太响")
    with db.write() as session:
        for title in titles:
            topic = commands.create_topic(session, actor=make.actor(staff), data={"title": title})
            for home, stance in zip(homes, ("for", "conditional"), strict=True):
                commands.record_opinion(
                    session,
                    actor=make.actor(worker),
                    data={"topic_id": str(topic.id), "household_id": str(home.id), "stance": stance},
                )
        community = session.get(Community, make.defaults["community"].id)
        assert community is not None
        token = community.public_token

    page = desktop.new_page()
    problems = watch_console(page)
    sign_in(page, live_server, staff.username, next="/topics")
    found = {"topics": violations(page)}
    meeting = page.locator("form[action='/meetings']")
    meeting.locator("select[name=kind]").select_option("tea")
    meeting.locator("input[name=title]").fill("十二月书记下午茶")
    meeting.locator("input[name=starts_at]").fill("2026-12-03T15:00")
    meeting.locator("input[name=place]").fill("芙蓉社区党群服务中心")
    page.click("form[action='/meetings'] button[type=submit]")
    page.wait_for_selector("[data-agenda]")
    for title in titles:
        page.select_option("#agenda select[name=topic_id]", label=title)
        page.click("#agenda form[action$='/agenda'] button[type=submit]")
        page.wait_for_function(
            f"() => document.querySelectorAll('[data-item]').length >= {titles.index(title) + 1}"
        )
    rows = page.locator("[data-attendance] tbody tr")
    rows.nth(0).locator("select").select_option("secretary")
    rows.nth(0).locator("input[name=name]").fill("刘书记")
    rows.nth(0).locator("input[name=present]").check()
    rows.nth(1).locator("select").select_option("department")
    rows.nth(1).locator("input[name=name]").fill("县住建局")
    rows.nth(1).locator("input[name=present]").check()
    page.click("[data-attendance] button[type=submit]")
    page.wait_for_selector("[data-attendance] input[value='县住建局']")
    assert "赞成 1" in (page.text_content("[data-item] [data-tally]") or "")
    screenshot(page, "topic-agenda")
    found["meeting"] = violations(page)
    agenda_url = page.url
    page.click("text=打印会议通知")
    page.wait_for_selector("[data-notice]")
    assert page.locator("[data-notice] svg.qr").count() == 4  # one per open topic, one for the 公示 page
    screenshot(page, "topic-notice")
    found["notice"] = violations(page)
    page.goto(agenda_url)
    page.wait_for_selector("[data-agenda]")

    outcomes = (
        ("department", "县住建局在5栋、6栋之间建充电棚"),
        ("resolved", "物业当场答应三天内换灯"),
        ("rejected", "已有广场活动管理规定"),
    )
    with db.read() as session:
        ids = {t.title: str(t.id) for t in session.exec(select(Topic)).all()}
    for title, (result, note) in zip(titles, outcomes, strict=True):
        form = page.locator(f"form[data-minute='{ids[title]}']")
        form.locator("textarea[name=minutes]").fill(f"{title}：大家发言记录")
        form.locator("select[name=result]").select_option(result)
        form.locator("textarea[name=note]").fill(note)
        if result == "department":
            form.locator("details.refer summary").click()
            form.locator("select[name=department_id]").select_option(label="县住建局")
        form.locator("button[type=submit]").click()
        page.wait_for_selector(f"[data-item='{ids[title]}'] [data-result='{result}']")
    page.click("form[action$='/close'] button[type=submit]")
    page.wait_for_selector("text=已召开")
    page.click("text=打印会议纪要")
    page.wait_for_selector("[data-minutes]")
    page.emulate_media(media="print")
    assert page.is_hidden(".topbar")
    screenshot(page, "topic-minutes-print")
    found["minutes"] = violations(page)
    assert page.locator(".minutes-item").count() == 3
    assert problems == []
    with db.read() as session:
        (demand,) = session.exec(select(Demand)).all()
    assert (demand.status, demand.source) == ("transferred", "meeting")

    resident = phone.new_page()
    resident.goto(f"{live_server.url}/p/{token}/topics")
    resident.wait_for_selector("[data-decided]")
    text = resident.text_content("main") or ""
    assert "县住建局在5栋、6栋之间建充电棚" in text and "物业当场答应三天内换灯" in text
    assert "广场舞音乐太响" not in text and "刘书记" not in text and staff.display_name not in text
    assert overflow(resident) == 0
    screenshot(resident, "topic-public")
    found["public"] = violations(resident)

    # A resident answers an open topic through its link, counted apart from the door.
    with db.write() as session:
        canteen = commands.create_topic(session, actor=make.actor(staff), data={"title": "办老年食堂"})
    resident.goto(f"{live_server.url}/p/{token}/topics/{canteen.id}")
    resident.check("input[name=stance][value=conditional]")
    resident.fill("textarea[name=comment]", "价格要实惠")
    screenshot(resident, "topic-public-opinion")
    found["opinion link"] = violations(resident)
    assert {k: v for k, v in found.items() if v} == {}
    resident.click("form button[type=submit]")
    resident.wait_for_selector("[data-done]")
    with db.read() as session:
        (answer,) = session.exec(select(Opinion).where(Opinion.topic_id == canteen.id)).all()
    assert (answer.channel, answer.stance, answer.household_id) == ("resident", "conditional", None)
