"""CSRF protection for every HTML form post.

Any unsafe request whose body a cross-site HTML form could send (urlencoded,
multipart, text/plain, or no type) must carry the token in the form field
`csrf_token` or the header `X-CSRF-Token`. Signed-in users' tokens live with
their session; anonymous pages (sign-in, the residents' public form) use a
signed cookie. JSON APIs (`/sync/`, `/push/`) refuse non-JSON bodies with 415
themselves, and browsers cannot send JSON cross-site without a preflight we
never answer, so they are outside this check.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

from itsdangerous import BadSignature, Signer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.i18n import gettext as _

ANON_COOKIE = "doorstep_csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
JSON_PREFIXES = ("/sync/", "/push/", "/open311/")
MAX_FORM_BODY = 24 * 1024 * 1024
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def token_for(scope: Scope) -> str:
    """The token pages must embed for this request."""
    record = scope.get("user_session")
    if record is not None:
        return str(record.csrf_token)
    state = scope.setdefault("csrf", {})
    if "anon" not in state:
        state["anon"] = _anon_token(scope) or secrets.token_urlsafe(24)
        state["set_cookie"] = _anon_token(scope) is None
    return str(state["anon"])


def _anon_token(scope: Scope) -> str | None:
    raw = HTTPConnection(scope).cookies.get(ANON_COOKIE)
    if not raw:
        return None
    try:
        return Signer(scope["app"].state.services.settings.secret_key, salt="csrf").unsign(raw).decode()
    except BadSignature:
        return None


class CSRFMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if scope["method"] in _UNSAFE and not path.startswith(JSON_PREFIXES):
            body, too_large = await _read_body(receive)
            if too_large:
                await _refuse(scope, receive, send, 413, _("提交的内容太大。"))
                return
            submitted = await _submitted_token(scope, body)
            expected = token_for(scope)
            if not submitted or not hmac.compare_digest(submitted, expected):
                await _refuse(scope, receive, send, 403, _("页面已过期或来源不明，请刷新页面后重试。"))
                return
            receive = _replay(body)
        await self.app(scope, receive, self._with_cookie(scope, send))

    def _with_cookie(self, scope: Scope, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            state = scope.get("csrf") or {}
            if message["type"] == "http.response.start" and state.get("set_cookie"):
                signer = Signer(scope["app"].state.services.settings.secret_key, salt="csrf")
                value = signer.sign(state["anon"]).decode()
                secure = "; Secure" if scope["app"].state.services.settings.https else ""
                MutableHeaders(scope=message).append(
                    "Set-Cookie", f"{ANON_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{secure}"
                )
            await send(message)

        return wrapped


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BODY:
            return b"", True
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks), False


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _submitted_token(scope: Scope, body: bytes) -> str | None:
    header = HTTPConnection(scope).headers.get(HEADER)
    if header:
        return header
    content_type = HTTPConnection(scope).headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(FIELD)
        return values[0] if values else None
    if content_type.startswith("multipart/form-data"):
        request = Request(scope, _replay(body))
        async with request.form(max_part_size=MAX_FORM_BODY) as form:
            value = form.get(FIELD)
            return value if isinstance(value, str) else None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    from server.web.pages import error_response

    response = error_response(
        Request(scope, receive), status, "csrf_failed" if status == 403 else "too_large", message
    )
    await response(scope, receive, send)
