"""The service guide at the door (issue 24): offline at 360×740 the worker searches it, shows an
item's materials and QR, and the visit records what was explained; residents read the item's
public page with JavaScript off."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext
from sqlmodel import select

from server.commands import service_items
from server.db import Database
from server.models import AssistedApplication, ServiceItem, User, Visit
from tests import test_assisted
from tests.browser.conftest import PHONE, overflow, screenshot, watch_console
from tests.browser.conftest import sign_in as office_sign_in
from tests.browser.field import camera_photo, go_offline, go_online, sign_in, wait_synced
from tests.conftest import Factory
from tests.live import LiveServer
from tests.test_assisted import World
from tests.test_assisted_rating import delivered
from tests.test_service_import import BAD, thirty_items

world = test_assisted.world  # the fixture

pytestmark = pytest.mark.browser

ITEMS = [
    (
        "城乡居民基本养老保险参保登记",
        "social_security",
        "居民身份证｜原件｜1份｜核对后退回\n户口簿｜复印件｜1份",
        0,
    ),
    (
        "高龄津贴申领",
        "elderly",
        "居民身份证｜原件\n户口簿｜复印件\n本人银行卡｜复印件｜1份｜社保卡金融账户也可",
        10,
    ),
    (
        "最低生活保障申请",
        "civil_affairs",
        "居民身份证｜复印件｜2份\n户口簿｜复印件\n家庭收入情况说明｜原件",
        20,
    ),
]


def make_items(db: Database) -> dict[str, ServiceItem]:
    made = {}
    with db.write() as s:
        for name, category, materials, days in ITEMS:
            fields = service_items.ItemFields(
                name=name,
                category=category,
                materials=materials,
                steps="网格员上门收件\n社区初审\n街道审核",
                window="民政窗口",
                address="乐安社区党群服务中心一楼",
                hours="周一至周五 9:00–17:00",
                phone="0794-6581234",
                time_limit_days=str(days),
            )
            made[name] = service_items.create_service_item(s, actor=None, fields=fields)
    return made


def test_offline_the_worker_searches_the_guide_shows_the_qr_and_the_visit_records_it(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    items = make_items(db)
    elderly = items["高龄津贴申领"]
    grid = make.grid(name="芙蓉第二网格")
    home = make.household(grid, estate="鳌溪新村", building="2栋", unit="1单元", room="302室")
    worker = make.user("grid_worker", grids=[grid])

    page = phone.new_page()
    problems = watch_console(page, ignore=("ERR_INTERNET_DISCONNECTED", "Failed to fetch", "net::ERR"))
    sign_in(page, live_server, worker.username)
    go_offline(phone, live_server)
    page.reload()
    page.wait_for_selector("body[data-ready]")
    page.click("#tabbar a[href='#/']")
    page.click("#open-guide")
    page.wait_for_selector("#view[data-screen=guide] #guide-items")
    assert page.locator("#guide-items li").count() == 3
    page.fill("input[name=q]", "津贴")
    page.press("input[name=q]", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#guide-items li').length === 1")
    page.select_option("select[name=category]", "civil_affairs")
    page.click("form[data-form=guide-search] button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#guide-items li').length === 0")
    page.fill("input[name=q]", "")
    page.select_option("select[name=category]", "elderly")
    page.click("form[data-form=guide-search] button[type=submit]")
    page.wait_for_selector(f"#guide-items [data-item='{elderly.id}']")
    assert page.locator("#guide-items li").count() == 1
    screenshot(page, "guide-01-search-offline")
    assert overflow(page) == 0

    page.click(f"#guide-items [data-item='{elderly.id}']")
    page.wait_for_selector("#view[data-screen=guide-item] #guide-materials")
    materials = page.locator("#guide-materials li").all_text_contents()
    assert len(materials) == 3 and "本人银行卡" in materials[2] and "社保卡金融账户也可" in materials[2]
    assert "10 个工作日内办结" in (page.text_content("#view") or "")
    page.click("#guide-qr summary")
    page.wait_for_selector("#guide-qr svg.qr path")
    assert page.locator("#guide-qr svg.qr").get_attribute("aria-label") == "高龄津贴申领的二维码"
    screenshot(page, "guide-02-item-qr-offline")
    assert overflow(page) == 0

    base = page.url.split("#")[0]
    page.goto(base + f"#/h/{home.id}/visit?purpose=service")
    page.wait_for_selector("#explained-items")
    assert page.is_checked(f"#explained-items input[value='{elderly.id}']")
    page.fill("textarea[name=notes]", "讲了高龄津贴要带的材料")
    screenshot(page, "guide-03-visit-explained")
    page.click("form[data-form=visit] button[type=submit]")
    page.wait_for_selector("[data-visit] [data-explained='1']")
    go_online(phone, live_server)
    wait_synced(page)
    with db.read() as s:
        visit = s.exec(select(Visit).where(Visit.household_id == home.id)).one()
    assert (visit.purpose, visit.explained_items) == ("service", [str(elderly.id)])
    assert problems == []


def test_the_public_item_page_opened_from_its_qr_reads_without_javascript(
    live_server: LiveServer, browser: Browser, make: Factory, db: Database
) -> None:
    items = make_items(db)
    elderly = items["高龄津贴申领"]
    community = make.community(name="乐安社区")
    resident = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = resident.new_page()
        page.goto(f"{live_server.url}/s/{elderly.id}")
        assert page.text_content("h1") == "高龄津贴申领"
        text = page.text_content("main") or ""
        for words in ("本人银行卡", "复印件", "民政窗口", "10 个工作日内办结", "0794-6581234"):
            assert words in text
        assert overflow(page) == 0
        screenshot(page, "guide-04-public-item-no-js")
        page.goto(f"{live_server.url}/p/{community.public_token}/guide")
        page.click("nav.tabs a:has-text('老龄')")
        assert page.locator("main .list li").count() == 1
        page.click("main .list a")
        assert page.text_content("h1") == "高龄津贴申领"
        screenshot(page, "guide-05-public-list-no-js")
    finally:
        resident.close()


def test_an_assisted_application_from_the_door_to_delivery(
    live_server: LiveServer, phone: BrowserContext, desktop: BrowserContext, make: Factory, db: Database
) -> None:
    items = make_items(db)
    pension = items["城乡居民基本养老保险参保登记"]
    grid = make.grid(name="芙蓉第二网格")
    home = make.household(grid, estate="鳌溪新村", building="2栋", unit="1单元", room="302室")
    make.resident(home, name="罗桂英", relation="head")
    worker = make.user("grid_worker", grids=[grid])
    staff = make.user("community_staff")

    page = phone.new_page()
    problems = watch_console(page, ignore=("ERR_INTERNET_DISCONNECTED", "Failed to fetch", "net::ERR"))
    sign_in(page, live_server, worker.username)
    go_offline(phone, live_server)
    base = page.url.split("#")[0]
    page.goto(base + f"#/h/{home.id}")
    page.click(f"[data-guide-for='{home.id}']")
    page.wait_for_selector("#guide-for-household")
    page.fill("input[name=q]", "养老保险")
    page.press("input[name=q]", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#guide-items li').length === 1")
    page.click(f"#guide-items [data-item='{pension.id}']")
    page.click("#guide-qr summary")
    page.wait_for_selector("#guide-qr svg.qr path")
    page.click("#start-assisted")
    page.wait_for_selector("form[data-form=assisted-start]")
    assert page.locator("select[name=resident_id] option").all_text_contents() == ["罗桂英"]
    page.check("#assisted-materials input[value='0']")
    page.check("#assisted-materials input[value='1']")
    for size in (640, 700):
        page.set_input_files("input[data-photo=assisted-photos]", camera_photo(size))  # type: ignore[arg-type]
    page.wait_for_function(
        "() => document.querySelectorAll('#assisted-photos input[type=hidden]').length === 2"
    )
    page.click("form[data-form=assisted-start] button[type=submit]")  # no consent yet: refused on the phone
    page.wait_for_selector("form[data-form=assisted-start] .field-error")
    page.check("input[name=consent]")
    screenshot(page, "assisted-01-start-offline")
    assert overflow(page) == 0
    page.click("form[data-form=assisted-start] button[type=submit]")
    page.wait_for_selector("[data-application][data-status=received]")
    screenshot(page, "assisted-02-received-offline")
    go_online(phone, live_server)
    wait_synced(page)
    with db.read() as s:
        application = s.exec(select(AssistedApplication)).one()
    assert (application.status, application.collected, len(application.photos)) == ("received", [0, 1], 2)
    assert application.consent["consent_version"] == "aa-2026-01" and application.item_revision == 1

    office = desktop.new_page()
    office_sign_in(office, live_server, staff.username, next="/assisted")
    office.click(f"[data-application='{application.id}']")
    office.click("form[data-step=submit] button[type=submit]")
    office.wait_for_selector("#assisted-status[data-status=submitted]")
    office.fill("form[data-step=complete] textarea[name=result]", "已参保，社保卡下月寄到社区")
    office.click("form[data-step=complete] button[type=submit]")
    office.wait_for_selector("#assisted-status[data-status=completed]")
    screenshot(office, "assisted-03-office-completed")

    page.click("#syncstate")  # sync now
    wait_synced(page)
    page.goto(base + "#/assisted")
    page.wait_for_selector(f"#to-deliver [data-application='{application.id}']", timeout=20_000)
    page.click(f"#to-deliver [data-application='{application.id}']")
    page.fill("form[data-step=deliver] textarea[name=note]", "社保卡回执送到家")
    page.click("form[data-step=deliver] button[type=submit]")
    page.wait_for_selector("[data-application][data-status=delivered]")
    wait_synced(page)
    with db.read() as s:
        done = s.get(AssistedApplication, application.id)
    assert done is not None and done.status == "delivered"
    assert [h["kind"] for h in done.history] == ["create", "submit", "complete", "deliver"]
    screenshot(page, "assisted-04-delivered")
    assert problems == []


def test_staff_keep_the_guide_on_a_small_screen_and_print_its_card(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database
) -> None:
    make_items(db)
    staff = make.user("community_staff", community=make.community(name="乐安社区"))
    page = phone.new_page()
    office_sign_in(page, live_server, staff.username, next="/guide")
    assert page.locator("#results li").count() == 3
    screenshot(page, "guide-06-office-list")
    assert overflow(page) == 0
    page.click("a[href='/guide/new']")
    page.fill("input[name=name]", "居住证签注")
    page.select_option("select[name=category]", "household_registration")
    page.fill("textarea[name=materials]", "居住证｜扫描件")
    page.fill("input[name=time_limit_days]", "3")
    page.click("form[action='/guide/new'] button[type=submit]")
    assert "请写“原件”或“复印件”" in (page.text_content("#materials-error") or "")
    screenshot(page, "guide-07-office-refused")
    assert overflow(page) == 0
    page.fill("textarea[name=materials]", "居住证｜原件\n近期一寸照片｜原件｜1份")
    page.click("form[action='/guide/new'] button[type=submit]")
    page.wait_for_selector("p.notice")
    assert "第 1 版" in (page.text_content("main") or "")
    page.click("a[href$='/card']")
    page.wait_for_selector(".guide-card svg.qr")
    screenshot(page, "guide-08-card")
    assert overflow(page) == 0


def test_staff_load_the_guide_from_a_workbook_on_a_small_screen(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database, tmp_path: Path
) -> None:
    staff = make.user("community_staff", community=make.community(name="乐安社区"))
    page = phone.new_page()
    office_sign_in(page, live_server, staff.username, next="/guide")
    page.wait_for_selector("form[action='/guide/import']")
    screenshot(page, "guide-09-import-form")
    assert overflow(page) == 0
    page.set_input_files(
        "form[action='/guide/import'] input[type=file]", str(thirty_items(tmp_path / "清单.xlsx"))
    )
    page.click("form[action='/guide/import'] button[type=submit]")
    page.wait_for_selector("p.notice")
    assert "新增 25 项" in (page.text_content("p.notice") or "")
    assert page.locator("tbody tr").count() == len(BAD)
    screenshot(page, "guide-10-import-result")
    assert overflow(page) == 0
    with db.read() as s:
        assert len(list(s.exec(select(ServiceItem)))) == 25


def test_the_resident_rates_an_assisted_application_without_javascript_and_staff_answer_the_complaint(
    live_server: LiveServer, browser: Browser, phone: BrowserContext, db: Database, world: World
) -> None:
    application_id = delivered(db, world)
    with db.read() as s:
        application = s.get(AssistedApplication, application_id)
        staff = s.get(User, world.actors["community_staff"].id)
    assert application is not None and staff is not None
    resident = browser.new_context(**PHONE, java_script_enabled=False)
    page = resident.new_page()
    page.goto(f"{live_server.url}/ra/{application.rating_token}")
    screenshot(page, "assisted-05-resident-rates")
    assert overflow(page) == 0
    page.check("input[name=rating][value=dissatisfied]")
    page.fill("textarea[name=comment]", "材料没有一次说清，跑了两趟")
    page.click("button[type=submit]")
    page.wait_for_selector("text=很抱歉")
    resident.close()

    office = phone.new_page()
    office_sign_in(office, live_server, staff.username, next=f"/assisted/{application_id}")
    office.wait_for_selector("form[data-step=rectify]")
    office.fill("form[data-step=rectify] textarea[name=answer]", "已补全一次性告知清单，上门向居民致歉")
    screenshot(office, "assisted-06-complaint")
    assert overflow(office) == 0
    office.click("form[data-step=rectify] button[type=submit]")
    office.wait_for_selector("#assisted-rectification")
    with db.read() as s:
        done = s.get(AssistedApplication, application_id)
    assert done is not None and (done.rating, done.rating_channel) == ("dissatisfied", "resident")
    assert done.rectified_at is not None
