"""`doorstep worker`, `doorstep push test`, `doorstep push status` and `doorstep gateway`: the
periodic jobs without HTTP, a push to try a phone, which push services answer, and who also
gets notices by the county gateway.

`doorstep worker` runs what `doorstep serve` runs beside the app (push
sending, reminders, housekeeping), for deployments with several app servers
that run theirs with DOORSTEP_RUN_JOBS=0, or as well as them: every job is
safe in several processes at once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import timedelta
from typing import Any

from server.cli.parser import ChineseParser, command
from server.i18n import gettext as _
from server.migrate import open_db
from server.settings import Settings

TEST_TTL = timedelta(hours=1)


def add_parsers(sub: Any) -> None:
    worker = sub.add_parser(
        "worker", help="run the periodic jobs (push sending, reminders) without serving HTTP"
    )
    worker.add_argument("--once", action="store_true", help="run every job once, then exit")

    push = sub.add_parser("push", help="push notifications")
    tasks = push.add_subparsers(dest="push_command", required=True, parser_class=ChineseParser)
    test = tasks.add_parser("test", help="send a test notification to every subscription of a user, now")
    test.add_argument("username")
    tasks.add_parser("status", help="which push services answer: last success and failure per origin")

    gateway = sub.add_parser("gateway", help="the county gateway (SMS, WeCom …): who gets notices by it")
    steps = gateway.add_subparsers(dest="gateway_command", required=True, parser_class=ChineseParser)
    opt_in = steps.add_parser("opt-in", help="send this user's notices by the gateway too")
    opt_in.add_argument("username")
    opt_in.add_argument(
        "--kinds", default="", help="comma-separated notice kinds (default: urgent ones only)"
    )
    opt_out = steps.add_parser("opt-out", help="stop sending this user's notices by the gateway")
    opt_out.add_argument("username")


def register() -> None:
    command("worker")(_worker)
    command("push")(_push)
    command("gateway")(_gateway)


def _services(settings: Settings) -> Any:
    from server.auth import Sessions
    from server.people.vault import Vault
    from server.web.pages import make_jinja
    from server.web.services import Services

    return Services(
        settings=settings,
        db=open_db(settings),
        sessions=Sessions(settings.secret_key),
        vault=Vault(settings.secret_key),
        jinja=make_jinja(),
    )


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from server.jobs import JOBS

    services = _services(settings)
    try:
        if args.once:
            for job in JOBS:
                job.run(services)
            return 0
        print(_("家门口后台任务已启动（推送通知、到期提醒、清理）。按 Ctrl+C 停止。"), flush=True)
        asyncio.run(_run_jobs(services))
        return 0
    finally:
        services.db.dispose()


async def _run_jobs(services: Any) -> None:
    from server.jobs import JobRunner

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = JobRunner(services)
    runner.start()
    try:
        await stop.wait()
    finally:
        await runner.stop()


def _push(args: argparse.Namespace, settings: Settings) -> int:
    if args.push_command == "status":
        return _push_status(settings)
    return _push_test(args.username, settings)


def _gateway(args: argparse.Namespace, settings: Settings) -> int:
    from server.commands import gateway
    from server.commands.users import UserError
    from server.errors import InvalidInput
    from server.push.triggers import NOTICES

    kinds = [k.strip() for k in getattr(args, "kinds", "").split(",") if k.strip()] or None
    db = open_db(settings)
    try:
        if args.gateway_command == "opt-in":
            db.run_write(
                lambda s: gateway.opt_in(s, username=args.username, kinds=kinds, known=frozenset(NOTICES))
            )
            which = "、".join(kinds) if kinds else _("紧急消息")
            print(_("%(name)s 的%(kinds)s也会经县级网关发送。", name=args.username, kinds=which))
        elif db.run_write(lambda s: gateway.opt_out(s, username=args.username)):
            print(_("%(name)s 的消息不再经县级网关发送。", name=args.username))
        else:
            print(_("%(name)s 本来就没有开启县级网关。", name=args.username))
        return 0
    except (UserError, InvalidInput) as exc:
        print(_("错误：%(reason)s", reason=exc.message), file=sys.stderr)
        return 2
    finally:
        db.dispose()


def _push_status(settings: Settings) -> int:
    """Per push-service origin the last success and failure; 1 when none is reachable now."""
    from server.push.reachability import reachability
    from server.web.pages import local

    db = open_db(settings)
    try:
        found = db.run_read(lambda s: reachability(s))
    finally:
        db.dispose()
    if not found.origins:
        print(_("还没有发送过推送。"))
        return 0
    for o in found.origins:
        print(
            _(
                "%(origin)s：上次成功 %(ok)s；上次失败 %(failed)s%(detail)s",
                origin=o.origin,
                ok=local(o.last_success) or _("从未"),
                failed=local(o.last_failure) or _("无"),
                detail="（" + o.last_detail + "）" if o.last_detail else "",
            )
        )
    if found.unreachable_hours is None:
        print(_("推送服务可达。"))
        return 0
    print(
        _(
            "已有 %(n)s 小时没有任何推送服务可达：Web Push 没有在送达消息，消息只靠同步送到收件人的消息页。",
            n=format(found.unreachable_hours, ".1f"),
        )
    )
    return 1


def _push_test(username: str, settings: Settings) -> int:
    from server.commands.users import UserError, user_by_username
    from server.models import utcnow
    from server.push.outbox import Message
    from server.push.sender import Sender

    # Each result is printed below; the log's copy of it would only repeat it on stderr.
    log = logging.getLogger("doorstep.push")
    if not log.handlers:
        log.addHandler(logging.NullHandler())
    services = _services(settings)
    sender = Sender(services.db, settings)
    try:
        try:
            user = services.db.run_read(lambda s: user_by_username(s, username))
        except UserError as exc:
            print(_("错误：%(reason)s", reason=exc.message), file=sys.stderr)
            return 2
        message = Message(
            payload={
                "title": _("家门口测试通知"),
                "body": _("%(name)s，您好：这台设备能收到家门口的通知。", name=user.display_name),
                "tag": "doorstep-test",
                "url": "/app/#/me",
                "kind": "test",
                "count": 1,
                "renotify": True,
            },
            topic="test",
            urgency="normal",
            expires_at=utcnow() + TEST_TTL,
        )
        outcomes = sender.send_now(user.id, message)
        if not outcomes:
            print(_("%(name)s 还没有开启通知的设备。", name=username), file=sys.stderr)
            return 1
        for outcome in outcomes:
            print(
                _(
                    "订阅 %(id)s（%(origin)s）：%(result)s",
                    id=str(outcome.subscription_id)[:8],
                    origin=outcome.origin,
                    result=_result(outcome),
                )
            )
        return 0 if all(o.outcome == "sent" for o in outcomes) else 1
    finally:
        sender.close()
        services.db.dispose()


def _result(outcome: Any) -> str:
    code = f" {outcome.status_code}" if outcome.status_code else ""
    texts = {
        "sent": _("已发出，推送服务已接收"),
        "retry": _("推送服务暂时不可用，稍后自动重试"),
        "gone": _("订阅已失效，已删除"),
        "too_large": _("内容太大，没有发送"),
        "expired": _("已过期，没有发送"),
    }
    text = texts.get(outcome.outcome) or _("发送失败：%(detail)s", detail=outcome.detail or "-")
    return f"{text}{code}"
