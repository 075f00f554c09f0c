"""Open311 GeoReport v2, read-only: `/open311/v2/services.json` and `/open311/v2/requests.json`.

Readers are signed-in community staff (their community) and admins, or other
systems with an API key an admin issued (`/admin/api-keys`), sent as
`Authorization: Bearer <key>`, `X-API-Key: <key>` or `?api_key=<key>`; every
community. Anyone else gets 401. Every read of requests is in the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import audit
from server.access import Actor
from server.commands import api_keys
from server.errors import DomainError
from server.i18n import gettext as _
from server.models import ApiKey, Role
from server.queries import open311
from server.web.forms import read_form, see_other
from server.web.pages import client_ip, current_actor, error_response, read, render, require_actor, write
from server.web.redaction import redact


@dataclass(frozen=True)
class Reader:
    actor: Actor | None
    key: ApiKey | None

    @property
    def community_id(self) -> uuid.UUID | None:
        """The one community a staff member reads; None: all (admins, API keys)."""
        if self.actor is not None and not self.actor.is_admin:
            return self.actor.community_id
        return None

    @property
    def name(self) -> str:
        return f"api_key:{self.key.name}" if self.key else f"user:{self.actor.username if self.actor else ''}"


def _key_of(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key") or request.query_params.get("api_key") or ""


async def _reader(request: Request) -> Reader | None:
    actor = current_actor(request)
    if actor is not None and actor.role in (Role.community_staff, Role.admin):
        return Reader(actor, None)
    key = _key_of(request)
    if not key:
        return None
    found = await read(request, lambda s: open311.find_key(s, key))
    return Reader(None, found) if found is not None else None


def _refuse(request: Request) -> Response:
    response = error_response(
        request, 401, "unauthorized", _("需要社区工作人员登录，或管理员发放的 API 密钥。")
    )
    response.headers["WWW-Authenticate"] = 'Bearer realm="open311"'
    return response


def _json(body: object) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def services_json(request: Request) -> Response:
    if await _reader(request) is None:
        return _refuse(request)
    return _json(await read(request, open311.services))


async def requests_json(request: Request) -> Response:
    reader = await _reader(request)
    if reader is None:
        return _refuse(request)
    params = request.query_params
    ip = client_ip(request)

    def run(session: Session) -> list[dict[str, object]]:
        filters = open311.parse_filters(session, params)
        rows = open311.requests(session, filters, community_id=reader.community_id)
        audit.record(
            session,
            actor=reader.actor,
            action="open311.export",
            record_type="demand",
            ip=ip,
            reader=reader.name,
            query=redact(str(params)),
            count=len(rows),
        )
        return rows

    try:
        return _json(await write(request, run))
    except open311.BadFilter as exc:
        return error_response(request, 400, exc.code, exc.message)


# -- issuing keys (admins) -----------------------------------------------------------------------


async def key_list(
    request: Request, *, issued: tuple[ApiKey, str] | None = None, error: str = ""
) -> Response:
    require_actor(request, Role.admin)
    keys = await read(request, open311.all_keys)
    context = {"keys": keys, "issued": issued, "error": error}
    return render(request, "demands/api_keys.html", context, status=400 if error else 200)


async def key_page(request: Request) -> Response:
    return await key_list(request)


async def key_create(request: Request) -> Response:
    actor = require_actor(request, Role.admin)
    form = await read_form(request)
    name = str(form.get("name", ""))
    try:
        issued = await write(request, lambda s: api_keys.issue_key(s, actor=actor, name=name))
    except DomainError as exc:
        return await key_list(request, error=exc.message)
    # The key is shown on this response only: it is never stored, so it cannot be shown again.
    return await key_list(request, issued=issued)


async def key_revoke(request: Request) -> Response:
    actor = require_actor(request, Role.admin)
    key_id = request.path_params["id"]
    try:
        await write(request, lambda s: api_keys.revoke_key(s, actor=actor, key_id=key_id))
    except DomainError as exc:
        return await key_list(request, error=exc.message)
    return see_other("/admin/api-keys")


routes = [
    Route("/open311/v2/services.json", services_json, methods=["GET"]),
    Route("/open311/v2/requests.json", requests_json, methods=["GET"]),
    Route("/admin/api-keys", key_page, methods=["GET"]),
    Route("/admin/api-keys", key_create, methods=["POST"]),
    Route("/admin/api-keys/{id:uuid}/revoke", key_revoke, methods=["POST"]),
]
