"""The `doorstep` command's parts: the table of sub-commands and a parser that speaks Chinese."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from typing import Any, NoReturn

from server.access import Actor
from server.i18n import gettext as _
from server.settings import Settings

Handler = Callable[[argparse.Namespace, Settings], int]
COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    """Enter `fn` in the table as the handler of `doorstep NAME`."""

    def register(fn: Handler) -> Handler:
        COMMANDS[name] = fn
        return fn

    return register


class ChineseParser(argparse.ArgumentParser):
    """Usage errors exit with 2, as argparse does, but say so in Chinese."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, _("错误：命令参数不对（%(reason)s）。用 -h 查看用法。", reason=message) + "\n")


# The answer of `staff_actor` for an account that may not act: the caller exits with 2.
NOBODY = Actor(id=uuid.UUID(int=1), username="", display_name="", role="")


def staff_actor(db: Any, username: str | None, cannot: str) -> Actor | None:
    """The staff member or admin named by --user; None for the shell (an admin); NOBODY, said
    why on stderr ("… 不是社区工作人员或管理员的账号，<cannot>。"), when there is no such active account."""
    if not username:
        return None
    from sqlmodel import select

    from server.auth import actor_for
    from server.models import Role, User

    with db.read() as session:
        user = session.exec(select(User).where(User.username == username, User.active == True)).first()  # noqa: E712
        if user is not None and user.role in (Role.admin, Role.community_staff):
            return actor_for(session, user)
    print(
        _("错误：%(name)s 不是社区工作人员或管理员的账号，%(cannot)s。", name=username, cannot=cannot),
        file=sys.stderr,
    )
    return NOBODY
