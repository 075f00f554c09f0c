"""Office pages for residents' requests (微诉求), and the residents' own pages.

Staff triage and dispatch, workers and departments handle, everybody sees the
timeline; each step posts to `/demands/{id}/{step}` and calls the same command
the sync mutation `demand.{step}` calls. Scope is decided by `server.access`
inside those calls: a request outside the caller's scope is a 404 on every
route here, a step the caller's role may not take a 403.

Residents have no account: the community's public page `/p/{token}` (reached
by the QR code staff print from `/demands/qr`) takes a request, and the link
`/r/{token}` takes their rating once.
"""

from __future__ import annotations

import uuid
from typing import Any, get_args

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import audit, preferences, ratelimit
from server.access import Actor, NotFound, can_hold, get_visible
from server.clock import local_today
from server.commands import demands as commands
from server.errors import DomainError
from server.i18n import gettext as _
from server.i18n import labels
from server.models import Community, Demand, Role, utcnow
from server.queries import coverage, devices
from server.queries import demands as queries
from server.queries import notices as notice_queries
from server.queries import org as org_queries
from server.routes.coverage import coverage_chart
from server.web import charts
from server.web.forms import errors_of, filled, read_form, see_other, text
from server.web.pages import absolute_url, client_ip, current_actor, read, render, require_actor, write
from server.web.qr import qr_svg, qr_svg_file
from server.web.rating import rating_gone, read_rating
from server.workflows import demands as demand_flow

LIST_ROLES = (Role.grid_worker, Role.community_staff, Role.department)
CAPTURE_ROLES = (Role.grid_worker, Role.community_staff)
PUBLIC_LIMIT = (5, 3600)  # submissions per IP per hour
HONEYPOT = "website"
CAPTURE_FIELDS = ("field", "description", "source", "grid_id", "address", "contact_name", "contact_phone")
PUBLIC_FIELDS = ("field", "description", "address", "contact_name", "contact_phone")
# The form fields each step sends to its command (the same names as the mutation's args).
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "dispatch": ("grid_id", "handling_type", "priority", "note", "field"),
    "accept": (),
    "progress": ("note",),
    "reply": ("answer",),
    "resolve": ("note",),
    "answer": ("answer",),
    "transfer": ("department_id", "priority", "note", "field"),
    "return": ("reason",),
    "escalate": ("note",),
    "decide": ("decision", "grid_id", "department_id", "handling_type", "priority"),
    "rate": ("rating", "comment"),
    "close": ("note",),
    "suspend": ("note",),
    "resume": ("note",),
    "urge": ("note",),
}
COMMANDS = commands.STEP_COMMANDS
assert set(COMMANDS) == set(demand_flow.STEPS) == set(STEP_FIELDS)


# -- lists and one request -----------------------------------------------------------------------


async def demand_list(request: Request) -> Response:
    actor = require_actor(request, *LIST_ROLES)
    view = request.query_params.get("view")
    page = await read(request, lambda s: queries.demand_list(s, actor, view))
    return render(request, "demands/list.html", {"page": page, "done": request.query_params.get("done")})


async def _detail(
    request: Request,
    actor: Actor,
    demand_id: uuid.UUID,
    *,
    step: str = "",
    form: FormData | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    revealed: str = "",
) -> Response:
    detail = await read(request, lambda s: queries.demand_detail(s, actor, demand_id))
    told = await read(
        request, lambda s: notice_queries.receipts(s, subject_type="demand", subject_id=detail.demand.id)
    )
    context = {
        "d": detail,
        "receipts": told if actor.is_staff else [],
        "revealed": revealed,
        "failed_step": step,
        "v": {k: text(form, k) for k in form} if form is not None else {},
        "errors": errors or {},
        "done": request.query_params.get("done"),
        "rating_url": absolute_url(request, f"/r/{detail.demand.rating_token}")
        if detail.demand.rating_token
        else "",
    }
    return render(request, "demands/detail.html", context, status=status)


async def demand_page(request: Request) -> Response:
    actor = require_actor(request, *LIST_ROLES)
    return await _detail(request, actor, request.path_params["id"])


async def demand_step(request: Request) -> Response:
    actor = require_actor(request, *LIST_ROLES)
    demand_id, step = request.path_params["id"], request.path_params["step"]
    if step not in COMMANDS:
        raise NotFound("step")
    form = await read_form(request)
    data: dict[str, Any] = {"demand_id": str(demand_id), **filled(form, STEP_FIELDS[step])}
    command = COMMANDS[step]

    def run(session: Session) -> bool:
        demand = command(session, actor=actor, data=data)
        return can_hold(actor, demand)

    try:
        still_mine = await write(request, run)
    except DomainError as exc:
        errors, status = errors_of(exc)
        return await _detail(request, actor, demand_id, step=step, form=form, errors=errors, status=status)
    if not still_mine:  # e.g. a department returned it: it is no longer theirs to see
        return see_other(f"/demands?done={step}")
    return see_other(f"/demands/{demand_id}?done={step}")


async def demand_reveal(request: Request) -> Response:
    """The contact's full phone number, for calling back: an explicit action, in the audit log."""
    actor = require_actor(request, *LIST_ROLES)
    demand_id, ip = request.path_params["id"], client_ip(request)

    def run(session: Session) -> str:
        demand = get_visible(session, actor, Demand, demand_id)
        audit.record(
            session,
            actor=actor,
            action="reveal_contact_phone",
            record_type="demand",
            record_id=demand.id,
            ip=ip,
        )
        return demand.contact_phone

    return await _detail(request, actor, demand_id, revealed=await write(request, run))


# -- capture by the office (phone call, 12345 hotline, tea meeting) ---------------------------


def _sources(actor: Actor) -> tuple[str, ...]:
    office = ("phone", "hotline", "meeting")
    return ("visit", *office) if actor.is_worker else office


async def _capture_form(
    request: Request,
    actor: Actor,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    grids, fields = await read(request, lambda s: queries.capture_choices(s, actor))
    context = {
        "grids": grids,
        "fields": fields,
        "sources": _sources(actor),
        "v": values,
        "errors": errors or {},
    }
    return render(request, "demands/new.html", context, status=status)


async def demand_new(request: Request) -> Response:
    actor = require_actor(request, *CAPTURE_ROLES)
    source = request.query_params.get("source", "")
    # The id is made here, once: submitting the same form twice replays one request.
    values = {
        "demand_id": str(uuid.uuid4()),
        "source": source if source in _sources(actor) else _sources(actor)[0],
    }
    return await _capture_form(request, actor, values)


async def demand_create(request: Request) -> Response:
    actor = require_actor(request, *CAPTURE_ROLES)
    form = await read_form(request)
    data: dict[str, Any] = {"demand_id": text(form, "demand_id"), **filled(form, CAPTURE_FIELDS)}
    data.setdefault("description", "")
    data.setdefault("field", "")
    try:
        demand = await write(request, lambda s: commands.create_demand(s, actor=actor, data=data))
    except DomainError as exc:
        errors, status = errors_of(exc)
        return await _capture_form(request, actor, {k: text(form, k) for k in form}, errors, status)
    return see_other(f"/demands/{demand.id}?done=create")


# -- the dashboard and the QR code ---------------------------------------------------------------


def _community_choice(request: Request, communities: list[Community]) -> Community:
    wanted = request.query_params.get("community", "")
    for community in communities:
        if str(community.id) == wanted:
            return community
    if not communities:
        raise NotFound("community")
    return communities[0]


async def dashboard_page(request: Request) -> Response:
    actor = require_actor(request, Role.community_staff)

    def load(session: Session) -> tuple[list[Community], queries.Dashboard, coverage.Coverage, Any, int]:
        communities = queries.dashboard_communities(session, actor)
        community = _community_choice(request, communities)
        care = coverage.coverage(session, actor, local_today(), community_id=community.id)
        late = notice_queries.undelivered(session, community_id=community.id)
        hours = preferences.get(session, "notice.undelivered_hours")
        phones_late = devices.owing_late(session, community_id=community.id, now=utcnow())
        return communities, queries.dashboard(session, community), care, (late, hours), phones_late

    communities, board, care, ((late_count, late), late_hours), phones_late = await read(request, load)
    figures = {"b": board, "care": care, "phones_late": phones_late}
    figures["charts"] = _dashboard_charts(board) | {"care": coverage_chart(care)}
    undelivered = {"late_count": late_count, "late": late, "late_hours": late_hours}
    return render(request, "demands/dashboard.html", {"communities": communities, **figures, **undelivered})


def _dashboard_charts(b: queries.Dashboard) -> dict[str, Any]:
    palette = {
        "submitted": "#5f6670",
        "dispatched": "#1f6feb",
        "accepted": "#1f6feb",
        "in_progress": "#1f6feb",
        "transferred": "#8250df",
        "escalated": "#8250df",
        "replied": "#1a7f37",
        "resolved": "#1a7f37",
        "rectifying": "#cf222e",
        "closed": "#9aa0a6",
    }
    overdue = _("（逾期 %(n)s）")
    return {
        "status": charts.bar_chart(
            [
                charts.Bar(labels.label("demand_status", c.key), c.total, palette.get(c.key, "#b3261e"))
                for c in b.by_status
            ],
            title=_("按状态"),
        ),
        "field": charts.bar_chart([charts.Bar(c.name, c.total) for c in b.by_field], title=_("按领域")),
        "grid": charts.bar_chart(
            [
                charts.Bar(
                    c.name or _("未分网格"),
                    c.total,
                    "#1f6feb",
                    overdue % {"n": c.overdue} if c.overdue else "",
                )
                for c in b.by_grid
            ],
            title=_("按网格"),
        ),
        "department": charts.bar_chart(
            [
                charts.Bar(c.name, c.total, "#8250df", overdue % {"n": c.overdue} if c.overdue else "")
                for c in b.by_department
            ],
            title=_("按部门"),
        ),
        "trend": charts.line_chart(
            [w.label for w in b.weeks],
            [
                charts.Series(_("新增"), [w.received for w in b.weeks], "#b3261e"),
                charts.Series(_("办结"), [w.resolved for w in b.weeks], "#1a7f37", dashed=True),
            ],
            title=_("最近 12 周趋势"),
        ),
    }


async def rating_qr(request: Request) -> Response:
    """The request's single-use rating link as a QR code (SVG), for the resident to scan with their
    own phone from the handler's screen after 办结 — so the rating is theirs, not a 代录."""
    actor = require_actor(request)
    demand = await read(request, lambda s: queries.demand_detail(s, actor, request.path_params["id"]).demand)
    if not demand.rating_token or demand.status not in ("replied", "resolved"):
        raise NotFound("rating link")
    svg = qr_svg_file(absolute_url(request, f"/r/{demand.rating_token}"), scale=6)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


async def qr_page(request: Request) -> Response:
    actor = require_actor(request, Role.community_staff)
    communities = await read(request, lambda s: queries.dashboard_communities(s, actor))
    community = _community_choice(request, communities)
    url = absolute_url(request, f"/p/{community.public_token}")
    svg = qr_svg(url, scale=8, border=None, light="#fff")
    context = {"community": community, "communities": communities, "url": url, "qr": svg}
    return render(request, "demands/qr.html", context)


# -- the residents' public page ------------------------------------------------------------------


async def _public_form(
    request: Request, values: dict[str, str], errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    token = request.path_params["token"]

    def load(session: Session) -> tuple[Community, dict[str, str]]:
        return org_queries.community_by_token(session, token), demand_flow.field_names(session)

    community, fields = await read(request, load)
    context = {
        "community": community,
        "fields": fields,
        "v": values,
        "errors": errors or {},
        "honeypot": HONEYPOT,
    }
    return render(request, "demands/public.html", context, status=status)


async def public_page(request: Request) -> Response:
    return await _public_form(request, {})


async def public_submit(request: Request) -> Response:
    token = request.path_params["token"]
    form = await read_form(request)
    key = f"public-demand:{client_ip(request)}"
    allowed = await write(
        request, lambda s: ratelimit.hit(s, key, limit=PUBLIC_LIMIT[0], seconds=PUBLIC_LIMIT[1])
    )
    if not allowed:
        return render(
            request,
            "error.html",
            {
                "status": 429,
                "code": "rate_limited",
                "message": _("提交太频繁了，请一小时后再试；急事请直接拨打社区电话。"),
            },
            status=429,
        )
    values = {k: text(form, k) for k in PUBLIC_FIELDS}
    if text(form, HONEYPOT):
        return await _public_form(request, values, {"form": _("无法提交，请刷新页面后重试。")}, 400)
    data = filled(form, PUBLIC_FIELDS) | {"description": values["description"], "field": values["field"]}

    def run(session: Session) -> tuple[str, bool]:
        demand = commands.submit_public(
            session, community=org_queries.community_by_token(session, token), data=data
        )
        return demand.id.hex[:8].upper(), bool(demand.contact_phone)

    try:
        ref, callback = await write(request, run)
    except DomainError as exc:
        errors, status = errors_of(exc)
        return await _public_form(request, values, errors, status)
    return see_other(f"/p/{token}/thanks?ref={ref}{'&callback=1' if callback else ''}")


async def public_thanks(request: Request) -> Response:
    token = request.path_params["token"]
    community = await read(request, lambda s: org_queries.community_by_token(s, token))
    ref = request.query_params.get("ref", "")[:8]
    context = {"community": community, "ref": ref, "callback": request.query_params.get("callback") == "1"}
    return render(request, "demands/public_done.html", context)


# -- the resident's rating link ------------------------------------------------------------------


async def rating_page(request: Request) -> Response:
    token = request.path_params["token"]

    def load(session: Session) -> tuple[Any, dict[str, str]]:
        return commands.demand_by_token(session, token), demand_flow.field_names(session)

    try:
        demand, fields = await read(request, load)
    except commands.TokenUsed:
        return rating_gone(request)
    context = {
        "demand": demand,
        "fields": fields,
        "ratings": get_args(commands.Rating),
        "v": {},
        "errors": {},
        "signed_in": current_actor(request),
    }
    return render(request, "demands/rate.html", context)


async def rating_submit(request: Request) -> Response:
    token = request.path_params["token"]
    posted = await read_rating(request)
    if isinstance(posted, Response):
        return posted
    data, ip = posted
    try:
        rating = await write(
            request,
            lambda s: (
                commands.rate_by_token(s, token=token, data=data, ip=ip, viewer=current_actor(request)).rating
            ),
        )
    except commands.TokenUsed:
        return rating_gone(request)
    except DomainError as exc:
        errors, status = errors_of(exc)
        demand, fields = await read(
            request, lambda s: (commands.demand_by_token(s, token), demand_flow.field_names(s))
        )
        context = {
            "demand": demand,
            "fields": fields,
            "ratings": get_args(commands.Rating),
            "v": data,
            "errors": errors,
            "signed_in": current_actor(request),
        }
        return render(request, "demands/rate.html", context, status=status)
    return render(request, "demands/rated.html", {"rating": rating})


routes = [
    Route("/demands", demand_list, methods=["GET"]),
    Route("/demands/new", demand_new, methods=["GET"]),
    Route("/demands/new", demand_create, methods=["POST"]),
    Route("/demands/dashboard", dashboard_page, methods=["GET"]),
    Route("/demands/qr", qr_page, methods=["GET"]),
    Route("/demands/{id:uuid}", demand_page, methods=["GET"]),
    Route("/demands/{id:uuid}/reveal", demand_reveal, methods=["POST"]),
    Route("/demands/{id:uuid}/rating-qr.svg", rating_qr, methods=["GET"]),
    Route("/demands/{id:uuid}/{step}", demand_step, methods=["POST"]),
    Route("/p/{token}", public_page, methods=["GET"]),
    Route("/p/{token}", public_submit, methods=["POST"]),
    Route("/p/{token}/thanks", public_thanks, methods=["GET"]),
    Route("/r/{token}", rating_page, methods=["GET"]),
    Route("/r/{token}", rating_submit, methods=["POST"]),
]
