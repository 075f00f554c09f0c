"""Helpers every route uses: who is asking, the database, rendering, errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from server import i18n
from server.access import Actor, Forbidden
from server.clock import in_local
from server.i18n import labels
from server.people import idnumber, phone
from server.web import csrf
from server.web.capacity import Capacity
from server.web.services import Services

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
JSON_PREFIXES = (*csrf.JSON_PREFIXES, "/healthz")


class LoginRequired(Exception):
    """No valid session: pages redirect to /login, APIs answer 401."""


def services(conn: HTTPConnection) -> Services:
    return conn.app.state.services  # type: ignore[no-any-return]


def current_actor(conn: HTTPConnection) -> Actor | None:
    return conn.scope.get("actor")


def require_actor(conn: HTTPConnection, *roles: str) -> Actor:
    actor = current_actor(conn)
    if actor is None:
        raise LoginRequired()
    if roles and actor.role not in roles and not actor.is_admin:
        raise Forbidden(actor.role)
    return actor


async def read(
    conn: HTTPConnection,
    fn: Callable[[Session], T],
    *,
    snapshot: bool = False,
    capacity: Capacity | None = None,
) -> T:
    db = services(conn).db
    work = partial(db.run_read, fn, snapshot=snapshot)
    return await (capacity.run(work) if capacity else run_in_threadpool(work))


async def write(conn: HTTPConnection, fn: Callable[[Session], T]) -> T:
    db = services(conn).db
    return await run_in_threadpool(db.run_write, fn)


def absolute_url(conn: HTTPConnection, path: str) -> str:
    """`path` on DOORSTEP_PUBLIC_URL: printed QR codes and links sent out must not follow
    whatever Host header a request came with. Unset (development), the request's own base."""
    base = services(conn).settings.public_url or str(conn.base_url).rstrip("/")
    return base + path


def client_ip(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else ""


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def wants_json(conn: HTTPConnection) -> bool:
    return conn.url.path.startswith(JSON_PREFIXES)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    block: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page, or only `block` of it when htmx asked (the URL then varies on HX-Request)."""
    env = services(request).jinja
    tmpl = env.get_template(template)
    ctx = {
        "request": request,
        "actor": current_actor(request),
        "csrf_token": csrf.token_for(request.scope),
        "lang": i18n.current(),
        **(context or {}),
    }
    if block is not None and is_htmx(request):
        content = "".join(tmpl.blocks[block](tmpl.new_context(ctx)))
    else:
        content = tmpl.render(ctx)
    response = HTMLResponse(content, status_code=status, headers=dict(headers or {}))
    if block is not None:
        response.headers.append("Vary", "HX-Request")
    return response


def error_response(conn: HTTPConnection, status: int, code: str, message: str, **extra: Any) -> Response:
    if wants_json(conn):
        return JSONResponse({"error": code, "message": message, **extra}, status_code=status)
    request = conn if isinstance(conn, Request) else Request(conn.scope)
    return render(request, "error.html", {"status": status, "code": code, "message": message}, status=status)


def local(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return in_local(value).strftime(fmt)
    return value.strftime("%Y-%m-%d")


def static_url(path: str) -> str:
    """`/static/<path>?v=<mtime>`: a new file gets a new URL, so browsers never mix versions."""
    try:
        stamp = int((STATIC / path).stat().st_mtime)
    except OSError:
        stamp = 0
    return f"/static/{path}?v={stamp}"


def make_jinja() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda s: i18n.translations(i18n.current()).gettext(s),
        lambda s, p, n: i18n.translations(i18n.current()).ngettext(s, p, n),
        newstyle=True,
    )
    env.filters["local"] = local
    env.filters["mask_phone"] = phone.mask
    env.filters["mask_id"] = idnumber.mask
    env.globals["languages"] = i18n.LANGUAGES
    env.globals["label"] = labels.label
    env.globals["static"] = static_url
    env.globals["Markup"] = Markup
    return env
