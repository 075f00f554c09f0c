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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.i18n import gettext as _
from server.web.forms import CSRF_FIELD as FIELD
from server.web.forms import BadForm, read_form

ANON_COOKIE = "doorstep_csrf"
HEADER = "x-csrf-token"
JSON_PREFIXES = ("/sync/", "/push/", "/open311/")
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# (connection, status, code, message) -> the error page; the app passes its own, so this module
# needs nothing from the page layer (which needs `token_for` from here).
ErrorPage = Callable[[HTTPConnection, int, str, str], Response]


@dataclass
class _Anonymous:
    """This request's token for anonymous pages, from the signed cookie or made fresh."""

    signer: Signer
    token: str | None = None
    set_cookie: bool = False


def token_for(scope: Scope) -> str:
    """The token pages must embed for this request."""
    record = scope.get("user_session")
    if record is not None:
        return str(record.csrf_token)
    anon: _Anonymous | None = scope.get("csrf")
    if anon is None:  # rendered before this middleware ran (a 503 from RequestContext): no form checks
        return ""
    if anon.token is None:
        found = _anon_token(scope, anon.signer)
        anon.token, anon.set_cookie = found or secrets.token_urlsafe(24), found is None
    return anon.token


def _anon_token(scope: Scope, signer: Signer) -> str | None:
    raw = HTTPConnection(scope).cookies.get(ANON_COOKIE)
    if not raw:
        return None
    try:
        return signer.unsign(raw).decode()
    except BadSignature:
        return None


def not_cross_site(conn: HTTPConnection) -> bool:
    """True for a request no cross-site form can send: a JSON body, or this session's token in
    the header. For the JSON APIs outside the middleware that act without reading a body."""
    content_type = conn.headers.get("content-type", "").split(";")[0].strip().lower()
    header = conn.headers.get(HEADER, "")
    return content_type == "application/json" or bool(header and _same(header, token_for(conn.scope)))


def _same(submitted: str, expected: str) -> bool:
    """Constant-time, and for any text (compare_digest raises on non-ASCII str)."""
    return hmac.compare_digest(submitted.encode("utf-8", "surrogatepass"), expected.encode())


class CSRFMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        secret_key: str,
        error_page: ErrorPage,
        exempt: Sequence[str] = (),
        https: bool = False,
    ) -> None:
        self.app = app
        self.signer = Signer(secret_key, salt="csrf")
        self.error_page = error_page
        self.exempt = tuple(exempt)
        self.secure = "; Secure" if https else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["csrf"] = _Anonymous(self.signer)
        path: str = scope["path"]
        if scope["method"] in _UNSAFE and not path.startswith(self.exempt):
            body = await _read_body(receive)  # within BodyLimit's cap, which runs first
            try:
                submitted = await _submitted_token(scope, body)
            except BadForm as exc:
                await self._refuse(scope, receive, send, 400, exc.message)
                return
            expected = token_for(scope)
            if not submitted or not _same(submitted, expected):
                await self._refuse(scope, receive, send, 403, _("页面已过期或来源不明，请刷新页面后重试。"))
                return
            receive = _replay(body)
        await self.app(scope, receive, self._with_cookie(scope, send))

    def _with_cookie(self, scope: Scope, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            anon: _Anonymous = scope["csrf"]
            if message["type"] == "http.response.start" and anon.set_cookie and anon.token:
                value = self.signer.sign(anon.token).decode()
                MutableHeaders(scope=message).append(
                    "Set-Cookie", f"{ANON_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{self.secure}"
                )
            await send(message)

        return wrapped

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        code = "csrf_failed" if status == 403 else "bad_form"
        response = self.error_page(Request(scope, receive), status, code, message)
        await response(scope, receive, send)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


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
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    form = await read_form(Request(scope, _replay(body)), files=True)
    try:
        value = form.get(FIELD)
        return value if isinstance(value, str) else None
    finally:
        await form.close()
