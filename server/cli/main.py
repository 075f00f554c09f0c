"""The `doorstep` command: serve, migrate, demo data, users and admin tasks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from server.cli import admin, ledger, push, rescue
from server.cli.parser import COMMANDS, command
from server.cli.protocol import BoundedHeaders
from server.migrate import open_db
from server.settings import Settings, load_settings


@command("migrate")
def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    open_db(settings).dispose()
    print("数据库已是最新结构。")
    return 0


# Limits of each connection (docs/operations.md "Timeouts and caps"); headers that trickle in
# or grow huge are cut off by server.cli.protocol (uvicorn alone waits for them for ever).
KEEP_ALIVE_SECONDS = 5  # an idle connection between requests is closed after this
MAX_CONNECTIONS = 1000  # per worker; beyond, 503 (500 phones at 8:00 fit)


def uvicorn_options(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """What `doorstep serve` passes to uvicorn: X-Forwarded-For believed only from the
    proxies named in DOORSTEP_FORWARDED_ALLOW_IPS (or --forwarded-allow-ips), none by default."""
    proxies = settings.forwarded_allow_ips if args.forwarded_allow_ips is None else args.forwarded_allow_ips
    return {
        "factory": True,
        "http": f"{BoundedHeaders.__module__}:{BoundedHeaders.__name__}",  # by name, for --workers
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        "log_level": args.log_level,
        "timeout_graceful_shutdown": 10,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "limit_concurrency": MAX_CONNECTIONS,
    }


@command("serve")
def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    open_db(settings).dispose()
    # Only which name to print; what is bound is the operator's --host.
    shown = "localhost" if args.host in ("0.0.0.0", "127.0.0.1", "::") else args.host  # nosec B104
    print(f"家门口 Doorstep 已启动：http://{shown}:{args.port}/login  （按 Ctrl+C 停止）", flush=True)
    uvicorn.run("server.app:create_app", **uvicorn_options(args, settings))
    return 0


@command("messages")
def _messages(args: argparse.Namespace, settings: Settings) -> int:
    from server.i18n import catalog

    added, untranslated = catalog.update()
    print(f"新增 {added} 条待翻译的文字；英文目录里还有 {untranslated} 条没有翻译（{catalog.PO}）。")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="doorstep", description="家门口 Doorstep")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate the database, then serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--forwarded-allow-ips", default=None, help="default: DOORSTEP_FORWARDED_ALLOW_IPS")
    serve.add_argument("--log-level", default="info")

    sub.add_parser("migrate", help="bring the database to the latest schema")
    sub.add_parser("messages", help="add new UI strings to the English catalogue (for translators)")

    admin.add_parsers(sub)
    push.add_parsers(sub)
    ledger.add_parsers(sub)
    rescue.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    admin.register()
    push.register()
    ledger.register()
    rescue.register()
    args = build_parser().parse_args(argv)
    settings = load_settings()
    return COMMANDS[args.command](args, settings)


if __name__ == "__main__":
    sys.exit(main())
