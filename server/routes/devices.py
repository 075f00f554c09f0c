"""设备对账 (`/devices`): each phone of a community reconciled with the server, so staff can
call a worker before a phone holding unsynced work is lost; and importing a phone's rescue
file (`/devices/rescue`, sync/rescue.py). Staff and admins only (issue 22)."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.i18n import gettext as _
from server.models import Role, utcnow
from server.queries import devices as queries
from server.routes.field import version
from server.web.forms import read_form
from server.web.pages import client_ip, read, render, require_actor, services, write
from sync import rescue


async def devices_page(request: Request) -> Response:
    actor = require_actor(request, Role.community_staff)
    community, grid = request.query_params.get("community", ""), request.query_params.get("grid", "")
    now = utcnow()
    page = await read(
        request, lambda s: queries.devices_page(s, actor, now=now, community=community, grid=grid)
    )
    context = {"page": page, "now": now, "current": version()}
    return render(request, "devices/list.html", context, block="phones")


async def rescue_page(request: Request) -> Response:
    require_actor(request, Role.community_staff)
    return render(request, "devices/rescue.html", {})


async def rescue_import(request: Request) -> Response:
    actor = require_actor(request, Role.community_staff)
    form = await read_form(request, files=True)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return render(request, "devices/rescue.html", {"refusal": _("请选择救援文件。")}, status=400)
        data = await upload.read()
    finally:
        await form.close()
    svc, ip = services(request), client_ip(request)
    try:
        report = await write(
            request,
            lambda s: rescue.import_file(
                s, data=data, secret=svc.settings.secret_key, vault=svc.vault, importer=actor, ip=ip
            ),
        )
    except rescue.RescueRefused as exc:
        return render(request, "devices/rescue.html", {"refusal": exc.message}, status=400)
    return render(request, "devices/rescue.html", {"report": report})


routes = [
    Route("/devices", devices_page, methods=["GET"]),
    Route("/devices/rescue", rescue_page, methods=["GET"]),
    Route("/devices/rescue", rescue_import, methods=["POST"]),
]
