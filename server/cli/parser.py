"""The `doorstep` command's parts: the table of sub-commands and a parser that speaks Chinese."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

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
