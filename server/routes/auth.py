"""The sign-in page, sign-out, and the language switch."""

from __future__ import annotations

from urllib.parse import urlparse

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server import i18n
from server.auth import SESSION_COOKIE, SESSION_LIFETIME, Refused, SignedIn
from server.i18n import gettext as _
from server.web.context import LANG_COOKIE
from server.web.forms import read_form
from server.web.pages import client_ip, current_actor, render, services, write


def safe_next(target: str | None) -> str:
    """Only same-site paths: `next` must never send people to another site."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def set_session_cookie(request: Request, response: Response, cookie: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=services(request).settings.https,
        path="/",
    )


async def attempt_login(request: Request, username: str, password: str) -> SignedIn | Refused:
    """The one sign-in step of the page and of `/sync/login`: counted, rate limited, committed."""
    sessions = services(request).sessions
    user_agent = request.headers.get("user-agent", "")
    return await write(
        request,
        lambda s: sessions.login(
            s, username=username, password=password, ip=client_ip(request), user_agent=user_agent
        ),
    )


async def login_page(request: Request) -> Response:
    if current_actor(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return render(request, "login.html", {"next": safe_next(request.query_params.get("next"))})


async def login_submit(request: Request) -> Response:
    form = await read_form(request)
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    result = await attempt_login(request, username, password)
    if isinstance(result, Refused):
        message = (
            _("尝试次数太多，请 15 分钟后再试。")
            if result.code == "rate_limited"
            else _("用户名或密码不对。")
        )
        status = 429 if result.code == "rate_limited" else 401
        return render(
            request, "login.html", {"error": message, "username": username, "next": target}, status=status
        )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, result.cookie)
    return response


async def logout(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await write(request, lambda s: services(request).sessions.logout(s, cookie))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def set_language(request: Request) -> Response:
    form = await read_form(request)
    lang = i18n.normalise(str(form.get("lang", "")))
    response = RedirectResponse(safe_next(str(form.get("next", "/"))), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/language", set_language, methods=["POST"]),
]
