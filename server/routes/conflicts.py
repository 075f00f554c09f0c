"""Office page for conflicts: both values side by side, and the choice between them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.commands.conflicts import resolve_conflict
from server.errors import DomainError
from server.models import Role
from server.queries.conflicts import open_conflicts
from server.web.forms import read_form
from server.web.pages import client_ip, read, render, require_actor, write


async def conflict_list(request: Request) -> Response:
    actor = require_actor(request, Role.community_staff, Role.grid_worker)
    rows = await read(request, lambda s: open_conflicts(s, actor))
    return render(request, "conflicts/list.html", {"rows": rows})


async def resolve(request: Request) -> Response:
    actor = require_actor(request, Role.community_staff, Role.grid_worker)
    form = await read_form(request)
    data = {"conflict_id": request.path_params["id"], "choice": str(form.get("choice", ""))}
    ip = client_ip(request)
    try:
        await write(request, lambda s: resolve_conflict(s, actor=actor, data=data, ip=ip))
    except DomainError as exc:
        rows = await read(request, lambda s: open_conflicts(s, actor))
        return render(request, "conflicts/list.html", {"rows": rows, "error": exc.message}, status=400)
    return RedirectResponse("/conflicts", status_code=303)


routes = [
    Route("/conflicts", conflict_list, methods=["GET"]),
    Route("/conflicts/{id}/resolve", resolve, methods=["POST"]),
]
