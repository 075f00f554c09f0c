"""HTTP endpoints of the sync contract. Each parses, calls one function, answers."""

from __future__ import annotations

import time
from typing import Any

import brotli
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import blobs, preferences
from server.auth import SESSION_COOKIE, Refused
from server.clock import aware
from server.i18n import gettext as _
from server.models import utcnow
from server.queries import devices, releases
from server.routes.auth import attempt_login, refusal, set_session_cookie
from server.routes.field import version
from server.routes.sync_openapi import openapi
from server.web.body import BadBody, read_json, refused
from server.web.capacity import PULL_PAGES
from server.web.csrf import not_cross_site
from server.web.pages import client_ip, error_response, read, require_actor, services, write
from sync import rescue
from sync.clients import ClientNotYours, claim
from sync.envelope import BadEnvelope, parse_client, parse_pull, parse_push
from sync.pull import pull as pull_changes
from sync.pull import settle
from sync.push import push as push_mutations


def _not_yours(request: Request) -> Response:
    return error_response(
        request, 403, "client_not_yours", _("这个设备编号属于另一位用户，请重新登录后再同步。")
    )


def _brotli_wanted(request: Request, body: bytes) -> bool:
    return len(body) > 1024 and "br" in request.headers.get("accept-encoding", "")


def compressed(request: Request, body: bytes) -> Response:
    """Brotli where the phone accepts it: a first pull is ~40 % smaller than with gzip,
    seconds saved on 3G. Otherwise the gzip middleware takes over."""
    if _brotli_wanted(request, body):
        return Response(
            brotli.compress(body, quality=4),
            media_type="application/json",
            headers={"Content-Encoding": "br", "Vary": "Accept-Encoding"},
        )
    return Response(body, media_type="application/json")


def _timed(response: Response, start: float) -> Response:
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1000:.2f}"
    return response


async def push(request: Request) -> Response:
    start = time.perf_counter()
    actor = require_actor(request)  # rule 1
    try:
        envelope = parse_push(await read_json(request))  # rule 7
    except (BadBody, BadEnvelope) as exc:
        return refused(request, exc)
    if await _outdated(request, envelope.device):
        return error_response(
            request, 426, "update_required", _("请先更新应用再同步：待同步的内容都会保留。")
        )
    vault, ip = services(request).vault, client_ip(request)
    try:
        result = await write(
            request, lambda s: push_mutations(s, actor=actor, vault=vault, request=envelope, ip=ip)
        )
    except ClientNotYours:
        return _not_yours(request)
    if result.halted:  # rule 6
        response = error_response(request, 503, "unavailable", _("服务器暂时无法处理，请稍后重试。"))
        response.headers["Retry-After"] = "5"
        return response
    return _timed(JSONResponse(result.body()), start)


async def _outdated(request: Request, device: dict[str, Any] | None) -> bool:
    """The phone runs another version than this server's while admins require the latest
    (setting `app.require_latest`), or one older than the minimum (`app.minimum_version`):
    it must update before its push (docs/sync.md)."""
    reported = (device or {}).get("app_version")
    if not isinstance(reported, str) or reported == version():
        return False

    def check(session: Session) -> bool:
        if preferences.get(session, "app.require_latest") == "on":
            return True
        minimum = preferences.get(session, "app.minimum_version")
        return bool(minimum) and releases.below(releases.served(session), reported, minimum)

    return await read(request, check)


async def pull(request: Request) -> Response:
    start = time.perf_counter()
    actor = require_actor(request)
    try:
        envelope = parse_pull(await read_json(request, max_bytes=64 * 1024))
    except (BadBody, BadEnvelope) as exc:
        return refused(request, exc)
    ip = client_ip(request)
    try:
        page = await read(
            request,
            lambda s: pull_changes(s, actor=actor, request=envelope),
            snapshot=True,
            capacity=PULL_PAGES,
        )
        if not page.registered or page.report or page.phones or page.id_numbers or page.notices:
            await write(request, lambda s: settle(s, actor=actor, request=envelope, page=page, ip=ip))
    except ClientNotYours:
        return _not_yours(request)
    # Brotli off the event loop (a 1 MB page held every other request back for ~20 ms), and
    # not behind PULL_PAGES: the page was read, it should not queue a second time. A small
    # page (an empty pull) is answered at once: a thread hop would only add to it.
    body = page.body()
    if _brotli_wanted(request, body):
        return _timed(await run_in_threadpool(compressed, request, body), start)
    return _timed(compressed(request, body), start)


async def rescue_key(request: Request) -> Response:
    """The key this client signs its rescue file with (docs/sync.md "Rescue file"); asking
    registers the client to the caller (rule 1), as a push does."""
    actor = require_actor(request)
    try:
        client_id = parse_client(await read_json(request, max_bytes=4 * 1024))
    except (BadBody, BadEnvelope) as exc:
        return refused(request, exc)
    try:
        await write(request, lambda s: claim(s, client_id=client_id, actor=actor))
    except ClientNotYours:
        return _not_yours(request)
    key = rescue.key_for(services(request).settings.secret_key, client_id, actor.id)
    return JSONResponse({"client_id": str(client_id), "user_id": str(actor.id), "key": key})


async def put_blob(request: Request) -> Response:
    actor = require_actor(request)
    sha256 = request.path_params["sha256"]
    if not blobs.SHA256.match(sha256):
        return error_response(request, 400, "invalid_name", _("照片名必须是 64 位小写十六进制 SHA-256。"))
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > blobs.MAX_BLOB:
            return error_response(request, 413, "too_large", _("照片太大（上限 10 MB）。"))
    try:
        created = await write(request, lambda s: blobs.store(s, sha256=sha256, data=bytes(data), actor=actor))
    except blobs.HashMismatch:
        return error_response(
            request, 400, "hash_mismatch", _("照片内容与名称（SHA-256）不符，可能上传不完整。")
        )
    except blobs.NotAnImage:
        return error_response(request, 415, "unsupported_media_type", _("只接受 JPEG、PNG 或 WebP 照片。"))
    except blobs.OverQuota as exc:
        response = error_response(request, 429, "rate_limited", exc.message())
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    # 201 the first time this user sends these bytes, 200 after: never whether anyone else had them.
    return JSONResponse({"sha256": sha256, "stored": created}, status_code=201 if created else 200)


async def get_blob(request: Request) -> Response:
    actor = require_actor(request)
    sha256 = request.path_params["sha256"]
    blob = await read(request, lambda s: blobs.fetch(s, sha256=sha256, actor=actor))
    return Response(
        blob.data,
        media_type=blob.content_type,
        headers={"Cache-Control": "private, max-age=31536000, immutable", "ETag": f'"{sha256}"'},
    )


async def login(request: Request) -> Response:
    try:
        body = await read_json(request, max_bytes=16 * 1024)
    except BadBody as exc:
        return refused(request, exc)
    if not isinstance(body, dict) or "username" not in body or "password" not in body:
        return error_response(request, 400, "invalid_body", _("需要 username 和 password。"))
    result = await attempt_login(request, body["username"], body["password"])
    if isinstance(result, Refused):
        status, message, headers = refusal(result)
        return JSONResponse({"error": result.code, "message": message}, status_code=status, headers=headers)
    actor = result.actor
    now = utcnow()
    owing = await read(request, lambda s: devices.owing_elsewhere(s, user_id=actor.id, now=now))
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
            # Optional (docs/sync.md "Device reports"): this user's phones that still owe work.
            "owing_phones": [
                {
                    "client_id": str(p.client_id),
                    "owed": p.balance.owed,
                    "last_contact": aware(p.last_contact).isoformat(),
                }
                for p in owing
            ],
        }
    )
    set_session_cookie(request, response, result.cookie)
    return response


async def logout(request: Request) -> Response:
    if not not_cross_site(request):
        return error_response(request, 415, "unsupported_media_type", _("请求必须是 application/json。"))
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await write(request, lambda s: services(request).sessions.logout(s, cookie))
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


routes = [
    Route("/sync/openapi.json", openapi, methods=["GET"]),
    Route("/sync/login", login, methods=["POST"]),
    Route("/sync/logout", logout, methods=["POST"]),
    Route("/sync/push", push, methods=["POST"]),
    Route("/sync/pull", pull, methods=["POST"]),
    Route("/sync/rescue-key", rescue_key, methods=["POST"]),
    Route("/sync/blobs/{sha256}", put_blob, methods=["PUT"]),
    Route("/sync/blobs/{sha256}", get_blob, methods=["GET"]),
]
