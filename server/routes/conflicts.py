"""Office page for conflicts: both values side by side, and the choice between them."""

from __future__ import annotations

import uuid

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server import audit
from server.access import get_visible
from server.commands.conflicts import resolve_conflict
from server.errors import DomainError
from server.models import Conflict, Role
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


async def reveal(request: Request) -> Response:
    """A conflict's phone numbers in full, to check which is right: an explicit action, audited."""
    actor = require_actor(request, Role.community_staff, Role.grid_worker)
    conflict_id, ip = request.path_params["id"], client_ip(request)

    def run(session: Session) -> uuid.UUID:
        conflict = get_visible(session, actor, Conflict, conflict_id)
        audit.record(
            session,
            actor=actor,
            action="reveal_conflict_phone",
            record_type="conflict",
            record_id=conflict.id,
            ip=ip,
            fields=[conflict.field],
        )
        return conflict.id

    revealed = await write(request, run)
    rows = await read(request, lambda s: open_conflicts(s, actor, revealed=revealed))
    return render(request, "conflicts/list.html", {"rows": rows})


routes = [
    Route("/conflicts", conflict_list, methods=["GET"]),
    Route("/conflicts/{id}/resolve", resolve, methods=["POST"]),
    Route("/conflicts/{id:uuid}/reveal", reveal, methods=["POST"]),
]
