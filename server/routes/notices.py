"""Office pages of the inbox (消息): the same notices the phones pull, and 标为已读 through
the command `notice.read` calls. The list polls itself (htmx, every 60 s); the
nav's count is the page's `count` block, polled the same way."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.commands.notices import mark_delivered, read_notice
from server.errors import DomainError
from server.models import utcnow
from server.queries import notices as queries
from server.web.forms import read_form, see_other
from server.web.pages import read, render, require_actor, write

POLL_SECONDS = 60


def _opens(link: str) -> str:
    """Where 打开 leads: the notice's own page, never off this site."""
    return link if link.startswith("/") and not link.startswith("//") else "/notices"


async def inbox_page(request: Request, *, block: str = "inbox") -> Response:
    actor = require_actor(request)
    box = await read(request, lambda s: queries.inbox(s, actor))
    # Shown on a page is delivered, as a pull is for a phone.
    fresh = [n.id for n in box.notices if n.delivered_at is None]
    if fresh:
        await write(request, lambda s: mark_delivered(s, notice_ids=fresh, now=utcnow()))
    context = {"box": box, "poll": POLL_SECONDS}
    return render(request, "notices/inbox.html", context, block=block)


async def inbox_count(request: Request) -> Response:
    return await inbox_page(request, block="count")


async def open_notice(request: Request) -> Response:
    actor = require_actor(request)
    await read_form(request)  # the CSRF token is checked on the way in
    data = {"notice_id": str(request.path_params["id"])}
    try:
        notice = await write(request, lambda s: read_notice(s, actor=actor, data=data))
    except DomainError:
        return see_other("/notices")
    return see_other(_opens(notice.link))


routes = [
    Route("/notices", inbox_page, methods=["GET"]),
    Route("/notices/count", inbox_count, methods=["GET"]),
    Route("/notices/{id:uuid}/read", open_notice, methods=["POST"]),
]
