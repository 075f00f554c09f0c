"""The JSON API of push notifications: the server's public key, and the caller's subscriptions.

`/push/` is outside the CSRF middleware's form check: these endpoints take
JSON only (415 for anything else), which no cross-site form can send.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.i18n import gettext as _
from server.push import keys
from server.push import subscriptions as subs
from server.web.body import BadBody, read_json, refused
from server.web.pages import error_response, read, require_actor, services, write
from sync.clients import ClientNotYours

MAX_BODY = 8 * 1024


async def vapid_public_key(request: Request) -> Response:
    settings = services(request).settings
    key = keys.load(settings.data_dir, settings.vapid_private_key).public_key
    return JSONResponse({"key": key}, headers={"Cache-Control": "no-cache"})


async def subscribe(request: Request) -> Response:
    actor = require_actor(request)
    try:
        body = await read_json(request, max_bytes=MAX_BODY)
        given = subs.parse(body, services(request).settings.push_hosts)
    except BadBody as exc:
        return refused(request, exc)
    except subs.InvalidSubscription as exc:
        return error_response(request, 400, exc.code, exc.message)
    agent = request.headers.get("user-agent", "")
    try:
        row, created = await write(
            request, lambda s: subs.save(s, actor=actor, subscription=given, user_agent=agent)
        )
    except ClientNotYours:
        return error_response(request, 403, "client_not_yours", _("这个设备编号属于另一位用户，请重新登录。"))
    return JSONResponse(subs.public(row), status_code=201 if created else 200)


async def subscription_list(request: Request) -> Response:
    actor = require_actor(request)
    rows = await read(request, lambda s: subs.list_for(s, actor))
    return JSONResponse({"subscriptions": [subs.public(row) for row in rows]})


async def unsubscribe(request: Request) -> Response:
    actor = require_actor(request)
    subscription_id = request.path_params["id"]
    await write(request, lambda s: subs.remove(s, actor=actor, subscription_id=subscription_id))
    return Response(status_code=204)


routes = [
    Route("/push/vapid-public-key", vapid_public_key, methods=["GET"]),
    Route("/push/subscriptions", subscribe, methods=["POST"]),
    Route("/push/subscriptions", subscription_list, methods=["GET"]),
    Route("/push/subscriptions/{id:uuid}", unsubscribe, methods=["DELETE"]),
]
