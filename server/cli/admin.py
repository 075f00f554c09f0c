"""`doorstep user …`, `doorstep admin …` and `doorstep demo`: tasks for operators at a shell.

They call the same commands as the admin pages, without an actor: the audit
log records their changes with no actor, which marks the shell. Bad input
prints a Chinese message to stderr and exits with 2.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlmodel import Session

from server.cli.parser import ChineseParser, command
from server.i18n import gettext as _
from server.migrate import open_db
from server.settings import Settings

ROLES = ["grid_worker", "community_staff", "department", "admin"]


def add_parsers(sub: Any) -> None:
    user = sub.add_parser("user", help="manage user accounts")
    users = user.add_subparsers(dest="user_command", required=True, parser_class=ChineseParser)

    create = users.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", help="display name (default: the username)")
    create.add_argument("--password", help="default: random, printed")
    create.add_argument("--phone", default="")
    create.add_argument("--community", help="community code (workers and staff)")
    create.add_argument("--grid", action="append", default=[], help="grid code; repeat for several")
    create.add_argument("--department", help="department code (department users)")

    reset = users.add_parser("reset-password", help="set a new password and end every session")
    reset.add_argument("username")
    reset.add_argument("--password", help="default: random, printed")

    assign = users.add_parser("assign-grids", help="make a worker hold exactly these grids")
    assign.add_argument("username")
    assign.add_argument("--grid", action="append", default=[], help="grid code; repeat for several")
    assign.add_argument("--none", action="store_true", help="take every grid away")

    for name, text in (
        ("deactivate", "block sign-in and end every session"),
        ("activate", "allow sign-in again"),
    ):
        users.add_parser(name, help=text).add_argument("username")

    listing = users.add_parser("list", help="list users")
    listing.add_argument("--role", choices=ROLES)
    listing.add_argument("--community", help="community code")

    admin = sub.add_parser("admin", help="communities, grids, departments, tags and settings")
    tasks = admin.add_subparsers(dest="admin_command", required=True, parser_class=ChineseParser)

    community = tasks.add_parser("community-create", help="create a community")
    community.add_argument("code")
    community.add_argument("name")
    community.add_argument("--address", default="")

    grid = tasks.add_parser("grid-create", help="create a grid in a community")
    grid.add_argument("community", help="community code")
    grid.add_argument("code")
    grid.add_argument("name")
    grid.add_argument("--lat", help="latitude of the grid's centre")
    grid.add_argument("--lng", help="longitude of the grid's centre")

    tasks.add_parser("communities", help="list communities and their grids")

    department = tasks.add_parser("department-create", help="create a department")
    department.add_argument("code")
    department.add_argument("name")

    tasks.add_parser("departments", help="list departments")

    tag = tasks.add_parser("tag-create", help="add a tag to the catalogue")
    tag.add_argument("code")
    tag.add_argument("name")
    tag.add_argument("--category", default="")
    tag.add_argument("--sensitive", action="store_true")

    tasks.add_parser("tags", help="list the tag catalogue")
    tasks.add_parser("settings", help="show every run-time setting")

    setting = tasks.add_parser("set", help="change a run-time setting (VALUE as JSON or plain text)")
    setting.add_argument("key")
    setting.add_argument("value")

    demo = sub.add_parser("demo", help="seed one realistic community (idempotent)")
    demo.add_argument("--password", help="password of every demo user (default: random, printed)")
    demo.add_argument(
        "--port",
        type=int,
        default=8000,
        help="the port `doorstep serve` will use (for the addresses printed)",
    )


def register() -> None:
    command("user")(_user)
    command("admin")(_admin)
    command("demo")(_demo)


@contextmanager
def _database(settings: Settings) -> Iterator[Any]:

    db = open_db(settings)
    try:
        yield db
    finally:
        db.dispose()


def _run(settings: Settings, fn: Callable[[Session], str], *, write: bool = True) -> int:
    """Run `fn` in one transaction and print what it returns; a refusal prints why and exits 2."""
    from server.access import NotFound
    from server.errors import DomainError

    with _database(settings) as db:
        try:
            text = db.run_write(fn) if write else db.run_read(fn)
        except DomainError as exc:
            print(_("错误：%(reason)s", reason=exc.message), file=sys.stderr)
            return 2
        except NotFound:
            print(_("错误：找不到要修改的记录。"), file=sys.stderr)
            return 2
    print(text)
    return 0


# -- doorstep user … -------------------------------------------------------------------------


def _user(args: argparse.Namespace, settings: Settings) -> int:
    handlers: dict[str, Callable[[Session], str]] = {
        "create": lambda s: _user_create(s, args),
        "reset-password": lambda s: _user_password(s, args),
        "assign-grids": lambda s: _user_grids(s, args),
        "deactivate": lambda s: _user_active(s, args.username, active=False),
        "activate": lambda s: _user_active(s, args.username, active=True),
        "list": lambda s: _user_list(s, args),
    }
    if args.user_command == "assign-grids" and not args.grid and not args.none:
        print(_("错误：请用 --grid 指定网格（可重复），或用 --none 取消全部网格。"), file=sys.stderr)
        return 2
    return _run(settings, handlers[args.user_command], write=args.user_command != "list")


def _user_create(session: Session, args: argparse.Namespace) -> str:
    from server.commands.users import create_user
    from server.i18n.labels import ROLE_NAMES

    password = args.password or secrets.token_urlsafe(9)
    create_user(
        session,
        username=args.username,
        display_name=args.name or args.username,
        role=args.role,
        password=password,
        phone=args.phone,
        community_code=args.community,
        grid_codes=args.grid,
        department_code=args.department,
    )
    return _(
        "已创建用户 %(name)s（%(role)s），密码：%(password)s",
        name=args.username,
        role=ROLE_NAMES[args.role],
        password=password,
    )


def _user_password(session: Session, args: argparse.Namespace) -> str:
    from server.commands.users import reset_password, user_by_username

    password = args.password or secrets.token_urlsafe(9)
    user = user_by_username(session, args.username)
    reset_password(session, actor=None, user_id=user.id, password=password)
    return _(
        "已重置 %(name)s 的密码：%(password)s。该用户在所有设备上都需要重新登录。",
        name=user.username,
        password=password,
    )


def _user_grids(session: Session, args: argparse.Namespace) -> str:
    from server.commands.users import assign_grids, user_by_username

    user = user_by_username(session, args.username)
    grids = assign_grids(session, actor=None, user_id=user.id, grid_codes=[] if args.none else args.grid)
    held = "、".join(f"{g.name}（{g.code}）" for g in grids) or _("无")
    return _("%(name)s 负责的网格：%(grids)s", name=user.username, grids=held)


def _user_active(session: Session, username: str, *, active: bool) -> str:
    from server.commands.users import set_active, user_by_username

    user = user_by_username(session, username)
    set_active(session, actor=None, user_id=user.id, active=active)
    if active:
        return _("已启用 %(name)s。", name=user.username)
    return _("已停用 %(name)s，其登录已全部失效。", name=user.username)


def _user_list(session: Session, args: argparse.Namespace) -> str:
    from server.commands.org import community_by_code
    from server.queries.users import list_users

    community = community_by_code(session, args.community) if args.community else None
    rows = list_users(session, role=args.role, community_id=community.id if community else None)
    lines = [_("共 %(n)s 个用户", n=len(rows))]
    for row in rows:
        where = row.community.code if row.community else row.department.code if row.department else "-"
        grids = ",".join(g.code for g in row.grids) or "-"
        state = _("在用") if row.user.active else _("已停用")
        lines.append(
            f"{row.user.username}\t{row.user.display_name}\t{row.role_name}\t{where}\t{grids}\t{state}"
        )
    return "\n".join(lines)


# -- doorstep admin … ------------------------------------------------------------------------


def _admin(args: argparse.Namespace, settings: Settings) -> int:
    handlers: dict[str, Callable[[Session], str]] = {
        "community-create": lambda s: _community_create(s, args),
        "grid-create": lambda s: _grid_create(s, args),
        "communities": _communities,
        "department-create": lambda s: _department_create(s, args),
        "departments": _departments,
        "tag-create": lambda s: _tag_create(s, args),
        "tags": _tags,
        "settings": _settings,
        "set": lambda s: _set(s, args),
    }
    reads = {"communities", "departments", "tags", "settings"}
    return _run(settings, handlers[args.admin_command], write=args.admin_command not in reads)


def _community_create(session: Session, args: argparse.Namespace) -> str:
    from server.commands.org import create_community

    community = create_community(session, actor=None, name=args.name, code=args.code, address=args.address)
    return _("已创建社区 %(name)s（%(code)s）", name=community.name, code=community.code)


def _grid_create(session: Session, args: argparse.Namespace) -> str:
    from server.commands.org import community_by_code, create_grid

    community = community_by_code(session, args.community)
    grid = create_grid(
        session,
        actor=None,
        community_id=community.id,
        name=args.name,
        code=args.code,
        lat=args.lat,
        lng=args.lng,
    )
    return _(
        "已在 %(community)s 创建网格 %(name)s（%(code)s）",
        community=community.name,
        name=grid.name,
        code=grid.code,
    )


def _communities(session: Session) -> str:
    from server.queries.org import communities

    lines = []
    for row in communities(session):
        lines.append(f"{row.community.code}\t{row.community.name}")
        lines.extend(f"  {g.code}\t{g.name}" for g in row.grids)
    return "\n".join(lines) or _("还没有社区。")


def _department_create(session: Session, args: argparse.Namespace) -> str:
    from server.commands.org import create_department

    department = create_department(session, actor=None, name=args.name, code=args.code)
    return _("已创建部门 %(name)s（%(code)s）", name=department.name, code=department.code)


def _departments(session: Session) -> str:
    from server.queries.org import departments

    return "\n".join(f"{d.code}\t{d.name}" for d in departments(session)) or _("还没有部门。")


def _tag_create(session: Session, args: argparse.Namespace) -> str:
    from server.commands.org import create_tag

    tag = create_tag(
        session, actor=None, code=args.code, name=args.name, category=args.category, sensitive=args.sensitive
    )
    created = _("已创建标签 %(name)s（%(code)s）", name=tag.name, code=tag.code)
    return created + (_("，敏感") if tag.sensitive else "")


def _tags(session: Session) -> str:
    from server.queries.org import tags

    lines = []
    for row in tags(session):
        marks = [_("敏感")] if row.tag.sensitive else []
        marks += [] if row.tag.active else [_("已停用")]
        people = _("%(n)s 人", n=row.residents)
        lines.append(
            f"{row.tag.code}\t{row.tag.name}\t{row.tag.category or '-'}\t{people}\t{' '.join(marks)}".rstrip()
        )
    return "\n".join(lines) or _("还没有标签。")


def _settings(session: Session) -> str:
    from server import preferences

    lines = []
    for row in preferences.current(session):
        entry = row.definition
        mark = "" if row.customised else _("（默认）")
        lines.append(f"{entry.key}\t{entry.label}：{entry.kind.text(row.value)}{mark}")
    return "\n".join(lines)


def _set(session: Session, args: argparse.Namespace) -> str:
    from server import preferences
    from server.errors import InvalidInput

    try:
        entry = preferences.definition(args.key)
    except preferences.UnknownPreference:
        known = "、".join(preferences.REGISTRY)
        raise InvalidInput(
            {"key": _("没有设置项 %(key)s。可用的有：%(known)s", key=args.key, known=known)}
        ) from None
    try:
        value = json.loads(args.value)
    except ValueError:
        value = args.value
    stored = preferences.set(session, entry.key, value, None)
    return _("已设置 %(label)s：%(value)s", label=entry.label, value=entry.kind.text(stored))


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from server.demo.seed import seed

    password = args.password or secrets.token_urlsafe(9)
    if len(password) < 8:
        print("错误：演示账号的密码至少 8 个字符。", file=sys.stderr)
        return 2
    db = open_db(settings)
    result = seed(db, secret_key=settings.secret_key, password=password)
    print(result.summary(port=args.port))
    return 0
