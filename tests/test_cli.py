from __future__ import annotations

import contextlib
import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from server.auth import Sessions, SignedIn, verify_password
from server.cli.main import build_parser, main, uvicorn_options
from server.cli.protocol import HEADERS_SECONDS
from server.db import Database
from server.models import AuditLog, Community, Department, Grid, Preference, Tag, User, UserGrid, UserSession
from server.settings import load_settings
from tests.conftest import SECRET, Factory
from tests.live import serving


@pytest.fixture
def run(
    db: Database,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Any:
    """`doorstep …` against the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", database_url)
    monkeypatch.delenv("DOORSTEP_SECRET_KEY", raising=False)

    def doorstep(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return doorstep


def _count(db: Database, model: Any) -> int:
    with db.read() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def _audit(db: Database) -> list[tuple[str, Any]]:
    with db.read() as s:
        return [(e.action, e.actor_id) for e in s.exec(select(AuditLog).order_by(AuditLog.id))]


def test_an_operator_sets_up_a_community_from_the_shell(run: Any, db: Database) -> None:
    assert run("admin", "community-create", "lean", "乐安社区", "--address", "鳌溪镇") == (
        0,
        "已创建社区 乐安社区（lean）\n",
        "",
    )
    code, out, _ = run("admin", "grid-create", "lean", "g1", "第一网格", "--lat", "27.42", "--lng", "115.83")
    assert code == 0 and out == "已在 乐安社区 创建网格 第一网格（g1）\n"
    assert run("admin", "grid-create", "lean", "g2", "第二网格")[0] == 0
    assert run("admin", "department-create", "zj", "住建局")[1] == "已创建部门 住建局（zj）\n"
    assert run("admin", "tag-create", "alone", "独居老人", "--sensitive", "--category", "重点人群")[1] == (
        "已创建标签 独居老人（alone），敏感\n"
    )
    with db.read() as s:
        grid = s.exec(select(Grid).where(Grid.code == "g1")).one()
        tag = s.exec(select(Tag)).one()
        community = s.exec(select(Community)).one()
        department = s.exec(select(Department)).one()
    assert (grid.lat, grid.lng, grid.community_id) == (27.42, 115.83, community.id)
    assert (tag.sensitive, tag.category) == (True, "重点人群")
    assert min(grid.version, tag.version, community.version, department.version) > 0
    assert [a for a, _ in _audit(db)] == [
        "community.create",
        "grid.create",
        "grid.create",
        "department.create",
        "tag.create",
    ]
    assert all(actor is None for _, actor in _audit(db))  # the shell has no signed-in actor
    assert run("admin", "communities")[1] == "lean\t乐安社区\n  g1\t第一网格\n  g2\t第二网格\n"
    assert run("admin", "departments")[1] == "zj\t住建局\n"
    assert run("admin", "tags")[1] == "alone\t独居老人\t重点人群\t0 人\t敏感\n"


def test_users_are_created_listed_reset_assigned_and_deactivated(
    run: Any, db: Database, make: Factory
) -> None:
    community = make.community(code="lean", name="乐安社区")
    make.grid(community, code="g1", name="第一网格")
    make.grid(community, code="g2", name="第二网格")
    code, out, _ = run(
        "user",
        "create",
        "wang",
        "--role",
        "grid_worker",
        "--name",
        "王五",
        "--community",
        "lean",
        "--grid",
        "g1",
    )
    assert code == 0 and out.startswith("已创建用户 wang（网格员），密码：")
    password = out.strip().rsplit("：", 1)[1]
    with db.write() as s:
        signed = Sessions("unused-secret").login(s, username="wang", password=password)
    assert isinstance(signed, SignedIn)

    assert run("user", "assign-grids", "wang", "--grid", "g1", "--grid", "g2")[1] == (
        "wang 负责的网格：第一网格（g1）、第二网格（g2）\n"
    )
    assert _count(db, UserGrid) == 2
    assert (
        run("user", "list", "--role", "grid_worker")[1]
        == "共 1 个用户\nwang\t王五\t网格员\tlean\tg1,g2\t在用\n"
    )

    code, out, _ = run("user", "reset-password", "wang", "--password", "new-password-1")
    assert code == 0 and "已重置 wang 的密码：new-password-1" in out
    with db.read() as s:
        user = s.exec(select(User).where(User.username == "wang")).one()
    assert verify_password(user.password_hash, "new-password-1")
    assert _count(db, UserSession) == 0

    assert run("user", "deactivate", "wang")[1] == "已停用 wang，其登录已全部失效。\n"
    assert "已停用" in run("user", "list")[1]
    assert run("user", "activate", "wang")[1] == "已启用 wang。\n"
    assert run("user", "assign-grids", "wang", "--none")[1] == "wang 负责的网格：无\n"
    assert _count(db, UserGrid) == 0
    actions = [a for a, _ in _audit(db)]
    assert actions[-5:] == [
        "user.assign_grids",
        "user.reset_password",
        "user.deactivate",
        "user.activate",
        "user.assign_grids",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["user", "create", "wang", "--role", "grid_worker", "--community", "nowhere"],
            "社区：没有这个社区。（nowhere）",
        ),
        (["user", "create", "wang", "--role", "admin", "--password", "short"], "密码：至少 8 个字符"),
        (["user", "create", "a", "--role", "admin", "--password", "long-enough"], "用户名：只能用字母"),
        (["user", "reset-password", "ghost"], "没有用户名为 ghost 的用户"),
        (["user", "assign-grids", "root"], "请用 --grid 指定网格"),
        (["user", "assign-grids", "root", "--grid", "g1"], "只有网格员可以分配网格"),
        (["user", "deactivate", "root"], "至少要保留一位在用的管理员"),
        (["user", "list", "--community", "nowhere"], "没有编码为 nowhere 的社区"),
        (["admin", "community-create", "bad code", "名字"], "编码：只能用字母"),
        (["admin", "grid-create", "nowhere", "g1", "网格"], "没有编码为 nowhere 的社区"),
        (["admin", "grid-create", "lean", "g1", "网格", "--lat", "north", "--lng", "1"], "纬度：必须是数字"),
        (["admin", "department-create", "zj", ""], "部门名称：必须填写"),
        (["admin", "tag-create", "alone", "重复"], "编码：alone 已被使用"),
        (["admin", "set", "travel_card.age_threshold", "abc"], "免费乘车年龄（周岁）：必须是整数"),
        (["admin", "set", "travel_card.discount_age", "70"], "优惠年龄必须小于免费乘车年龄"),
        (["admin", "set", "no.such", "1"], "没有设置项 no.such"),
    ],
)
def test_bad_input_exits_2_with_a_chinese_message_and_changes_nothing(
    run: Any, db: Database, make: Factory, argv: list[str], message: str
) -> None:
    make.community(code="lean")
    make.tag("alone")
    make.user("admin", username="root")
    before = _audit(db), _count(db, Preference), _count(db, User), _count(db, Grid)
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith("错误：") and message in err
    assert (_audit(db), _count(db, Preference), _count(db, User), _count(db, Grid)) == before


def test_usage_errors_exit_2_in_chinese(run: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run("user", "create", "wang")
    assert exited.value.code == 2
    assert "错误：命令参数不对" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad_choice:
        run("admin", "grid-create", "lean")
    assert bad_choice.value.code == 2


def test_settings_are_shown_and_set_from_the_shell(run: Any, db: Database) -> None:
    code, out, _ = run("admin", "settings")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "travel_card.age_threshold\t免费乘车年龄（周岁）：65（默认）"
    assert "push.quiet_hours\t推送免打扰时段：22:00-07:00（默认）" in lines
    assert run("admin", "set", "travel_card.age_threshold", "60")[1] == "已设置 免费乘车年龄（周岁）：60\n"
    assert run("admin", "set", "push.quiet_hours", "21:30-6:00")[1] == "已设置 推送免打扰时段：21:30-06:00\n"
    assert (
        run("admin", "set", "travel_card.discount_age", "null")[1] == "已设置 优惠乘车年龄（周岁）：未设置\n"
    )
    deadlines = '{"reply": {"normal": "0.5", "urgent": "4h"}, "self": {"normal": 2, "urgent": "1"}, "transfer": {"normal": "5", "urgent": "2"}}'
    assert run("admin", "set", "demand.time_limits", deadlines)[0] == 0
    with db.read() as s:
        rows = {p.key: p.value for p in s.exec(select(Preference))}
    assert rows["travel_card.age_threshold"] == 60
    assert rows["push.quiet_hours"] == "21:30-06:00"
    assert rows["demand.time_limits"]["reply"] == {"normal": "0.5", "urgent": "4h"}
    assert "travel_card.age_threshold\t免费乘车年龄（周岁）：60" in run("admin", "settings")[1].splitlines()


def _failures_from_new_addresses(url: str, username: str) -> list[int]:
    """Six wrong passwords, each claiming a fresh address in X-Forwarded-For."""
    statuses = []
    for n in range(6):
        request = urllib.request.Request(
            f"{url}/sync/login",
            data=json.dumps({"username": username, "password": "wrong-password"}).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-For": f"203.0.113.{n}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


@pytest.mark.parametrize(("proxies", "statuses"), [("", [401] * 5 + [429]), ("127.0.0.1", [401] * 6)])
def test_serve_believes_x_forwarded_for_only_from_named_proxies(
    make: Factory, database_url: str, tmp_path: Path, proxies: str, statuses: list[int]
) -> None:
    user = make.user("grid_worker")
    env = {"DOORSTEP_FORWARDED_ALLOW_IPS": proxies}
    with serving(database_url, tmp_path, SECRET, cli=True, **env) as server:
        assert _failures_from_new_addresses(server.url, user.username) == statuses


def test_serve_bounds_each_connection(tmp_path: Path) -> None:
    args = build_parser().parse_args(["serve"])
    options = uvicorn_options(args, load_settings({"DOORSTEP_DATA_DIR": str(tmp_path)}))
    assert options["proxy_headers"] is False and options["forwarded_allow_ips"] is None
    assert options["timeout_keep_alive"] == 5 and options["http"] == "server.cli.protocol:BoundedHeaders"


def test_serve_closes_a_connection_whose_headers_trickle_in(
    database_url: str, tmp_path: Path, db: Database
) -> None:
    with (
        serving(database_url, tmp_path, SECRET, cli=True) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=HEADERS_SECONDS + 10) as slow,
    ):
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
            assert response.status == 200  # others are served meanwhile
        assert slow.recv(1024) == b""  # closed by the server, not by the timeout here


def test_serve_refuses_megabytes_of_headers(database_url: str, tmp_path: Path, db: Database) -> None:
    with (
        serving(database_url, tmp_path, SECRET, cli=True) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as big,
    ):
        with contextlib.suppress(OSError):  # the server may close while this is still sending
            big.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2_000_000 + b"\r\n\r\n")
        assert big.recv(100).startswith(b"HTTP/1.1 431")
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
            assert response.status == 200
