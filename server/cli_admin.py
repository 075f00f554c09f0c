"""`doorstep user …`, `doorstep admin …` and `doorstep demo`: tasks for operators at a shell."""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Callable
from typing import Any

from server.settings import Settings


def add_parsers(sub: Any) -> None:
    user = sub.add_parser("user", help="manage user accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    create = user_sub.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument(
        "--role", required=True, choices=["grid_worker", "community_staff", "department", "admin"]
    )
    create.add_argument("--name", help="display name (default: the username)")
    create.add_argument("--password", help="default: random, printed")
    create.add_argument("--community", help="community code (workers and staff)")
    create.add_argument("--grid", action="append", default=[], help="grid code; repeat for several")
    create.add_argument("--department", help="department code (department users)")

    demo = sub.add_parser("demo", help="seed one realistic community (idempotent)")
    demo.add_argument("--password", help="password of every demo user (default: random, printed)")


def register(command: Callable[[str], Callable[[Any], Any]]) -> None:
    command("user")(_user)
    command("demo")(_demo)


def _user(args: argparse.Namespace, settings: Settings) -> int:
    from server.cli import open_db
    from server.commands.users import UserError, create_user

    db = open_db(settings)
    password = args.password or secrets.token_urlsafe(9)
    try:
        db.run_write(
            lambda s: create_user(
                s,
                username=args.username,
                display_name=args.name or args.username,
                role=args.role,
                password=password,
                community_code=args.community,
                grid_codes=args.grid,
                department_code=args.department,
            )
        )
    except UserError as exc:
        print(f"错误：{exc}")
        return 2
    print(f"已创建用户 {args.username}（{args.role}），密码：{password}")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from server.cli import open_db
    from server.demo import seed

    db = open_db(settings)
    password = args.password or secrets.token_urlsafe(9)
    result = seed(db, secret_key=settings.secret_key, password=password)
    print(result.summary())
    return 0
