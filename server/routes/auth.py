"""The sign-in page, sign-out, and the language switch."""

from __future__ import annotations

from urllib.parse import urlparse

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server import i18n
from server.auth import SESSION_COOKIE, SESSION_LIFETIME, Refused, SignedIn, well_formed
from server.i18n import gettext as _
from server.web.context import LANG_COOKIE
from server.web.forms import read_form, text
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


async def attempt_login(request: Request, username: object, password: object) -> SignedIn | Refused:
    """The one sign-in step of the page and of `/sync/login`: checked, throttled, committed."""
    if not well_formed(username, password):
        return Refused("invalid_input")
    assert isinstance(username, str) and isinstance(password, str)
    sessions = services(request).sessions
    user_agent = request.headers.get("user-agent", "")
    return await write(
        request,
        lambda s: sessions.login(
            s, username=username, password=password, ip=client_ip(request), user_agent=user_agent
        ),
    )


def refusal(result: Refused) -> tuple[int, str, dict[str, str]]:
    """A refused sign-in as status, message and headers, the same for the page and the phone."""
    if result.code == "invalid_input":
        return 400, _("用户名或密码的格式不对。"), {}
    if result.code == "account_disabled":
        return 403, _("账号已停用，请联系社区。"), {}
    if result.code != "rate_limited":
        return 401, _("用户名或密码不对。"), {}
    wait = result.retry_after
    message = (
        _("失败次数太多，请 %(n)s 秒后再试。", n=wait)
        if wait < 60
        else _("失败次数太多，请 %(n)s 分钟后再试。", n=-(-wait // 60))
    )
    return 429, message, {"Retry-After": str(wait)}


async def login_page(request: Request) -> Response:
    if current_actor(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return render(request, "login.html", {"next": safe_next(request.query_params.get("next"))})


async def login_submit(request: Request) -> Response:
    form = await read_form(request)
    username = form.get("username", "")
    target = safe_next(text(form, "next"))
    result = await attempt_login(request, username, form.get("password", ""))
    if isinstance(result, Refused):
        status, message, headers = refusal(result)
        context = {"error": message, "username": text(form, "username"), "next": target}
        page = render(request, "login.html", context, status=status)
        page.headers.update(headers)
        return page
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
