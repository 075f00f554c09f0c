"""The Starlette application: middleware, routes and error pages, assembled once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from server.access import Forbidden, NotFound
from server.auth import Sessions
from server.db import Database, TemporaryFailure
from server.i18n import gettext as _
from server.models import utcnow
from server.people.vault import Vault
from server.settings import Settings, load_settings
from server.web.context import RequestContext
from server.web.csrf import JSON_PREFIXES, CSRFMiddleware
from server.web.forms import BadForm
from server.web.headers import SecurityHeaders
from server.web.limits import BodyLimit
from server.web.pages import STATIC, LoginRequired, error_response, make_jinja, wants_json
from server.web.redaction import redact_access_log
from server.web.services import Services

log = logging.getLogger(__name__)


def routes() -> list[BaseRoute]:
    from server.routes import all_routes

    return [*all_routes(), Mount("/static", app=StaticFiles(directory=STATIC), name="static")]


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(request, 404, "not_found", _("找不到该页面或记录。"))


async def _forbidden(request: Request, exc: Exception) -> Response:
    return error_response(request, 403, "forbidden", _("您的角色不能进行此操作。"))


async def _login_required(request: Request, exc: Exception) -> Response:
    if wants_json(request):
        return error_response(request, 401, "login_required", _("请先登录。"))
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request") == "true":
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    return RedirectResponse(f"/login?next={target}", status_code=303)


async def _bad_form(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadForm)
    return error_response(request, 400, "bad_form", exc.message)


async def _unavailable(request: Request, exc: Exception) -> Response:
    retry = exc.retry_after if isinstance(exc, TemporaryFailure) else 2
    response = error_response(request, 503, "unavailable", _("服务器暂时繁忙，请稍后重试。"))
    response.headers["Retry-After"] = str(retry)
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return await _not_found(request, exc)
    code = {405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}.get(
        exc.status_code, "error"
    )
    return error_response(request, exc.status_code, code, str(exc.detail), headers=None)


def _record_release(db: Database) -> None:
    """This server's field-app version joins the versions served (a minimum can then name it);
    a database not reachable at start only delays that to the next start."""
    from server.commands import releases
    from server.routes.field import version

    try:
        with db.write() as session:
            releases.record(session, version(), utcnow())
    except (SQLAlchemyError, TemporaryFailure) as exc:  # serving must not wait on this
        log.warning("app version not recorded: %s", exc)


def create_app(
    settings: Settings | None = None, *, db: Database | None = None, jobs: bool | None = None
) -> Starlette:
    settings = settings or load_settings()
    redact_access_log()
    db = db or Database(settings.database_url)
    services = Services(
        settings=settings,
        db=db,
        sessions=Sessions(settings.secret_key),
        vault=Vault(settings.secret_key),
        jinja=make_jinja(),
    )
    run_jobs = settings.run_jobs if jobs is None else jobs

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from server.jobs import JobRunner

        await anyio.to_thread.run_sync(_record_release, services.db)
        runner = JobRunner(services) if run_jobs else None
        if runner is not None:
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                await runner.stop()

    handlers: dict[Any, Any] = {
        NotFound: _not_found,
        Forbidden: _forbidden,
        LoginRequired: _login_required,
        TemporaryFailure: _unavailable,
        BadForm: _bad_form,
        HTTPException: _http_error,
    }
    app = Starlette(
        routes=routes(),
        middleware=[
            Middleware(SecurityHeaders, https=settings.https),
            Middleware(GZipMiddleware, minimum_size=1024),
            Middleware(RequestContext, sessions=services.sessions, db=db, error_page=error_response),
            Middleware(BodyLimit, error_page=error_response),
            Middleware(
                CSRFMiddleware,
                secret_key=settings.secret_key,
                error_page=error_response,
                exempt=JSON_PREFIXES,
                https=settings.https,
            ),
        ],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    app.state.services = services
    return app
