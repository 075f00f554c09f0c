"""Office pages for assisted applications (帮代办, 代办件): the queue and one application's steps.

Staff see their community's, a department what was handed to it, an admin all; workers
use the field app. Each step posts to `/assisted/{id}/{step}` and calls the command the
sync mutation `assisted.{step}` calls; a refusal re-renders the page with its message
(nothing written). The queue counts applications per item, never per worker.
"""

from __future__ import annotations

import uuid
from typing import Any, get_args

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.access import NotFound
from server.commands import assisted as commands
from server.commands.demands import Rating
from server.errors import DomainError
from server.models import AssistedStatus, Role, utcnow
from server.queries import assisted as queries
from server.web.forms import errors_of, read_form, see_other, text
from server.web.pages import absolute_url, current_actor, read, render, require_actor, write
from server.web.qr import qr_svg
from server.web.rating import rating_gone, read_rating
from server.workflows import assisted as flow

ROLES = (Role.community_staff, Role.department)  # and admins


async def queue(request: Request) -> Response:
    actor = require_actor(request, *ROLES)
    status = request.query_params.get("status", "open")
    if status != "open" and status not in set(AssistedStatus):
        status = "open"

    def load(session: Session) -> dict[str, Any]:
        rows = queries.queue(session, actor, status=status, now=utcnow())
        return {
            "rows": rows,
            "counts": queries.item_counts(session, actor),
            "ratings": queries.ratings(session, actor),
        }

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
    application = context["d"].application
    link = rating_url(request, application)
    context |= {
        "errors": errors or {},
        "done": request.query_params.get("done", ""),
        "rating_link": link,
        "rating_qr": qr_svg(link, scale=6) if link else "",
        "ratings": get_args(Rating),
        "office": actor.is_staff,
        "to_rectify": commands.needs_rectification(application),
    }
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


async def _office_form(request: Request, command: Any, fields: tuple[str, ...], done: str) -> Response:
    """Staff post one of the application's forms to `command`; a refusal re-renders the page."""
    actor = require_actor(request, Role.community_staff)
    application_id: uuid.UUID = request.path_params["id"]
    form = await read_form(request)
    data = {"application_id": str(application_id), **{name: text(form, name) for name in fields}}
    try:
        await write(request, lambda s: command(s, actor=actor, data=data))
    except DomainError as exc:
        errors, status = errors_of(exc)
        return await _page(request, errors, status)
    return see_other(f"/assisted/{application_id}?done={done}")


async def rate_by_phone(request: Request) -> Response:
    """电话回访: staff record the rating the resident gave them on the phone."""
    return await _office_form(request, commands.rate_by_phone, ("rating", "comment"), "rate")


async def rectify(request: Request) -> Response:
    """差评整改: staff answer a 不满意 with what was done about it."""
    return await _office_form(request, commands.answer_rectification, ("answer",), "rectify")


# -- the resident's rating link (no account) -------------------------------------------------------


async def _rating_form(request: Request, v: dict[str, str], errors: dict[str, str], status: int) -> Response:
    token = request.path_params["token"]
    try:
        application = await read(request, lambda s: commands.application_by_token(s, token))
    except commands.RatingLinkUsed:
        return rating_gone(request)
    context = {
        "a": application,
        "ratings": get_args(Rating),
        "v": v,
        "errors": errors,
        "signed_in": current_actor(request),
    }
    return render(request, "assisted/rate.html", context, status=status)


async def rating_page(request: Request) -> Response:
    return await _rating_form(request, {}, {}, 200)


async def rating_submit(request: Request) -> Response:
    token = request.path_params["token"]
    posted = await read_rating(request)
    if isinstance(posted, Response):
        return posted
    data, ip = posted
    viewer = current_actor(request)
    try:
        done = await write(
            request, lambda s: commands.rate_by_token(s, token=token, data=data, ip=ip, viewer=viewer).rating
        )
    except commands.RatingLinkUsed:
        return rating_gone(request)
    except DomainError as exc:
        errors, status = errors_of(exc)
        return await _rating_form(request, data, errors, status)
    return render(request, "demands/rated.html", {"rating": done})


def rating_url(request: Request, application: Any) -> str:
    return absolute_url(request, f"/ra/{application.rating_token}") if application.rating_token else ""


routes = [
    Route("/assisted", queue, methods=["GET"]),
    Route("/assisted/{id:uuid}", detail, methods=["GET"]),
    Route("/assisted/{id:uuid}/rating", rate_by_phone, methods=["POST"]),
    Route("/assisted/{id:uuid}/rectification", rectify, methods=["POST"]),
    Route("/assisted/{id:uuid}/{step}", step, methods=["POST"]),
    Route("/ra/{token}", rating_page, methods=["GET"]),
    Route("/ra/{token}", rating_submit, methods=["POST"]),
]
