"""The ledger import on the office page in real Chromium (issue 18): upload a messy sheet, see
the dry-run preview, confirm, watch the progress the page polls, download the errors workbook."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import BrowserContext, expect

from server.db import Database
from server.ledger import import_jobs
from server.people.vault import Vault
from tests.browser.conftest import LiveServer, overflow, screenshot, sign_in, watch_console
from tests.conftest import SECRET, Factory
from tests.test_ledger_import import messy_workbook

pytestmark = pytest.mark.browser


def test_staff_upload_a_ledger_confirm_the_preview_and_download_the_refused_rows(
    live_server: LiveServer, desktop: BrowserContext, make: Factory, db: Database, tmp_path: Path
) -> None:
    community = make.community(name="乐安社区", code="lean")
    make.grid(community, name="第一网格", code="g1")
    make.grid(community, name="第二网格", code="g2")
    for code, name in (("alone", "独居老人"), ("dibao", "低保户"), ("disabled", "残疾人")):
        make.tag(code, name=name)
    staff = make.user("community_staff", community=community)
    ledger = messy_workbook(tmp_path / "乐安社区一户一档.xlsx")
    vault = Vault(SECRET)

    page = desktop.new_page()
    errors = watch_console(page, ignore=("/static/icons/icon-192.png",))
    sign_in(page, live_server, staff.username, next="/ledger")
    page.get_by_role("link", name="台账").first.click()
    page.set_input_files("#file", str(ledger))
    page.get_by_role("button", name="上传并检查").click()
    expect(page.locator("#progress")).to_contain_text("检查中")

    assert import_jobs.run_pending(db, vault) == 1  # the job the server would run; the page polls for it
    expect(page.locator("#count-added")).to_have_text("5", timeout=10_000)
    expect(page.locator("#count-refused")).to_have_text("7")
    expect(page.locator("table.errors")).to_contain_text("Excel 存成了数字")
    screenshot(page, "ledger-preview")

    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("#progress")).to_contain_text("导入中")
    import_jobs.run_pending(db, vault)
    expect(page.locator("#progress")).to_contain_text("已完成", timeout=10_000)
    screenshot(page, "ledger-done")

    with page.expect_download() as download:
        page.get_by_role("link", name="下载未导入的行").click()
    saved = tmp_path / "errors.xlsx"
    download.value.save_as(saved)
    book = load_workbook(saved, read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert rows[0][-2:] == ["行号", "原因"] and [r[-2] for r in rows[1:]] == list(range(7, 14))
    assert overflow(page) == 0 and errors == []
