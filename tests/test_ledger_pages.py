"""The office page of the ledger import (issue 18): upload, the dry-run preview, confirm, the
progress a page polls, the errors workbook; and a job that dies mid-import is resumed."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import select
from starlette.testclient import TestClient

from server.db import Database
from server.ledger import import_jobs, imports
from server.models import AuditLog, Household, LedgerImport, Resident
from server.people.vault import Vault
from server.web.limits import SIGNED_IN, cap_for
from tests.conftest import Factory, login
from tests.ledger_files import xlsx
from tests.test_ledger_import import SHUFFLED, messy_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def staff(make: Factory) -> Any:
    community = make.community(name="乐安社区", code="lean")
    make.grid(community, name="第一网格", code="g1")
    make.grid(community, name="第二网格", code="g2")
    for code, name in (("alone", "独居老人"), ("dibao", "低保户"), ("disabled", "残疾人")):
        make.tag(code, name=name)
    return make.user("community_staff", community=community)


def upload(client: TestClient, csrf: str, name: str, content: bytes) -> str:
    response = client.post(
        "/ledger/imports",
        data={"csrf_token": csrf},
        files={"file": (name, content, XLSX)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_upload_preview_confirm_progress_and_the_errors_workbook(
    client: TestClient, db: Database, vault: Vault, staff: Any, tmp_path: Any
) -> None:
    csrf = login(client, staff)["csrf_token"]
    page = client.get("/ledger")
    assert page.status_code == 200 and "/ledger/template.xlsx" in page.text
    template = client.get("/ledger/template.xlsx")
    assert template.headers["content-type"] == XLSX
    header = sheet_rows_of(template.content)[0]
    assert header[:3] == ["社区", "网格", "小区"] and "身份证号" in header

    where = upload(client, csrf, "乐安台账.xlsx", messy_workbook(tmp_path / "a.xlsx").read_bytes())
    waiting = client.get(where)
    assert "检查中" in waiting.text and 'hx-trigger="every 1s"' in waiting.text
    polled = client.get(where, headers={"HX-Request": "true"})
    assert polled.text.lstrip().startswith('<section id="progress"')  # only the block the page swaps

    assert import_jobs.run_pending(db, vault) == 1
    preview = client.get(where).text
    assert "确认导入" in client.get(where, headers={"HX-Request": "true"}).text  # the polled block alone
    assert "待确认" in preview and "every 1s" not in preview
    # no one else holds 王五's number here: 5 rows go in, 7 are refused
    assert '<dd id="count-added">5</dd>' in preview and '<dd id="count-refused">7</dd>' in preview
    assert "Excel 存成了数字" in preview and "确认导入" in preview
    assert count(db, Resident) == 0 and count(db, Household) == 0  # the dry run wrote nothing

    confirmed = client.post(f"{where}/confirm", data={"csrf_token": csrf}, follow_redirects=False)
    assert confirmed.status_code == 303
    assert "导入中" in client.get(where).text
    assert import_jobs.run_pending(db, vault) == 1
    done = client.get(where).text
    assert "已完成" in done and '<dd id="count-added">5</dd>' in done and "errors.xlsx" in done
    assert count(db, Resident) == 5 and count(db, Household) == 3

    errors = client.get(f"{where}/errors.xlsx")
    assert errors.status_code == 200 and "errors.xlsx" in errors.headers["content-disposition"]
    rows = sheet_rows_of(errors.content)
    assert rows[0] == [*SHUFFLED, "行号", "原因"] and [r[-2] for r in rows[1:]] == list(range(7, 14))
    assert client.post(f"{where}/confirm", data={"csrf_token": csrf}).status_code == 409
    with db.read() as session:
        assert session.exec(select(func.count()).where(AuditLog.action == "import_households")).one() == 1


def test_a_file_that_cannot_be_read_fails_with_the_reason_and_others_communities_imports_are_404(
    client: TestClient, db: Database, vault: Vault, staff: Any, make: Factory
) -> None:
    csrf = login(client, staff)["csrf_token"]
    where = upload(client, csrf, "旧台账.xls", b"\xd0\xcf\x11\xe0 old excel")
    import_jobs.run_pending(db, vault)
    page = client.get(where).text
    assert "无法导入" in page and "另存为" in page and "确认导入" not in page
    other = make.user("community_staff", community=make.community(name="城东社区", code="east"))
    with TestClient(client.app) as stranger:
        login(stranger, other)
        assert stranger.get(where).status_code == 404
        assert stranger.get(f"{where}/errors.xlsx").status_code == 404


def test_an_import_that_dies_mid_way_is_resumed_and_never_leaves_half_a_household(
    client: TestClient, db: Database, vault: Vault, staff: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    csrf = login(client, staff)["csrf_token"]
    rows = [
        [
            "第一网格",
            "幸福小区",
            f"{h}栋",
            "1单元",
            "101",
            "户籍",
            f"居民{h}-{m}",
            "户主" if m == 0 else "子女",
            "",
            "",
            "",
            "",
        ]
        for h in range(1, 8)
        for m in range(3)
    ]
    where = upload(client, csrf, "七户.xlsx", xlsx(tmp_path / "seven.xlsx", rows).read_bytes())
    import_jobs.run_pending(db, vault, batch_size=2)
    client.post(f"{where}/confirm", data={"csrf_token": csrf})

    real_write = imports._Writer.write
    batches = 0

    def dies_in_the_third_batch(self: Any, batch: Any) -> None:
        nonlocal batches
        batches += 1
        real_write(self, batch)
        if batches == 3:
            raise SystemExit("the server is killed mid-batch")

    monkeypatch.setattr(imports._Writer, "write", dies_in_the_third_batch)
    with pytest.raises(SystemExit):
        import_jobs.run_pending(db, vault, batch_size=2)
    monkeypatch.setattr(imports._Writer, "write", real_write)

    with db.read() as session:
        job = session.exec(select(LedgerImport)).one()
        assert (job.status, job.households_done, job.rows_done) == ("importing", 4, 12)
        sizes = session.exec(select(func.count()).select_from(Resident).group_by(Resident.household_id)).all()
    assert sorted(sizes) == [3, 3, 3, 3]  # two whole batches; the third left nothing behind

    assert import_jobs.run_pending(db, vault, batch_size=2) == 0  # its lease has not lapsed yet
    with db.write() as session:
        session.exec(select(LedgerImport)).one().claimed_until = None  # … now it has
    assert import_jobs.run_pending(db, vault, batch_size=2) == 1
    with db.read() as session:
        job = session.exec(select(LedgerImport)).one()
        sizes = session.exec(select(func.count()).select_from(Resident).group_by(Resident.household_id)).all()
    assert job.status == "done" and job.counts["added"] == 21 and job.counts["households_added"] == 7
    assert sorted(sizes) == [3] * 7


def test_the_upload_route_may_send_a_countys_ledger() -> None:
    signed_in = {"type": "http", "path": "/ledger/imports", "user_session": object(), "headers": []}
    assert cap_for(signed_in) == 40 * 1024 * 1024 > SIGNED_IN
    assert cap_for({**signed_in, "path": "/households"}) == SIGNED_IN


def sheet_rows_of(content: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
