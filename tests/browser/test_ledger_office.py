"""The ledger import on the office page in real Chromium at 360×740 (issue 18): upload a messy
sheet, see the dry-run preview, confirm, watch the progress the page polls (an import stopped
part-way, as by a restart, then resumed), download the errors workbook. Screenshots in
artifacts/screenshots/ledger-*.png."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import BrowserContext, expect
from sqlmodel import select

from server.db import Database
from server.ledger import import_jobs
from server.models import LedgerImport, utcnow
from server.people.vault import Vault
from tests.browser.conftest import LiveServer, overflow, screenshot, sign_in, watch_console
from tests.conftest import SECRET, Factory
from tests.ledger_files import xlsx
from tests.test_ledger_import import SHUFFLED, messy_rows, row

pytestmark = pytest.mark.browser

EXTRA = 300  # one-person households after the messy rows: an import long enough to watch


def ledger(path: Path) -> Path:
    extra = [
        row(name=f"居民{n}", grid="第二网格", estate="和平小区", building=f"{n // 20 + 1}栋", room=f"{n % 20 + 1}")
        for n in range(EXTRA)
    ]  # fmt: skip
    return xlsx(path, [*messy_rows(), *extra], header=SHUFFLED, above=[["乐安社区一户一档"], []])


def test_staff_upload_a_ledger_confirm_the_preview_watch_it_and_download_the_refused_rows(
    live_server: LiveServer, phone: BrowserContext, make: Factory, db: Database, tmp_path: Path
) -> None:
    community = make.community(name="乐安社区", code="lean")
    make.grid(community, name="第一网格", code="g1")
    make.grid(community, name="第二网格", code="g2")
    for code, name in (("alone", "独居老人"), ("dibao", "低保户"), ("disabled", "残疾人")):
        make.tag(code, name=name)
    staff = make.user("community_staff", community=community)
    vault = Vault(SECRET)
    added = 5 + EXTRA

    page = phone.new_page()
    errors = watch_console(page, ignore=("/static/icons/icon-192.png",))
    sign_in(page, live_server, staff.username, next="/ledger")
    page.set_input_files("#file", str(ledger(tmp_path / "乐安社区一户一档.xlsx")))
    screenshot(page, "ledger-upload")
    page.get_by_role("button", name="上传并检查").click()
    expect(page.locator("#progress")).to_contain_text("检查中")

    assert import_jobs.run_pending(db, vault) == 1  # the job the server would run; the page polls for it
    expect(page.locator("#count-added")).to_have_text(str(added), timeout=10_000)
    expect(page.locator("#count-refused")).to_have_text("7")
    expect(page.locator("table.errors")).to_contain_text("Excel 存成了数字")
    assert page.locator("#count-updated").inner_text() == "0"
    screenshot(page, "ledger-preview")

    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("#progress")).to_contain_text("导入中")

    # A runner writes one household a batch; part-way, another runner takes the job's lease
    # (as after a restart), so this one stops before its next batch and the page shows an
    # import half done, then finished once the lease lapses and a runner resumes it.
    runner = threading.Thread(target=lambda: import_jobs.run_pending(db, vault, batch_size=1))
    runner.start()
    with db.read() as session:
        job_id = session.exec(select(LedgerImport.id)).one()
    while runner.is_alive():
        with db.write() as session:
            job = session.get(LedgerImport, job_id)
            assert job is not None
            if job.households_done >= 20:
                job.claimed_until = utcnow() + import_jobs.LEASE
                break
        time.sleep(0.02)
    runner.join(timeout=60)
    with db.read() as session:
        job = session.get(LedgerImport, job_id)
        assert job is not None and job.status == "importing"
        done, total = job.rows_done, job.rows_total
    assert 0 < done < total == added
    expect(page.locator("#progress")).to_contain_text(f"{done} / {total} 行", timeout=10_000)
    percent = 100 * done // total
    assert page.locator("#progress progress").get_attribute("value") == str(percent)
    screenshot(page, "ledger-progress")

    with db.write() as session:
        job = session.get(LedgerImport, job_id)
        assert job is not None
        job.claimed_until = None  # the other runner's lease lapsed
    assert import_jobs.run_pending(db, vault) == 1
    expect(page.locator("#progress")).to_contain_text("已完成", timeout=10_000)
    expect(page.locator("#count-added")).to_have_text(str(added))
    screenshot(page, "ledger-done")

    with page.expect_download() as download:
        page.get_by_role("link", name="下载未导入的行").click()
    saved = tmp_path / "errors.xlsx"
    download.value.save_as(saved)
    book = load_workbook(saved, read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    assert rows[0] == [*SHUFFLED, "行号", "原因"] and [r[-2] for r in rows[1:]] == list(range(7, 14))
    assert "Excel 存成了数字" in rows[1][-1]
    assert overflow(page) == 0 and errors == []
