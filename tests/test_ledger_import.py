"""Importing the household ledger (issue 18): messy cells normalised, bad rows refused with
their row number and why, the errors workbook, dry run, idempotence, in-place updates, the
audit entry, and a worker's phone pulling what was imported."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from server.access import Actor
from server.db import Database
from server.ledger.imports import ImportRefused, Outcome, Plan, apply_plan, audit_import, read_plan
from server.ledger.workbook import errors_path, write_errors
from server.models import AuditLog, Community, Conflict, Grid, Household, Resident, VersionCounter
from server.people import idnumber
from server.people.vault import Vault
from tests.conftest import Factory
from tests.ledger_files import (
    csv_file,
    id_ending_in_x,
    id_number,
    impossible_birth_date,
    sheet_rows,
    wrong_check_digit,
    xlsx,
)

SHUFFLED = [
    "* 姓名",
    "身份证号（18位）",
    "网格",
    "小区",
    "楼栋",
    "单元",
    "门牌",
    "户类型",
    "与户主关系",
    "联系电话",
    "标签",
    "备注",
]
KEYS = [
    "name",
    "id",
    "grid",
    "estate",
    "building",
    "unit",
    "room",
    "kind",
    "relation",
    "phone",
    "tags",
    "notes",
]

HEAD_ID = id_ending_in_x()
SPOUSE_15 = "360121520304121"  # legacy: 1952-03-04, upgraded to 18 characters
CHILD_ID = id_number(date(1980, 6, 1), 11)
ALONE_ID = id_number(date(1939, 1, 20), 21)
TAKEN_ID = id_number(date(1960, 2, 2), 31)


def row(**cells: Any) -> list[Any]:
    return [cells.get(k) for k in KEYS]


@pytest.fixture
def county(make: Factory) -> dict[str, Any]:
    community = make.community(name="乐安社区", code="lean")
    first = make.grid(community, name="第一网格", code="g1")
    second = make.grid(community, name="第二网格", code="g2")
    for code, name in (("alone", "独居老人"), ("dibao", "低保户"), ("disabled", "残疾人")):
        make.tag(code, name=name)
    elsewhere = make.household(first, estate="幸福小区", building="9栋", unit="2单元", room="901室")
    make.resident(elsewhere, name="王五", id_number=TAKEN_ID, relation="head")
    staff = make.user("community_staff", community=community)
    return {"community": community, "first": first, "second": second, "actor": make.actor(staff)}


def messy_rows() -> list[list[Any]]:
    """Row 4 is the first under the header (title row 1, blank row 2, header row 3)."""
    return [
        # 4: full-width building, a space in the name, lower-case x, the phone a number, two tags
        row(name="张 三", id=HEAD_ID.lower(), grid="第一网格", estate=" 幸福小区 ", building="３栋", unit="1单元",
            room="101室", kind="户籍", relation="户主", phone=13800138000, tags="独居老人、低保户", notes="  行动不便 "),
        # 5: the same household written differently; a 15-digit number; a landline; tags split by , ; and spaces
        row(name="李四", id=SPOUSE_15, grid="g1", estate="幸福小区", building="3 栋", unit="1单元", room="101室",
            relation="配偶", phone="0794-8123456", tags="低保户, 残疾人；独居老人"),
        [None] * len(KEYS),  # 6: blank
        # 7: an 18-digit number Excel made a float
        row(name="赵六", id=float(CHILD_ID), grid="第一网格", estate="幸福小区", building="3栋", unit="1单元", room="101室", relation="子女"),
        row(name="钱七", id=wrong_check_digit(CHILD_ID), grid="第一网格", estate="幸福小区", building="4栋", room="1"),  # 8
        row(name="孙八", id=impossible_birth_date(), grid="第一网格", estate="幸福小区", building="4栋", room="1"),  # 9
        row(name="周九", id="", grid="第九网格", estate="幸福小区", building="4栋", room="2"),  # 10: unknown grid
        row(name="吴十", id="", grid="第一网格", estate="幸福小区", building="4栋", room="3", tags="独居老人、退役军人"),  # 11
        row(name="郑一", id="", grid="第一网格", estate="幸福小区", building="4栋", room="4", phone="12345"),  # 12
        row(name="张三丰", id=HEAD_ID, grid="第一网格", estate="幸福小区", building="5栋", room="1"),  # 13: twice in the file
        row(name="王五", id=TAKEN_ID, grid="第二网格", estate="和平小区", building="1栋", room="101"),  # 14: another household's
        # 15: full-width ID digits and a full-width letter, no phone, relation blank, tags split by ，
        # and ;; a household of the second grid (16 writes its building in lower case, with a space)
        row(name="陈阿婆", id=ALONE_ID.translate(str.maketrans("0123456789", "０１２３４５６７８９")), grid="第二网格",
            estate="和平小区", building="Ｂ座2栋", unit="", room="201", kind="常住", tags="独居老人，残疾人;低保户"),
        row(name="陈小明", id="", grid="第二网格", estate="和平小区", building="b座 2栋", room="201", relation="孙子", phone=" 139 0000 1111 "),  # 16
    ]  # fmt: skip


def messy_workbook(path: Path) -> Path:
    return xlsx(path, messy_rows(), header=SHUFFLED, above=[["乐安社区一户一档（2026年12月）"], []])


def run(db: Database, vault: Vault, actor: Actor | None, path: Path, **kw: Any) -> tuple[Plan, Outcome]:
    dry_run = kw.pop("dry_run", False)
    plan = read_plan(db, actor, path, **kw)
    outcome = apply_plan(db, vault, actor, plan, dry_run=dry_run)
    if not dry_run:
        db.run_write(lambda session: audit_import(session, actor, plan, outcome.counts, path.name))
    if outcome.refusals:
        write_errors(errors_path(path), plan.header.names, outcome.refusals)
    return plan, outcome


def residents(db: Database) -> dict[str, Resident]:
    with db.read() as session:
        return {r.name: r for r in session.exec(select(Resident))}


def households(db: Database) -> dict[str, Household]:
    with db.read() as session:
        return {h.address: h for h in session.exec(select(Household))}


def audit_rows(db: Database) -> int:
    with db.read() as session:
        return session.exec(select(func.count()).select_from(AuditLog)).one()


def version(db: Database) -> int:
    with db.read() as session:
        counter = session.get(VersionCounter, 1)
        assert counter is not None
        return counter.value


def test_a_messy_ledger_goes_in_normalised_and_each_bad_row_is_refused_with_its_row_and_why(
    db: Database, vault: Vault, county: dict[str, Any], tmp_path: Path
) -> None:
    path = messy_workbook(tmp_path / "乐安台账.xlsx")
    plan, outcome = run(db, vault, county["actor"], path)

    assert plan.header.row == 3 and plan.rows == 12
    counts = outcome.counts
    assert (counts.added, counts.updated, counts.unchanged, counts.refused) == (4, 0, 0, 8)
    assert (counts.households_added, counts.households_updated) == (2, 0)

    people = residents(db)
    head, spouse, grandma, grandson = people["张三"], people["李四"], people["陈阿婆"], people["陈小明"]
    assert head.household_id == spouse.household_id and grandma.household_id == grandson.household_id
    assert head.id_hash == vault.keyed_hash(HEAD_ID) and vault.decrypt(head.id_cipher) == HEAD_ID
    assert head.phone == "13800138000" and head.tags == ["alone", "dibao"] and head.notes == "行动不便"
    assert head.relation == "head" and spouse.relation == "spouse" and grandson.relation == "grandchild"
    assert grandma.relation == "other" and grandma.id_hash == vault.keyed_hash(ALONE_ID)
    assert grandma.tags == ["alone", "dibao", "disabled"]
    upgraded = idnumber.parse(SPOUSE_15).number
    assert len(upgraded) == 18 and spouse.id_hash == vault.keyed_hash(upgraded)
    assert spouse.birth_date == date(1952, 3, 4) and spouse.phone == "0794-8123456"
    assert spouse.tags == ["alone", "dibao", "disabled"]
    assert grandson.phone == "13900001111" and grandson.id_hash == ""
    assert (
        "王五" in people and people["王五"].grid_id != county["second"].id
    )  # the one already there, untouched

    homes = households(db)
    assert set(homes) == {"幸福小区 9栋 2单元 901室", "幸福小区 3栋 1单元 101室", "和平小区 B座2栋 201"}
    first_home = homes["幸福小区 3栋 1单元 101室"]
    assert first_home.grid_id == county["first"].id and first_home.kind == "registered"
    assert (
        homes["和平小区 B座2栋 201"].kind == "resident"
        and homes["和平小区 B座2栋 201"].grid_id == county["second"].id
    )

    reasons = {r.number: r.reason for r in outcome.refusals}
    assert sorted(reasons) == [7, 8, 9, 10, 11, 12, 13, 14]
    assert "Excel 存成了数字" in reasons[7] and "文本" in reasons[7]
    assert "校验位" in reasons[8]
    assert "出生日期" in reasons[9]
    assert "没有这个网格：第九网格" in reasons[10]
    assert "退役军人" in reasons[11] and "独居老人" not in reasons[11]
    assert "联系电话" in reasons[12]
    assert "第 4 行重复" in reasons[13]
    assert "另一户" in reasons[14] and "幸福小区 9栋 **" in reasons[14] and "王*" in reasons[14]
    assert "901" not in reasons[14]

    errors = sheet_rows(errors_path(path))
    assert errors[0] == [*SHUFFLED, "行号", "原因"]
    assert [r[-2] for r in errors[1:]] == [7, 8, 9, 10, 11, 12, 13, 14]
    float_row = errors[1]
    assert float_row[0] == "赵六" and float_row[1] == float(CHILD_ID)  # the cells as the sheet had them
    assert errors[5][-1] == reasons[11]


def test_the_audit_log_has_one_entry_per_import_with_counts_and_the_files_sha256(
    db: Database, vault: Vault, county: dict[str, Any], tmp_path: Path
) -> None:
    import hashlib

    path = messy_workbook(tmp_path / "台账.xlsx")
    run(db, vault, county["actor"], path)
    with db.read() as session:
        entries = list(session.exec(select(AuditLog).where(AuditLog.action == "import_households")))
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor_id == county["actor"].id
    assert entry.detail["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry.detail["file"] == "台账.xlsx" and entry.detail["rows"] == 12
    assert entry.detail["counts"] == {
        "added": 4, "updated": 0, "unchanged": 0, "refused": 8, "households_added": 2, "households_updated": 0,
    }  # fmt: skip


def test_a_dry_run_checks_everything_and_changes_nothing(
    db: Database, vault: Vault, county: dict[str, Any], tmp_path: Path
) -> None:
    path = messy_workbook(tmp_path / "台账.xlsx")
    before = (version(db), residents(db).keys(), households(db).keys(), audit_rows(db))
    _, dry = run(db, vault, county["actor"], path, dry_run=True)
    assert (version(db), residents(db).keys(), households(db).keys(), audit_rows(db)) == before
    _, real = run(db, vault, county["actor"], path)
    assert dry.counts == real.counts
    assert [(r.number, r.reason) for r in dry.refusals] == [(r.number, r.reason) for r in real.refusals]


def test_the_same_file_twice_changes_nothing_and_an_edited_row_updates_its_resident_in_place(
    db: Database, vault: Vault, county: dict[str, Any], tmp_path: Path
) -> None:
    path = messy_workbook(tmp_path / "台账.xlsx")
    run(db, vault, county["actor"], path)
    first = residents(db)
    at = version(db)

    _, again = run(db, vault, county["actor"], path)
    assert (again.counts.added, again.counts.updated, again.counts.unchanged) == (0, 0, 4)
    assert (again.counts.households_added, again.counts.households_updated) == (0, 0)
    assert version(db) == at

    edited = messy_rows()
    edited[0][KEYS.index("phone")] = "13911112222"  # 张三's new phone
    edited[0][KEYS.index("name")] = "张叁"  # and the name fixed
    edited[1][KEYS.index("tags")] = ""  # 李四 has no tags any more
    edited[-2][KEYS.index("kind")] = "出租"  # the household of 陈阿婆 is let now
    xlsx(path, edited, header=SHUFFLED, above=[["乐安社区一户一档"]])
    _, update = run(db, vault, county["actor"], path)
    assert (update.counts.added, update.counts.updated, update.counts.unchanged) == (0, 2, 2)
    assert update.counts.households_updated == 1
    now = residents(db)
    assert now["张叁"].id == first["张三"].id and now["张叁"].phone == "13911112222"
    assert now["李四"].tags == [] and now["李四"].version > at
    assert households(db)["和平小区 B座2栋 201"].kind == "rental"
    assert len(now) == len(first)


def test_a_workers_phone_pulls_the_imported_households(
    db: Database, vault: Vault, county: dict[str, Any], tmp_path: Path, make: Factory, sync_phone: Any
) -> None:
    phone = sync_phone(make.user(grids=[county["second"]]))
    phone.pull()
    assert phone.records("household") == {}
    run(db, vault, county["actor"], messy_workbook(tmp_path / "台账.xlsx"))
    phone.pull()
    assert [h["address"] for h in phone.records("household").values()] == ["和平小区 B座2栋 201"]
    assert sorted(r["name"] for r in phone.records("resident").values()) == ["陈小明", "陈阿婆"]


def test_an_edited_row_reaches_the_phone_and_a_phones_edit_on_the_older_version_becomes_a_conflict(
    db: Database, vault: Vault, county: dict[str, Any], tmp_path: Path, make: Factory, sync_phone: Any
) -> None:
    path = messy_workbook(tmp_path / "台账.xlsx")
    run(db, vault, county["actor"], path)
    phone = sync_phone(make.user(grids=[county["second"]]))
    phone.pull()
    resident_id, base = next(
        (key, r["version"]) for key, r in phone.records("resident").items() if r["name"] == "陈阿婆"
    )

    edited = messy_rows()
    edited[-2][KEYS.index("phone")] = "13655556666"  # the office writes 陈阿婆's new phone in the sheet
    edited[-2][KEYS.index("notes")] = "腿脚不便"
    xlsx(path, edited, header=SHUFFLED)
    _, update = run(db, vault, county["actor"], path)
    assert update.counts.updated == 1 and update.counts.added == 0

    # The phone, offline since its pull, set another phone number on the version it held.
    phone.queue(
        "resident.update",
        {"resident_id": resident_id, "base_version": base, "set": {"phone": "13577778888"}},
    )
    result = phone.push()
    assert result is not None
    outcome = result["results"][0]
    assert outcome["status"] == "conflict" and outcome["conflicts"] == ["phone"]
    with db.read() as session:
        conflict = session.get(Conflict, uuid.UUID(outcome["conflict_id"]))
        assert conflict is not None and conflict.record_id == uuid.UUID(resident_id)
        assert (conflict.server_value, conflict.client_value, conflict.status) == (
            "13655556666",
            "13577778888",
            "open",
        )
        saved = session.get(Resident, uuid.UUID(resident_id))
        assert saved is not None and saved.phone == "13655556666" and saved.notes == "腿脚不便"
    phone.pull()
    pulled = phone.records("resident")[resident_id]
    assert pulled["version"] > base and pulled["notes"] == "腿脚不便"


def test_a_gbk_csv_from_chinese_excel_is_read_and_a_number_saved_as_scientific_is_refused(
    db: Database, vault: Vault, county: dict[str, Any], tmp_path: Path
) -> None:
    rows = [
        ["第一网格", "幸福小区", "6栋", "1单元", "601", "流动", "刘 芳", "户主", CHILD_ID, "13700001111", "残疾人 低保户", "轮椅"],
        ["第一网格", "幸福小区", "6栋", "1单元", "601", "流动", "刘强", "子女", "3.60121E+17", "", "", ""],
    ]  # fmt: skip
    for encoding in ("gbk", "gb18030", "utf-8-sig", "utf-8"):
        path = csv_file(tmp_path / f"{encoding}.csv", rows, encoding=encoding)
        plan = read_plan(db, county["actor"], path)
        assert [r.name for h in plan.households for r in h] == ["刘芳"], encoding
        assert [(r.number, "Excel 存成了数字" in r.reason) for r in plan.refusals] == [(3, True)]
    _, outcome = run(db, vault, county["actor"], tmp_path / "gbk.csv")
    assert outcome.counts.added == 1
    liu = residents(db)["刘芳"]
    assert liu.tags == ["dibao", "disabled"] and liu.notes == "轮椅"
    assert households(db)["幸福小区 6栋 1单元 601"].kind == "floating"
    assert sheet_rows(errors_path(tmp_path / "gbk.csv"))[1][-2:] == [3, outcome.refusals[0].reason]


@pytest.mark.parametrize("name", ["旧台账.xls", "台账.et", "台账.ods", "台账.txt"])
def test_an_old_excel_file_or_another_kind_is_refused_saying_how_to_save_as_xlsx(
    db: Database, county: dict[str, Any], tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xd0\xcf\x11\xe0 not a workbook")
    with pytest.raises(ImportRefused, match=r"另存为.*\.xlsx"):
        read_plan(db, county["actor"], path)


def test_a_file_named_xlsx_that_is_no_workbook_and_a_sheet_without_header_are_refused_whole(
    db: Database, county: dict[str, Any], tmp_path: Path
) -> None:
    fake = tmp_path / "假的.xlsx"
    fake.write_text("姓名,网格\n")
    with pytest.raises(ImportRefused, match=r"不是真正的 \.xlsx"):
        read_plan(db, county["actor"], fake)
    headless = xlsx(tmp_path / "无表头.xlsx", [["张三", "第一网格"]], header=["名字", "片区"])
    with pytest.raises(ImportRefused, match="没有找到表头"):
        read_plan(db, county["actor"], headless)
    missing = xlsx(tmp_path / "缺列.xlsx", [["张三", "户主"]], header=["姓名", "与户主关系", "身份证号"])
    with pytest.raises(ImportRefused, match="缺少这些列：网格、小区"):
        read_plan(db, county["actor"], missing)


def test_staff_import_only_into_their_own_community(
    db: Database, vault: Vault, county: dict[str, Any], tmp_path: Path, make: Factory
) -> None:
    other = make.community(name="城东社区", code="east")
    make.grid(other, name="东一网格", code="e1")
    path = xlsx(
        tmp_path / "东.xlsx", [["东一网格", "东方小区", "1栋", "", "101", "", "甲", "户主", "", "", "", ""]]
    )
    _, outcome = run(db, vault, county["actor"], path)
    assert outcome.counts.added == 0 and "没有这个网格" in outcome.refusals[0].reason
    _, shell = run(db, vault, None, path, community="east")  # the shell imports as an admin
    assert shell.counts.added == 1
    with db.read() as session:
        grid = session.exec(select(Grid).where(Grid.code == "e1")).one()
        assert session.exec(select(Household).where(Household.grid_id == grid.id)).one().estate == "东方小区"
        assert session.exec(select(Community).where(Community.code == "east")).one().id == grid.community_id


def test_the_command_dry_runs_imports_with_a_progress_bar_and_writes_the_errors_workbook(
    db: Database,
    vault: Vault,
    county: dict[str, Any],
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from server.cli.main import main
    from tests.ledger_files import command_env

    command_env(monkeypatch, tmp_path, database_url)
    path = messy_workbook(tmp_path / "乐安台账.xlsx")

    assert main(["import", "households", str(path), "--dry-run", "--community", "lean"]) == 1
    out, err = capsys.readouterr()
    assert "新增 4 人，更新 0 人，不变 0 人，错误 8 行；新增 2 户" in out and "试运行" in out
    assert "5/5 行" in err and "行/秒" in err and "还需" in err  # the rows that passed the checks
    assert "张三" not in residents(db) and errors_path(path).exists()

    assert main(["import", "households", str(path), "--community", "乐安社区"]) == 1
    out, _ = capsys.readouterr()
    assert "新增 4 人" in out and "乐安台账.errors.xlsx" in out
    assert residents(db)["张三"].id_hash == vault.keyed_hash(HEAD_ID)
    assert [r[-2] for r in sheet_rows(errors_path(path))[1:]] == [7, 8, 9, 10, 11, 12, 13, 14]

    good = xlsx(path, messy_rows()[:2], header=SHUFFLED)
    assert main(["import", "households", str(good), "--community", "lean"]) == 0
    out, _ = capsys.readouterr()
    assert "不变 2 人，错误 0 行" in out and not errors_path(path).exists()

    assert main(["import", "households", str(good), "--user", "nobody"]) == 2
    assert "nobody 不是社区工作人员或管理员的账号" in capsys.readouterr().err
    assert main(["import", "households", str(good), "--user", county["actor"].username]) == 0
    capsys.readouterr()
    assert main(["import", "households", str(tmp_path / "旧.xls")]) == 2
    assert (
        main(["import", "households", str(messy_workbook(tmp_path / "x.xlsx")), "--community", "nowhere"])
        == 2
    )
    _, err = capsys.readouterr()
    assert "找不到文件" in err and "没有这个社区：nowhere" in err


def test_the_optional_columns_name_the_community_the_households_status_and_its_phone(
    db: Database, vault: Vault, county: dict[str, Any], tmp_path: Path, make: Factory
) -> None:
    from server.ledger.columns import COLUMNS

    east = make.community(name="城东社区", code="east")
    east_first = make.grid(east, name="第一网格", code="e1")  # the same name as 乐安社区's
    full = [c.header for c in COLUMNS]
    assert full[:3] == ["社区", "网格", "小区"] and "户状态" in full and "住户电话" in full

    def line(community: str, status: str, home_phone: Any, name: str) -> list[Any]:
        cells = {"社区": community, "网格": "第一网格", "小区": "东方小区", "楼栋": "1栋", "门牌": "101",
                 "户状态": status, "住户电话": home_phone, "姓名": name, "与户主关系": "户主"}  # fmt: skip
        return [cells.get(h) for h in full]

    path = xlsx(
        tmp_path / "两个社区.xlsx",
        [
            line("城东社区", "空置", 7948123456, "甲"),  # a landline Excel stored as a number
            line("lean", "", "13800001111", "乙"),  # by code; a blank status is 在住
            line("", "在住", "", "丙"),  # no community: 第一网格 is two communities' grid
            line("城西社区", "", "", "丁"),
            line("城东社区", "拆迁", "", "戊"),
        ],
        header=full,
    )
    _, outcome = run(db, vault, None, path)  # the shell: an admin, every community's grids
    assert (outcome.counts.added, outcome.counts.refused) == (2, 3)
    reasons = {r.number: r.reason for r in outcome.refusals}
    assert "有几个社区都有网格“第一网格”" in reasons[4]
    assert "没有这个社区：城西社区" in reasons[5]
    assert "户状态：不认识“拆迁”" in reasons[6]
    people = residents(db)
    with db.read() as session:
        east_home = session.get(Household, people["甲"].household_id)
        lean_home = session.get(Household, people["乙"].household_id)
    assert east_home is not None and lean_home is not None
    assert east_home.grid_id == east_first.id and east_home.status == "vacant"
    assert east_home.phone == "07948123456"
    assert lean_home.grid_id == county["first"].id and lean_home.status == "active"
    assert lean_home.phone == "13800001111"
