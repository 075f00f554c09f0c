"""转交 (`/handovers`): edits made offline of records that moved to another grid, for their new
holder to apply or dismiss with a reason (issue 22; sync/handover.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.commands import handovers as commands
from server.errors import DomainError
from server.models import Role
from server.queries import handovers as queries
from server.web.forms import errors_of, read_form, see_other, text
from server.web.pages import client_ip, read, render, require_actor, services, write
from sync import handover

ROLES = (Role.community_staff, Role.grid_worker)


async def handovers_page(
    request: Request, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    actor = require_actor(request, *ROLES)
    rows = await read(request, lambda s: queries.open_handovers(s, actor))
    done = request.query_params.get("done", "")
    context = {"rows": rows, "errors": errors or {}, "failed": request.path_params.get("id"), "done": done}
    return render(request, "handovers/list.html", context, status=status)


async def apply_handover(request: Request) -> Response:
    actor = require_actor(request, *ROLES)
    await (await read_form(request)).close()
    vault, ip, key = services(request).vault, client_ip(request), request.path_params["id"]
    try:
        await write(request, lambda s: handover.apply(s, actor=actor, vault=vault, handover_id=key, ip=ip))
    except DomainError as exc:
        errors, status = errors_of(exc)
        return await handovers_page(request, errors, status)
    return see_other("/handovers?done=applied")


async def dismiss_handover(request: Request) -> Response:
    actor = require_actor(request, *ROLES)
    form = await read_form(request)
    reason, key = text(form, "reason"), request.path_params["id"]
    try:
        await write(request, lambda s: commands.dismiss(s, actor=actor, handover_id=key, reason=reason))
    except DomainError as exc:
        errors, status = errors_of(exc)
        return await handovers_page(request, errors, status)
    return see_other("/handovers?done=dismissed")


routes = [
    Route("/handovers", handovers_page, methods=["GET"]),
    Route("/handovers/{id:uuid}/apply", apply_handover, methods=["POST"]),
    Route("/handovers/{id:uuid}/dismiss", dismiss_handover, methods=["POST"]),
]
