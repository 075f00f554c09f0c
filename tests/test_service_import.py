"""The service guide loaded from a spreadsheet (issue 24): the household ledger's reader and
errors workbook; good rows become versioned items, bad rows are refused with their sheet row
number and store nothing; the same file again changes nothing."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select
from starlette.testclient import TestClient

from server.cli.main import main
from server.db import Database
from server.models import AuditLog, ServiceItem, ServiceItemRevision
from tests.conftest import Factory, login
from tests.ledger_files import command_env, csv_file, xlsx
from tests.test_ledger_pages import sheet_rows_of
from tests.test_service_guide import kept

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The header as an office writes it: another order, aliases, marks and a note in brackets.
HEADER = [
    "序号",
    "* 事项名称",
    "事项类别",
    "办理要件",
    "工作流程",
    "办理窗口",
    "完成时限（工作日）",
    "咨询电话",
    "网上办理",
]
CATEGORIES = ["社保", "医保", "民政", "户籍", "残联", "老龄", "就业", "住房", "其他", "social_security"]
HEADER_ROW = 3  # a title and a blank row above it
# Sheet row → why it is refused.
BAD = {
    8: ("类别", "不认识的类别"),
    13: ("所需材料", ""),
    19: ("办结时限", "三天"),
    24: ("事项名称", "重复"),
    30: ("网上办理", "www.example.cn"),
}


def item_row(n: int) -> list[Any]:
    return [
        n,
        f"便民服务事项{n:02d}",
        CATEGORIES[n % len(CATEGORIES)],
        "居民身份证｜原件｜1份\n户口簿｜复印件｜2份；一寸照片",
        "带齐材料到窗口；窗口审核；当场出具回执",
        f"{n % 6 + 1} 号窗口",
        n % 20,
        "0794-6581234",
        "https://www.jxzwfww.gov.cn/" if n % 2 else None,
    ]


def workbook_rows() -> list[list[Any]]:
    rows = []
    for n in range(1, 31):
        row = item_row(n)
        number = HEADER_ROW + n
        if number in BAD:
            column, value = BAD[number]
            position = {"类别": 2, "所需材料": 3, "办结时限": 6, "网上办理": 8, "事项名称": 1}[column]
            row[position] = "便民服务事项01" if column == "事项名称" else value
        rows.append(row)
    return rows


def thirty_items(path: Path) -> Path:
    return xlsx(path, workbook_rows(), header=HEADER, above=[["乐安社区便民服务事项清单"], []])


def count(db: Database, model: Any) -> int:
    with db.read() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


@pytest.fixture
def staff(make: Factory) -> Any:
    return make.user("community_staff", community=make.community(name="乐安社区", code="lean"))


def upload(client: TestClient, csrf: str, name: str, content: bytes) -> Any:
    return client.post("/guide/import", data={"csrf_token": csrf}, files={"file": (name, content, XLSX)})


def test_thirty_items_with_bad_rows_become_versioned_items_and_the_bad_rows_are_refused(
    client: TestClient, db: Database, staff: Any, tmp_path: Path
) -> None:
    csrf = login(client, staff)["csrf_token"]
    page = client.get("/guide").text
    assert 'action="/guide/import"' in page and "/guide/template.xlsx" in page
    template = client.get("/guide/template.xlsx")
    assert template.headers["content-type"] == XLSX
    assert sheet_rows_of(template.content)[0][:3] == ["事项名称", "类别", "申请对象"]

    done = upload(client, csrf, "清单.xlsx", thirty_items(tmp_path / "a.xlsx").read_bytes())
    assert done.status_code == 200, done.text
    assert "新增 25 项" in done.text and "未导入 5 行" in done.text
    refused = dict(re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td></tr>", done.text))
    assert sorted(int(n) for n in refused) == sorted(BAD)
    assert "类别" in refused["8"] and "所需材料" in refused["13"] and "办结时限" in refused["19"]
    assert "第 4 行重复" in refused["24"] and "网址" in refused["30"]
    with db.read() as s:
        items = {i.name: i for i in s.exec(select(ServiceItem))}
        assert len(items) == 25 and all(i.revision == 1 for i in items.values())
        assert not {f"便民服务事项{n - HEADER_ROW:02d}" for n in (8, 13, 19, 30)} & set(items)
        first = items["便民服务事项01"]
        assert first.materials == [
            {"name": "居民身份证", "form": "original", "count": 1, "note": ""},
            {"name": "户口簿", "form": "copy", "count": 2, "note": ""},
            {"name": "一寸照片", "form": "copy", "count": 1, "note": ""},
        ]
        assert (first.category, first.time_limit_days, first.window) == ("medical_insurance", 1, "2 号窗口")
        assert first.steps == ["带齐材料到窗口", "窗口审核", "当场出具回执"]
        assert (items["便民服务事项09"].category, items["便民服务事项08"].category) == (
            "social_security",
            "other",
        )
        assert s.exec(select(func.count()).where(AuditLog.action == "import_service_items")).one() == 1
    assert count(db, ServiceItemRevision) == 25

    link = re.search(r'href="data:[^;]+;base64,([^"]+)" download="清单.errors.xlsx"', done.text)
    assert link is not None
    errors = sheet_rows_of(base64.b64decode(link.group(1)))
    assert errors[0] == [*HEADER, "行号", "原因"] and [r[-2] for r in errors[1:]] == sorted(BAD)

    before = kept(db)
    again = upload(client, csrf, "清单.xlsx", thirty_items(tmp_path / "b.xlsx").read_bytes())
    assert "不变 25 项" in again.text
    after = kept(db)
    assert (after["version"], after["items"], after["revisions"]) == (
        before["version"],
        before["items"],
        before["revisions"],
    )

    rows = workbook_rows()
    rows[0][6] = 7  # one item's time limit changed: its next revision, the first one kept
    edited = xlsx(tmp_path / "c.xlsx", rows, header=HEADER)
    assert "更新 1 项" in upload(client, csrf, "清单.xlsx", edited.read_bytes()).text
    with db.read() as s:
        item = s.exec(select(ServiceItem).where(ServiceItem.name == "便民服务事项01")).one()
        assert (item.revision, item.time_limit_days) == (2, 7)
    assert count(db, ServiceItemRevision) == 26


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("旧.xls", b"\xd0\xcf\x11\xe0", "旧版 Excel"),
        ("假.xlsx", b"not a zip", "不是真正的 .xlsx"),
        ("无表头.csv", "甲,乙\n1,2\n".encode(), "没有找到表头"),
        ("缺列.csv", "事项名称,所需材料,办理窗口\n甲,身份证,1号\n".encode(), "表头缺少这些列：类别"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole_and_changes_nothing(
    client: TestClient, db: Database, staff: Any, name: str, content: bytes, reason: str
) -> None:
    csrf = login(client, staff)["csrf_token"]
    before = kept(db)
    response = upload(client, csrf, name, content)
    assert response.status_code == 400 and reason in response.text and "没有导入任何事项" in response.text
    assert kept(db) == before


def test_a_gbk_csv_loads_and_a_worker_may_not_import(
    client: TestClient, db: Database, make: Factory, staff: Any, tmp_path: Path
) -> None:
    worker = make.user("grid_worker")
    csrf = login(client, worker)["csrf_token"]
    path = csv_file(tmp_path / "gbk.csv", [item_row(1)], encoding="gbk", header=HEADER)
    assert upload(client, csrf, "gbk.csv", path.read_bytes()).status_code == 403
    assert count(db, ServiceItem) == 0
    client.cookies.clear()
    csrf = login(client, staff)["csrf_token"]
    assert "新增 1 项" in upload(client, csrf, "gbk.csv", path.read_bytes()).text
    with db.read() as s:
        assert s.exec(select(ServiceItem.name)).one() == "便民服务事项01"


def test_doorstep_import_services_writes_the_errors_workbook_beside_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, db: Database
) -> None:
    command_env(monkeypatch, tmp_path, database_url)
    path = thirty_items(tmp_path / "清单.xlsx")
    assert main(["import", "services", str(path)]) == 1
    assert count(db, ServiceItem) == 25
    errors = sheet_rows_of((tmp_path / "清单.errors.xlsx").read_bytes())
    assert [r[-2] for r in errors[1:]] == sorted(BAD)
    good = xlsx(tmp_path / "好.xlsx", [item_row(1)], header=HEADER)
    assert main(["import", "services", str(good)]) == 0
    assert main(["import", "services", str(tmp_path / "没有.xlsx")]) == 2
