"""Exporting the ledgers (issue 18): Chinese columns, Asia/Shanghai dates, numbers masked unless
a staff member states a reason, scope, the audit row, and 住户台账 importing again unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.access import Forbidden
from server.db import Database
from server.errors import InvalidInput
from server.ledger.exports import export_ledger
from server.ledger.imports import apply_plan, read_plan
from server.models import AuditLog, Visit
from server.people import idnumber
from server.people.vault import Vault
from server.queries.ledgers import Filters
from tests.conftest import Factory, login
from tests.ledger_files import command_env, id_ending_in_x, id_number, sheet_rows

HEAD = id_ending_in_x(date(1950, 1, 1))
NUMBER = id_number(date(1952, 3, 4), 124)


@pytest.fixture
def office(make: Factory) -> dict[str, Any]:
    community = make.community(name="乐安社区", code="lean")
    mine, theirs = (
        make.grid(community, name="第一网格", code="g1"),
        make.grid(community, name="第二网格", code="g2"),
    )
    make.tag("alone", name="独居老人")
    home = make.household(
        mine, estate="幸福小区", building="3栋", unit="1单元", room="101", phone="13812345678"
    )
    head = make.resident(
        home,
        name="张三",
        relation="head",
        id_number=HEAD,
        phone="13900001111",
        tags=["alone"],
    )
    make.resident(home, name="李四", relation="spouse", id_number=NUMBER)
    make.resident(make.household(theirs, estate="和平小区"), name="王五", relation="head")
    worker = make.user("grid_worker", grids=[mine])
    staff = make.user("community_staff", community=community)
    return {"mine": mine, "theirs": theirs, "home": home, "head": head, "worker": make.actor(worker), "staff": make.actor(staff),
            "staff_user": staff, "worker_user": worker}  # fmt: skip


def test_the_household_ledger_is_masked_unless_staff_state_a_reason_and_imports_again_unchanged(
    db: Database, vault: Vault, office: dict[str, Any], tmp_path: Path
) -> None:
    masked = tmp_path / "masked.xlsx"
    assert export_ledger(db, vault, office["staff"], "households", masked) == 3
    rows = sheet_rows(masked)
    assert rows[0][:5] == ["网格", "小区", "楼栋", "单元", "门牌"] and "身份证号" in rows[0]
    zhang = next(r for r in rows if r[8] == "张三")
    assert (
        zhang[10] == HEAD[:4] + "*" * 10 + HEAD[-4:]
        and zhang[13] == "139****1111"
        and zhang[7] == "138****5678"
    )
    assert (
        zhang[9] == "户主"
        and zhang[11] == {"male": "男", "female": "女"}[idnumber.parse(HEAD).sex]
        and zhang[12] == "1950-01-01"
        and zhang[14] == "独居老人"
    )

    full = tmp_path / "full.xlsx"
    export_ledger(db, vault, office["staff"], "households", full, full=True, reason="民政局年度核查")
    zhang = next(r for r in sheet_rows(full) if r[8] == "张三")
    assert zhang[10] == HEAD and zhang[13] == "13900001111"

    plan = read_plan(db, office["staff"], full)
    outcome = apply_plan(db, vault, office["staff"], plan)
    assert (outcome.counts.added, outcome.counts.updated, outcome.counts.refused) == (0, 0, 0)
    assert outcome.counts.unchanged == 3 and outcome.counts.households_added == 0

    with db.read() as session:
        entries = list(
            session.exec(select(AuditLog).where(AuditLog.action == "export_ledger").order_by(AuditLog.id))
        )
    assert [(e.record_id, e.detail["rows"], e.detail["full"], e.detail["reason"]) for e in entries] == [
        ("households", 3, False, ""),
        ("households", 3, True, "民政局年度核查"),
    ]
    assert entries[0].actor_id == office["staff"].id


def test_full_numbers_need_a_reason_and_a_role_that_may_see_them(
    db: Database, vault: Vault, office: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="用途"):
        export_ledger(db, vault, office["staff"], "households", tmp_path / "a.xlsx", full=True, reason="  ")
    with pytest.raises(Forbidden):
        export_ledger(
            db, vault, office["worker"], "households", tmp_path / "b.xlsx", full=True, reason="看看"
        )
    assert (
        export_ledger(db, vault, office["worker"], "households", tmp_path / "c.xlsx") == 2
    )  # their grid only
    assert {r[8] for r in sheet_rows(tmp_path / "c.xlsx")[1:]} == {"张三", "李四"}


def test_visits_are_chosen_and_shown_by_the_day_in_shanghai(
    db: Database, vault: Vault, office: dict[str, Any], tmp_path: Path
) -> None:
    home = office["home"]
    with db.write() as session:
        for at, notes in (
            (datetime(2026, 11, 30, 15, 59, tzinfo=UTC), "30日深夜"),  # 23:59 on the 30th in Shanghai
            (datetime(2026, 11, 30, 16, 0, tzinfo=UTC), "1日零点"),  # 00:00 on the 1st
            (datetime(2026, 12, 1, 15, 30, tzinfo=UTC), "1日深夜"),  # 23:30 on the 1st
            (datetime(2026, 12, 1, 16, 10, tzinfo=UTC), "2日凌晨"),
        ):
            session.add(Visit(household_id=home.id, community_id=home.community_id, grid_id=home.grid_id,
                              worker_id=office["worker"].id, at=at, notes=notes, purpose="care"))  # fmt: skip
    day = Filters(since=date(2026, 12, 1), until=date(2026, 12, 1))
    target = tmp_path / "visits.xlsx"
    assert export_ledger(db, vault, office["staff"], "visits", target, filters=day) == 2
    rows = sheet_rows(target)
    assert rows[0] == ["走访时间", "网格", "住户地址", "走访人", "走访目的", "走访结果", "计划日期", "记录"]
    assert [(r[0], r[7]) for r in rows[1:]] == [
        ("2026-12-01 00:00", "1日零点"),
        ("2026-12-01 23:30", "1日深夜"),
    ]
    assert rows[1][1] == "第一网格" and rows[1][4] == "关爱重点人群" and rows[1][5] == "已完成"
    assert rows[1][3].startswith("用户")


def test_every_ledger_of_the_demo_community_exports_with_its_steps(
    db: Database, vault: Vault, tmp_path: Path
) -> None:
    from server.demo.seed import seed
    from tests.conftest import SECRET

    seed(db, secret_key=SECRET, password="demo-password-1")
    counts = {}
    for kind in ("households", "visits", "demands", "travel_cards"):
        counts[kind] = export_ledger(db, Vault(SECRET), None, kind, tmp_path / f"{kind}.xlsx")
    assert all(counts.values()), counts
    demands = sheet_rows(tmp_path / "demands.xlsx")
    assert demands[0][-5:] == ["是否超时", "办结时间", "评价", "评价意见", "办理过程"]
    assert any(r[-1] for r in demands[1:]) and {r[11] for r in demands[1:]} <= {"是", "否"}
    cards = sheet_rows(tmp_path / "travel_cards.xlsx")
    assert cards[0][0] == "申请日期" and any(r[-1] for r in cards[1:])
    assert all("*" in (r[4] or "*") for r in cards[1:])  # masked without a reason


def test_the_office_page_and_the_command_export_a_ledger(
    client: TestClient,
    db: Database,
    office: dict[str, Any],
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    from openpyxl import load_workbook

    from server.cli.main import main

    csrf = login(client, office["staff_user"])["csrf_token"]
    response = client.post("/ledger/exports/households", data={"csrf_token": csrf})
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert len(list(book.worksheets[0].iter_rows())) == 4
    page = client.get("/ledger").text
    assert f'<option value="{office["theirs"].id}">第二网格</option>' in page
    one_grid = client.post(
        "/ledger/exports/households", data={"csrf_token": csrf, "grid_id": str(office["theirs"].id)}
    )
    rows = [
        list(r) for r in load_workbook(io.BytesIO(one_grid.content)).worksheets[0].iter_rows(values_only=True)
    ]
    assert [(r[0], r[8]) for r in rows[1:]] == [("第二网格", "王五")]
    bad_grid = client.post("/ledger/exports/visits", data={"csrf_token": csrf, "grid_id": "g2"})
    assert bad_grid.status_code == 400 and "网格不对" in bad_grid.text
    refused = client.post("/ledger/exports/households", data={"csrf_token": csrf, "full": "1"})
    assert refused.status_code == 400 and "用途" in refused.text
    assert client.post("/ledger/exports/nothing", data={"csrf_token": csrf}).status_code == 400

    command_env(monkeypatch, tmp_path, database_url)
    out = tmp_path / "住户.xlsx"
    assert (
        main(["export", "households", "--out", str(out), "--grid", "g1", "--full", "--reason", "核查"]) == 0
    )
    assert "已导出 2 行" in capsys.readouterr().out
    assert {r[10] for r in sheet_rows(out)[1:]} == {HEAD, NUMBER}
    assert main(["export", "households", "--out", str(out), "--full"]) == 2


def test_an_export_streams_so_its_memory_does_not_grow_with_its_rows(
    db: Database, vault: Vault, office: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracemalloc
    import uuid
    from datetime import timedelta

    from sqlalchemy import insert

    from server import versions
    from server.queries import ledgers

    monkeypatch.setattr(ledgers, "PAGE", 100)  # pages of 100 rows: the county's 2,000, scaled down
    home, start = office["home"], datetime(2026, 11, 1, tzinfo=UTC)

    def add_visits(first: int, last: int) -> None:
        with db.write() as session:
            rows = [
                {"id": uuid.uuid4(), "household_id": home.id, "community_id": home.community_id,
                 "grid_id": home.grid_id, "worker_id": office["worker"].id, "purpose": "routine",
                 "outcome": "completed", "notes": f"第 {n} 次走访，居民情况稳定，已登记", "photos": [],
                 "at": start + timedelta(minutes=n), "field_versions": {}, "created_at": start, "updated_at": start}
                for n in range(first, last)
            ]  # fmt: skip
            for row, version in zip(rows, versions.allocate(session, len(rows)), strict=True):
                row["version"] = version
            session.execute(insert(Visit), rows)

    def peak_of_export(rows: int) -> int:
        tracemalloc.start()
        try:
            assert export_ledger(db, vault, office["staff"], "visits", tmp_path / f"{rows}.xlsx") == rows
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    add_visits(0, 300)
    peak_of_export(300)  # warms the statement caches, so both measured runs start alike
    small = peak_of_export(300)
    add_visits(300, 3000)
    large = peak_of_export(3000)
    # Holding the rows would cost well over 500 bytes each (a tuple of eight strings); streamed,
    # ten times the rows cost next to nothing more.
    assert large - small < 100 * (3000 - 300), (small, large)
    assert [r[7] for r in sheet_rows(tmp_path / "3000.xlsx")[1:4]] == [
        "第 0 次走访，居民情况稳定，已登记",
        "第 1 次走访，居民情况稳定，已登记",
        "第 2 次走访，居民情况稳定，已登记",
    ]


def test_the_demand_ledger_says_which_requests_ran_past_their_time_limit_with_rating_and_steps(
    db: Database, vault: Vault, office: dict[str, Any], tmp_path: Path
) -> None:
    from datetime import timedelta

    from server.models import Demand, DemandEvent, utcnow

    home, now = office["home"], utcnow()
    due = now - timedelta(days=1)
    cases = {  # description: status, deadline, resolved_at, rating
        "还在办，已过时限": ("accepted", due, None, None),
        "还在办，未到时限": ("in_progress", now + timedelta(days=2), None, None),
        "过了时限才办结": ("resolved", due, now, "dissatisfied"),
        "按时办结": ("resolved", due, due - timedelta(hours=3), "satisfied"),
    }
    with db.write() as session:
        for n, (text, (status, deadline, resolved, rating)) in enumerate(cases.items()):
            demand = Demand(community_id=home.community_id, grid_id=home.grid_id, household_id=home.id,
                            field="property", description=text, source="visit", status=status,
                            deadline=deadline, resolved_at=resolved, rating=rating, contact_phone="13912345678",
                            created_at=now - timedelta(days=5, minutes=-n))  # fmt: skip
            session.add(demand)
            session.flush()
            session.add(DemandEvent(demand_id=demand.id, community_id=home.community_id, grid_id=home.grid_id,
                                    kind="dispatched", to_status="dispatched", actor_id=office["staff"].id,
                                    note=f"派给第一网格（{n}）", at=now - timedelta(days=4)))  # fmt: skip
    target = tmp_path / "demands.xlsx"
    assert export_ledger(db, vault, office["staff"], "demands", target) == 4
    rows = sheet_rows(target)
    header = rows[0]
    by_text = {r[header.index("诉求内容")]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert {t: r["是否超时"] for t, r in by_text.items()} == {
        "还在办，已过时限": "是",
        "还在办，未到时限": "否",
        "过了时限才办结": "是",
        "按时办结": "否",
    }
    assert by_text["过了时限才办结"]["评价"] == "不满意" and by_text["按时办结"]["评价"] == "满意"
    assert by_text["还在办，已过时限"]["评价"] in (None, "")
    assert by_text["按时办结"]["办理时限"] and by_text["按时办结"]["办结时间"]
    assert by_text["按时办结"]["联系电话"] == "139****5678"  # masked: no reason was stated
    steps = by_text["按时办结"]["办理过程"]
    assert "派单" in steps and "派给第一网格（3）" in steps and "用户" in steps
