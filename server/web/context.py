"""Per-request context: who is signed in (from the session cookie) and which language to speak."""

from __future__ import annotations

import contextlib

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from server import i18n
from server.auth import SESSION_COOKIE, Sessions
from server.db import Database, TemporaryFailure
from server.web.csrf import ErrorPage

LANG_COOKIE = "doorstep_lang"


class RequestContext:
    def __init__(self, app: ASGIApp, *, sessions: Sessions, db: Database, error_page: ErrorPage) -> None:
        self.app = app
        self.sessions = sessions
        self.db = db
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        scope["actor"] = None
        scope["user_session"] = None
        cookie = conn.cookies.get(SESSION_COOKIE)
        if cookie and not scope["path"].startswith("/static/"):
            sessions = self.sessions
            found = sessions.cached(cookie)
            if found is None:
                try:
                    found = await run_in_threadpool(self.db.run_read, lambda s: sessions.lookup(s, cookie))
                except TemporaryFailure as exc:
                    await self._unavailable(scope, receive, send, exc.retry_after)
                    return
                if found is not None:
                    sessions.remember(cookie, found)
            if found is not None:
                actor, record = found
                scope["actor"], scope["user_session"] = actor, record
                if sessions.needs_refresh(record):
                    # Sliding expiry is a nicety; a busy database must not fail the request for it.
                    with contextlib.suppress(TemporaryFailure):
                        await run_in_threadpool(self.db.run_write, lambda s: sessions.refresh(s, record.id))
        lang = conn.cookies.get(LANG_COOKIE) or (scope["actor"].locale if scope["actor"] else None)
        token = i18n.set_language(lang)
        try:
            await self.app(scope, receive, send)
        finally:
            i18n._current.reset(token)

    async def _unavailable(self, scope: Scope, receive: Receive, send: Send, retry_after: int) -> None:
        message = i18n.gettext("服务器暂时繁忙，请稍后重试。")
        response = self.error_page(HTTPConnection(scope), 503, "unavailable", message)
        response.headers["Retry-After"] = str(retry_after)
        await response(scope, receive, send)
