"""HTTP endpoints of the sync contract. Each parses, calls one function, answers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.auth import SESSION_COOKIE, Refused
from server.i18n import gettext as _
from server.routes.auth import set_session_cookie
from server.web import client_ip, error_response, services, write
from sync.envelope import BadEnvelope, read_json


async def login(request: Request) -> Response:
    try:
        body = await read_json(request, max_bytes=16 * 1024)
        username, password = body["username"], body["password"]
        if not isinstance(username, str) or not isinstance(password, str):
            raise KeyError
    except BadEnvelope as exc:
        return exc.response(request)
    except (KeyError, TypeError):
        return error_response(request, 400, "invalid_body", _("需要 username 和 password。"))
    svc = services(request)
    result = await write(
        request,
        lambda s: svc.sessions.login(
            s,
            username=username,
            password=password,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        ),
    )
    if isinstance(result, Refused):
        status = 429 if result.code == "rate_limited" else 401
        message = _("尝试次数太多，请稍后再试。") if status == 429 else _("用户名或密码不对。")
        return JSONResponse({"error": result.code, "message": message}, status_code=status)
    actor = result.actor
    response = JSONResponse(
        {
            "user": {
                "id": str(actor.id),
                "username": actor.username,
                "display_name": actor.display_name,
                "role": actor.role,
                "grid_ids": sorted(str(g) for g in actor.grid_ids),
                "department_id": str(actor.department_id) if actor.department_id else None,
                "community_id": str(actor.community_id) if actor.community_id else None,
            },
            "csrf_token": result.csrf_token,
        }
    )
    set_session_cookie(request, response, result.cookie)
    return response


async def logout(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await write(request, lambda s: services(request).sessions.logout(s, cookie))
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


routes = [
    Route("/sync/login", login, methods=["POST"]),
    Route("/sync/logout", logout, methods=["POST"]),
]
