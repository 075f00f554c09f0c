"""Office pages of deliberation (议事): topics with their opinions counted by building and by
channel, meetings with agenda, attendance, minutes and outcomes, the printable 会议纪要; and the
residents' pages: the community's 公示 of decided topics and the public opinion link per topic.

Every post calls the command the sync mutation calls (`server.commands.topics`); scope is
decided there (404 outside it, 403 for a role that may not take the step).
"""

from __future__ import annotations

import uuid
from typing import Any

from markupsafe import Markup
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server import ratelimit
from server.access import Actor, NotFound
from server.commands import topics as commands
from server.errors import DomainError
from server.i18n import gettext as _
from server.i18n import labels
from server.models import Community, Role, Topic
from server.queries import org as org_queries
from server.queries import topics as queries
from server.web import charts
from server.web.forms import errors_of, filled, read_form, see_other, text, texts
from server.web.pages import absolute_url, client_ip, is_htmx, read, render, require_actor, services, write
from server.web.qr import qr_svg
from server.workflows import topics as flow

OFFICE = (Role.community_staff,)
PUBLIC_LIMIT = (10, 3600)  # opinions per IP per hour
HONEYPOT = "website"
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "take_up": ("note",),
    "decline": ("note",),
    "decide": ("decision", "due_days"),
    "progress": ("note",),
    "finish": ("note",),
    "check": ("verdict", "note"),
}
assert set(STEP_FIELDS) == set(commands.STEP_COMMANDS)
STANCE_COLOURS = {"for": "#1a7f37", "conditional": "#1f6feb", "against": "#b3261e", "none": "#5f6670"}


def stance_chart(tally: queries.Tally, title: str) -> Markup:
    bars = [
        charts.Bar(labels.label("stance", s), tally.counts[s], STANCE_COLOURS[s]) for s in queries.STANCES
    ]
    return charts.bar_chart(bars, title=title)


# -- topics ---------------------------------------------------------------------------------------


KINDS = ("tea", "pavilion", "joint", "residents")


async def _list_page(
    request: Request,
    actor: Actor,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    topics, meetings = await read(request, lambda s: queries.topic_list(s, actor))
    context = {
        "topics": topics,
        "meetings": meetings,
        "v": values or {},
        "errors": errors or {},
        "kinds": KINDS,
    }
    return render(request, "topics/list.html", context, status=status)


async def topic_list(request: Request) -> Response:
    return await _list_page(request, require_actor(request, *OFFICE))


async def topic_create(request: Request) -> Response:
    actor = require_actor(request, *OFFICE)
    form = await read_form(request)
    data = filled(form, ("title", "description", "demand_id", "grid_id"))
    try:
        topic = await write(request, lambda s: commands.create_topic(s, actor=actor, data=data))
    except DomainError as exc:
        errors, status = errors_of(exc)
        if data.get("demand_id"):
            return render(
                request,
                "error.html",
                {"status": status, "code": exc.code, "message": exc.message},
                status=status,
            )
        return await _list_page(request, actor, data, errors, status)
    return see_other(f"/topics/{topic.id}?done=create")


async def _topic_page(
    request: Request,
    actor: Actor,
    topic_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    detail = await read(request, lambda s: queries.topic_detail(s, actor, topic_id))
    token = await read(request, lambda s: _token(s, detail.topic))
    context = {
        "t": detail,
        "chart": stance_chart(detail.door, _("入户征求的意见")),
        "errors": errors or {},
        "done": request.query_params.get("done"),
        "public_path": f"/p/{token}/topics/{detail.topic.id}",
    }
    return render(request, "topics/detail.html", context, status=status, block="opinions")


def _token(session: Session, topic: Topic) -> str:
    community = session.get(Community, topic.community_id)
    return community.public_token if community else ""


async def topic_page(request: Request) -> Response:
    actor = require_actor(request, *OFFICE)
    return await _topic_page(request, actor, request.path_params["id"])


async def topic_step(request: Request) -> Response:
    actor = require_actor(request, *OFFICE)
    topic_id, step = request.path_params["id"], request.path_params["step"]
    if step not in commands.STEP_COMMANDS:
        raise NotFound("step")
    form = await read_form(request)
    data: dict[str, Any] = {"topic_id": str(topic_id), **filled(form, STEP_FIELDS[step])}
    if step == "decide":
        data["owners"] = [o for line in texts(form, "owners") for o in line.splitlines() if o.strip()]
    command = commands.STEP_COMMANDS[step]
    try:
        await write(request, lambda s: command(s, actor=actor, data=data))
    except DomainError as exc:
        errors, status = errors_of(exc)
        return await _topic_page(request, actor, topic_id, errors=errors, status=status)
    return see_other(f"/topics/{topic_id}?done={step}")


# -- meetings -------------------------------------------------------------------------------------


def _participants(form: FormData) -> list[dict[str, Any]]:
    """Rows of the attendance form: category, name, present (checkbox per row)."""
    present = set(texts(form, "present"))
    rows = zip(form.getlist("category"), form.getlist("name"), strict=False)
    return [
        {"category": str(c), "name": str(n).strip(), "present": str(i) in present}
        for i, (c, n) in enumerate(rows)
        if str(n).strip()
    ]


async def meeting_create(request: Request) -> Response:
    actor = require_actor(request, *OFFICE)
    form = await read_form(request)
    data: dict[str, Any] = filled(form, ("kind", "title", "starts_at", "place"))
    try:
        meeting = await write(request, lambda s: commands.create_meeting(s, actor=actor, data=data))
    except DomainError as exc:
        errors, status = errors_of(exc)
        return await _list_page(request, actor, data, errors, status)
    return see_other(f"/meetings/{meeting.id}")


async def _meeting_page(
    request: Request,
    actor: Actor,
    meeting_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    failed: str = "",
) -> Response:
    detail = await read(request, lambda s: queries.meeting_detail(s, actor, meeting_id))
    context = {
        "m": detail,
        "errors": errors or {},
        "failed": failed,
        "categories": flow.CATEGORIES,
        "results": tuple(flow.OUTCOMES),
    }
    return render(request, "topics/meeting.html", context, status=status, block="agenda")


async def meeting_page(request: Request) -> Response:
    actor = require_actor(request, *OFFICE)
    return await _meeting_page(request, actor, request.path_params["id"])


async def meeting_step(request: Request) -> Response:
    actor = require_actor(request, *OFFICE)
    meeting_id, step = request.path_params["id"], request.path_params["step"]
    if step not in commands.MEETING_COMMANDS:
        raise NotFound("step")
    form = await read_form(request)
    data: dict[str, Any] = {"meeting_id": str(meeting_id)}
    if step == "agenda":
        data |= filled(form, ("topic_id",)) | ({"remove": True} if text(form, "remove") else {})
    elif step == "attend":
        data["participants"] = _participants(form)
    elif step == "decide":
        data |= filled(form, ("demand_id", "minutes", "decision", "grid_id", "department_id"))
    elif step == "minute":
        data |= filled(form, ("topic_id", "minutes", "result", "note", "department_id", "field", "address"))
    command = commands.MEETING_COMMANDS[step]
    try:
        await write(request, lambda s: command(s, actor=actor, data=data))
    except DomainError as exc:
        errors, status = errors_of(exc)
        # htmx swaps only 2xx answers: the refusal must reach the agenda it was sent from.
        status = 200 if is_htmx(request) else status
        failed = str(data.get("topic_id", step))
        return await _meeting_page(request, actor, meeting_id, errors=errors, status=status, failed=failed)
    anchor = f"#item-{data['topic_id']}" if step == "minute" and "topic_id" in data else ""
    return see_other(f"/meetings/{meeting_id}{anchor}")


async def notice_page(request: Request) -> Response:
    """The printable 会议通知: when, where, the agenda with the opinions so far, and a QR per
    open topic for residents to answer themselves, and one for the community's 公示 page."""
    actor = require_actor(request, *OFFICE)
    detail = await read(request, lambda s: queries.meeting_detail(s, actor, request.path_params["id"]))
    token = detail.community.public_token
    codes = {
        str(item.topic.id): qr_svg(
            absolute_url(request, f"/p/{token}/topics/{item.topic.id}"), scale=4, light="#fff"
        )
        for item in detail.items
        if item.topic.status in flow.OPEN
    }
    board = absolute_url(request, f"/p/{token}/topics")
    return render(
        request,
        "topics/notice.html",
        {"m": detail, "codes": codes, "board": board, "board_qr": qr_svg(board, scale=4, light="#fff")},
    )


async def minutes_page(request: Request) -> Response:
    actor = require_actor(request, *OFFICE)
    detail = await read(request, lambda s: queries.meeting_detail(s, actor, request.path_params["id"]))
    return render(request, "topics/minutes.html", {"m": detail})


# -- residents: the 公示 page and the opinion link --------------------------------------------------


async def public_topics(request: Request) -> Response:
    token = request.path_params["token"]

    def load(session: Session) -> tuple[Community, list[queries.PublicTopic], list[Topic]]:
        community = org_queries.community_by_token(session, token)
        return community, queries.published(session, community), queries.open_topics(session, community)

    community, decided, open_ = await read(request, load)
    return render(request, "topics/public.html", {"community": community, "decided": decided, "open": open_})


def _open_topic(session: Session, token: str, topic_id: uuid.UUID) -> tuple[Community, Topic]:
    community = org_queries.community_by_token(session, token)
    topic = session.get(Topic, topic_id)
    if topic is None or topic.deleted_at is not None or topic.community_id != community.id:
        raise NotFound("topic")
    return community, topic


async def _opinion_form(
    request: Request, values: dict[str, str], errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    token, topic_id = request.path_params["token"], request.path_params["id"]
    community, topic = await read(request, lambda s: _open_topic(s, token, topic_id))
    context = {
        "community": community,
        "topic": topic,
        "open": topic.status in flow.OPEN,
        "v": values,
        "errors": errors or {},
        "honeypot": HONEYPOT,
        "done": request.query_params.get("done") == "1",
    }
    return render(request, "topics/opinion.html", context, status=status)


async def opinion_page(request: Request) -> Response:
    return await _opinion_form(request, {})


async def opinion_submit(request: Request) -> Response:
    token, topic_id = request.path_params["token"], request.path_params["id"]
    form = await read_form(request)
    key = f"public-opinion:{client_ip(request)}"
    allowed = await write(
        request, lambda s: ratelimit.hit(s, key, limit=PUBLIC_LIMIT[0], seconds=PUBLIC_LIMIT[1])
    )
    if not allowed:
        message = _("提交太频繁了，请一小时后再试。")
        return render(
            request, "error.html", {"status": 429, "code": "rate_limited", "message": message}, status=429
        )
    values = {k: text(form, k) for k in ("stance", "comment", "phone")}
    if text(form, HONEYPOT):
        return await _opinion_form(request, values, {"form": _("无法提交，请刷新页面后重试。")}, 400)
    vault = services(request).vault

    def run(session: Session) -> None:
        _community, topic = _open_topic(session, token, topic_id)
        commands.public_opinion(session, topic=topic, data=values, vault=vault)

    try:
        await write(request, run)
    except DomainError as exc:
        errors, status = errors_of(exc)
        return await _opinion_form(request, values, errors, status)
    return see_other(f"/p/{token}/topics/{topic_id}?done=1")


routes = [
    Route("/topics", topic_list, methods=["GET"]),
    Route("/topics", topic_create, methods=["POST"]),
    Route("/topics/{id:uuid}", topic_page, methods=["GET"]),
    Route("/topics/{id:uuid}/{step}", topic_step, methods=["POST"]),
    Route("/meetings", meeting_create, methods=["POST"]),
    Route("/meetings/{id:uuid}", meeting_page, methods=["GET"]),
    Route("/meetings/{id:uuid}/minutes", minutes_page, methods=["GET"]),
    Route("/meetings/{id:uuid}/notice", notice_page, methods=["GET"]),
    Route("/meetings/{id:uuid}/{step}", meeting_step, methods=["POST"]),
    Route("/p/{token}/topics", public_topics, methods=["GET"]),
    Route("/p/{token}/topics/{id:uuid}", opinion_page, methods=["GET"]),
    Route("/p/{token}/topics/{id:uuid}", opinion_submit, methods=["POST"]),
]
