"""Office pages for assisted applications (帮代办, 代办件): the queue and one application's steps.

Staff see their community's, a department what was handed to it, an admin all; workers
use the field app. Each step posts to `/assisted/{id}/{step}` and calls the command the
sync mutation `assisted.{step}` calls; a refusal re-renders the page with its message
(nothing written). The queue counts applications per item, never per worker.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.access import NotFound
from server.commands import assisted as commands
from server.errors import DomainError
from server.models import AssistedStatus, Role, utcnow
from server.queries import assisted as queries
from server.web.forms import errors_of, read_form, see_other, text
from server.web.pages import read, render, require_actor, write
from server.workflows import assisted as flow

ROLES = (Role.community_staff, Role.department)  # and admins


async def queue(request: Request) -> Response:
    actor = require_actor(request, *ROLES)
    status = request.query_params.get("status", "open")
    if status != "open" and status not in set(AssistedStatus):
        status = "open"

    def load(session: Session) -> dict[str, Any]:
        rows = queries.queue(session, actor, status=status, now=utcnow())
        return {"rows": rows, "counts": queries.item_counts(session, actor)}

    context = await read(request, load)
    context |= {"status": status, "statuses": ["open", *AssistedStatus]}
    return render(request, "assisted/queue.html", context, block="rows")


async def _page(request: Request, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    actor = require_actor(request, *ROLES)
    application_id: uuid.UUID = request.path_params["id"]

    def load(session: Session) -> dict[str, Any]:
        d = queries.detail(session, actor, application_id, utcnow())
        return {
            "d": d,
            "departments": queries.departments(session),
            "steps": flow.steps_for(actor, d.application),
        }

    context = await read(request, load)
    context |= {"errors": errors or {}, "done": request.query_params.get("done", "")}
    return render(request, "assisted/detail.html", context, status=status)


async def detail(request: Request) -> Response:
    return await _page(request)


async def step(request: Request) -> Response:
    actor = require_actor(request, *ROLES)
    name = request.path_params["step"]
    if name not in commands.STEP_ARGS:
        raise NotFound("step")
    application_id: uuid.UUID = request.path_params["id"]
    form = await read_form(request)
    data: dict[str, Any] = {"application_id": str(application_id)}
    for field in sorted(commands.STEP_ARGS[name] - {"collected", "photos"}):
        if value := text(form, field):
            data[field] = value
    try:
        await write(request, lambda s: commands.take_step(s, actor=actor, step=name, data=data))
    except DomainError as exc:
        errors, status = errors_of(exc)
        return await _page(request, errors, status)
    return see_other(f"/assisted/{application_id}?done={name}")


routes = [
    Route("/assisted", queue, methods=["GET"]),
    Route("/assisted/{id:uuid}", detail, methods=["GET"]),
    Route("/assisted/{id:uuid}/{step}", step, methods=["POST"]),
]
