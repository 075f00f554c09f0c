"""A resident's single-use rating link (a request's `/r/…`, an assisted application's `/ra/…`):
reading its post under a rate limit, and the page for a link already used."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server import ratelimit
from server.i18n import gettext as _
from server.web.forms import filled, read_form
from server.web.pages import client_ip, render, write

RATING_LIMIT = (20, 3600)  # posts per address per hour, guesses at links included


def rating_gone(request: Request) -> Response:
    message = _("这个评价链接已经用过或已失效。如有问题，请联系社区。")
    return render(request, "error.html", {"status": 404, "code": "not_found", "message": message}, status=404)


async def rating_limited(request: Request, ip: str) -> Response | None:
    """Too many ratings from this address: the 429 page. Counted in its own transaction, so
    refused guesses at links count too."""
    key = f"rating:{ip}"
    if await write(request, lambda s: ratelimit.hit(s, key, limit=RATING_LIMIT[0], seconds=RATING_LIMIT[1])):
        return None
    message = _("提交太频繁了，请稍后再试。")
    return render(
        request, "error.html", {"status": 429, "code": "rate_limited", "message": message}, status=429
    )


async def read_rating(request: Request) -> tuple[dict[str, str], str] | Response:
    """A rating link's post: the rating and comment and the client's address, or the 429 page."""
    form = await read_form(request)
    ip = client_ip(request)
    if limited := await rating_limited(request, ip):
        return limited
    return filled(form, ("rating", "comment")), ip
