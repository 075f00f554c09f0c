"""How much a request may send: a body cap per request, enforced before and while it is read.

Anonymous requests get what their forms need (sign-in, the residents' public and rating
forms); signed-in users get room for a photo. A declared Content-Length over the cap is
refused before a byte is read; a body that grows past it while streaming is refused then,
without reading the rest. Nothing oversized is buffered, on the event loop or anywhere.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.i18n import gettext as _
from server.web.csrf import ErrorPage

KB = 1024
SIGNED_IN = 24 * KB * KB  # a travel card form with its photo (blobs.MAX_BLOB is 10 MB)
SIGNED_IN_PATHS = {  # what the larger signed-in forms need
    "/ledger/imports": 40 * KB * KB,  # a county's household ledger (50,000 rows are about 4 MB)
    "/devices/rescue": 64 * KB * KB,  # a phone's rescue file with its photos (sync/rescue.py MAX_FILE)
}
ANONYMOUS = 64 * KB  # the residents' public request form, the largest anonymous form
ANONYMOUS_PATHS = {  # what the smaller anonymous forms need
    "/login": 16 * KB,  # a 1024-character password, percent-encoded
    "/sync/login": 16 * KB,
    "/language": 4 * KB,
    "/r/": 16 * KB,  # a 500-character comment, percent-encoded, with room to be told it is too long
    "/ra/": 16 * KB,  # the same, for an assisted application
}


class TooLarge(Exception):
    """The body grew past its cap while being read."""


def cap_for(scope: Scope) -> int:
    path: str = scope["path"]
    if scope.get("user_session") is not None:
        return SIGNED_IN_PATHS.get(path, SIGNED_IN)
    for prefix, cap in ANONYMOUS_PATHS.items():
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            return cap
    return ANONYMOUS


def _declared(scope: Scope) -> int | None:
    value = HTTPConnection(scope).headers.get("content-length", "")
    return int(value) if value.isdigit() else None


class BodyLimit:
    """Must run after RequestContext (which says whether someone is signed in)."""

    def __init__(self, app: ASGIApp, *, error_page: ErrorPage) -> None:
        self.app = app
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = cap_for(scope)
        declared = _declared(scope)
        if declared is not None and declared > cap:
            await self._refuse(scope, receive, send, cap)
            return
        size = 0
        started = False

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > cap:
                raise TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, cap)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        shown = f"{cap // (KB * KB)} MB" if cap >= KB * KB else f"{cap // KB} KB"
        message = _("提交的内容太大（上限 %(size)s）。", size=shown)
        response = self.error_page(HTTPConnection(scope), 413, "too_large", message)
        response.headers["Connection"] = "close"  # the rest of the body is never read
        await response(scope, receive, send)
