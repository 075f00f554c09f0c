"""设备对账 (`/devices`): each phone of a community reconciled with the server, so staff can
call a worker before a phone holding unsynced work is lost (issue 22). Staff and admins only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.models import Role, utcnow
from server.queries import devices as queries
from server.routes.field import version
from server.web.pages import read, render, require_actor


async def devices_page(request: Request) -> Response:
    actor = require_actor(request, Role.community_staff)
    community, grid = request.query_params.get("community", ""), request.query_params.get("grid", "")
    now = utcnow()
    page = await read(
        request, lambda s: queries.devices_page(s, actor, now=now, community=community, grid=grid)
    )
    context = {"page": page, "now": now, "current": version()}
    return render(request, "devices/list.html", context, block="phones")


routes = [Route("/devices", devices_page, methods=["GET"])]
