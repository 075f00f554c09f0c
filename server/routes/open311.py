"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) under `/open311/v2/`, every
method in XML (the spec's required format) and JSON: `discovery`, `services`,
`services/{service_code}`, `requests` (GET and POST), `requests/{id}`, `tokens/{token}`.

Who may read is the setting `open311.publishing`: `off` (no one), `key` (signed-in
community staff — their community — and admins, or other systems with an API key an
admin issued at `/admin/api-keys`, sent as `api_key`, `Authorization: Bearer <key>` or
`X-API-Key`), `public` (anyone). Posting a request always takes an API key. Every read of
requests and every post is in the audit log. Errors are the spec's list of
`{code, description}` with 400, 403 or 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import audit
from server.access import Actor
from server.commands import api_keys
from server.commands import open311 as intake
from server.errors import DomainError
from server.i18n import gettext as _
from server.models import ApiKey, Role
from server.queries import open311
from server.queries.open311 import Refused
from server.web.forms import BadForm, read_form, see_other
from server.web.open311_body import FORMATS, body, errors
from server.web.pages import (
    absolute_url,
    client_ip,
    current_actor,
    read,
    render,
    require_actor,
    write,
)
from server.web.redaction import redact

BASE = "/open311/v2"


@dataclass(frozen=True)
class Reader:
    actor: Actor | None
    key: ApiKey | None

    @property
    def community_id(self) -> uuid.UUID | None:
        """The one community a staff member reads; None: all (admins, API keys, the public)."""
        if self.actor is not None and not self.actor.is_admin:
            return self.actor.community_id
        return None

    @property
    def name(self) -> str:
        if self.key is not None:
            return f"api_key:{self.key.name}"
        return f"user:{self.actor.username}" if self.actor else "public"


def _key_of(request: Request, form: FormData | None = None) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    posted = form.get("api_key") if form is not None else None
    return str(posted or request.headers.get("x-api-key") or request.query_params.get("api_key") or "")


async def _reader(request: Request, form: FormData | None = None) -> Reader:
    """Who reads (or, with `form`, posts), or Refused with the spec's 403."""
    mode = await read(request, open311.publishing)
    if mode == "off":
        raise Refused(403, _("本系统未开放 Open311。"))
    key = _key_of(request, form)
    if key:
        found = await read(request, lambda s: open311.find_key(s, key))
        if found is None:
            raise Refused(403, _("api_key 无效或已撤销。"))
        return Reader(None, found)
    if form is not None:
        raise Refused(403, _("提交诉求需要管理员发放的 API 密钥（api_key）。"))
    actor = current_actor(request)
    if actor is not None and actor.role in (Role.community_staff, Role.admin):
        return Reader(actor, None)
    if mode == "public":
        return Reader(None, None)
    raise Refused(403, _("需要管理员发放的 API 密钥（api_key），或社区工作人员登录。"))


def _format(request: Request) -> str:
    fmt = str(request.path_params["fmt"]).lower()
    if fmt not in FORMATS:
        raise Refused(404, _("只有 .xml 和 .json 两种格式。"))
    return fmt


Method = Callable[[Request, str], Awaitable[Response]]


def _endpoint(method: Method) -> Callable[[Request], Awaitable[Response]]:
    """The route of one method: its format from the path; Refused becomes the spec's error list."""

    async def endpoint(request: Request) -> Response:
        fmt = "xml" if request.path_params.get("fmt", "").lower() == "xml" else "json"
        try:
            return await method(request, _format(request))
        except Refused as exc:
            return errors(fmt, exc.status, exc.description)

    return endpoint


def _community_of(reader: Reader, session: Session, code: str | None) -> uuid.UUID | None:
    """What a reader reads: their own community (staff), narrowed by `jurisdiction_id`."""
    named = open311.jurisdiction(session, code)
    if named is None:
        return reader.community_id
    if reader.community_id is not None and named.id != reader.community_id:
        raise Refused(403, _("工作人员只能读取本社区的诉求。"))
    return named.id


async def discovery(request: Request, fmt: str) -> Response:
    if await read(request, open311.publishing) == "off":
        raise Refused(403, _("本系统未开放 Open311。"))
    return body(fmt, open311.discovery(absolute_url(request, BASE)), root="discovery")


async def services(request: Request, fmt: str) -> Response:
    reader = await _reader(request)
    code = request.query_params.get("jurisdiction_id")

    def run(session: Session) -> list[dict[str, object]]:
        _community_of(reader, session, code)
        return open311.services(session)

    return body(fmt, await read(request, run), root="services", item="service")


async def service(request: Request, fmt: str) -> Response:
    reader = await _reader(request)
    code, wanted = request.query_params.get("jurisdiction_id"), str(request.path_params["code"])

    def run(session: Session) -> dict[str, object]:
        _community_of(reader, session, code)
        return open311.service_definition(session, wanted)

    return body(fmt, await read(request, run), root="service_definition")


async def requests(request: Request, fmt: str) -> Response:
    reader = await _reader(request)
    params, ip = request.query_params, client_ip(request)
    one = request.path_params.get("id")

    def run(session: Session) -> list[dict[str, object]]:
        community_id = _community_of(reader, session, params.get("jurisdiction_id"))
        if one is not None:
            rows = [open311.request(session, str(one), community_id=community_id)]
        else:
            rows = open311.requests(
                session, open311.parse_filters(session, params), community_id=community_id
            )
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

    return body(fmt, await write(request, run), root="service_requests", item="request")


async def post(request: Request, fmt: str) -> Response:
    try:
        form = await read_form(request)
    except BadForm:
        raise Refused(400, _("请求体不是有效的表单。")) from None
    reader = await _reader(request, form)
    params = {k: str(v) for k, v in form.items() if isinstance(v, str)}

    def run(session: Session) -> list[dict[str, object]]:
        community = open311.jurisdiction(session, params.get("jurisdiction_id"))
        if community is None:
            raise Refused(400, _("jurisdiction_id（社区编码）必须填写。"))
        assert reader.key is not None  # posting takes a key (_reader)
        demand = intake.submit_request(session, key=reader.key, community=community, params=params)
        notice = _("已作为居民点单转到 %(name)s，由社区分派办理。", name=community.name)
        return [{"service_request_id": str(demand.id), "service_notice": notice, "account_id": None}]

    try:
        rows = await write(request, run)
    except DomainError as exc:
        raise Refused(400, exc.message) from None
    return body(fmt, rows, root="service_requests", item="request", status=201)


async def token(request: Request, fmt: str) -> Response:
    await _reader(request)
    raise Refused(404, _("没有这个 token：本系统同步创建诉求，提交的回答里已有 service_request_id。"))


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
    Route(f"{BASE}/discovery.{{fmt}}", _endpoint(discovery), methods=["GET"]),
    Route(f"{BASE}/services.{{fmt}}", _endpoint(services), methods=["GET"]),
    Route(f"{BASE}/services/{{code}}.{{fmt}}", _endpoint(service), methods=["GET"]),
    Route(f"{BASE}/requests.{{fmt}}", _endpoint(requests), methods=["GET"]),
    Route(f"{BASE}/requests.{{fmt}}", _endpoint(post), methods=["POST"]),
    Route(f"{BASE}/requests/{{id}}.{{fmt}}", _endpoint(requests), methods=["GET"]),
    Route(f"{BASE}/tokens/{{token}}.{{fmt}}", _endpoint(token), methods=["GET"]),
    Route("/admin/api-keys", key_page, methods=["GET"]),
    Route("/admin/api-keys", key_create, methods=["POST"]),
    Route("/admin/api-keys/{id:uuid}/revoke", key_revoke, methods=["POST"]),
]
