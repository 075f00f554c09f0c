"""The start page: where each role's work begins."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.models import Role
from server.web.pages import require_actor


async def home(request: Request) -> Response:
    actor = require_actor(request)
    if actor.role == Role.admin:
        return RedirectResponse("/admin", status_code=303)
    if actor.role == Role.department:
        return RedirectResponse("/demands", status_code=303)
    if actor.role == Role.grid_worker:
        return RedirectResponse("/app/", status_code=303)
    return RedirectResponse("/households", status_code=303)


routes = [Route("/", home)]
