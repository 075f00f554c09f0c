"""Office pages of care-visit coverage (issue 17): per grid, then one grid's overdue households.

Staff see their community's grids, an admin one community at a time, a worker at a desk their
own grids; departments hold no households and get a 403. The figures are per grid and per
household, never per worker (docs/principles.md).
"""

from __future__ import annotations

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.clock import local_today
from server.i18n import gettext as _
from server.models import Role
from server.queries import coverage as queries
from server.web import charts
from server.web.pages import read, render, require_actor

ROLES = (Role.community_staff, Role.grid_worker)


async def coverage_page(request: Request) -> Response:
    actor = require_actor(request, *ROLES)
    wanted = request.query_params.get("community", "")
    page = await read(request, lambda s: queries.coverage_page(s, actor, local_today(), wanted))
    context = {"page": page, "c": page.coverage, "chart": coverage_chart(page.coverage)}
    return render(request, "coverage/overview.html", context, block="grids")


async def grid_page(request: Request) -> Response:
    actor = require_actor(request, *ROLES)
    grid_id = request.path_params["id"]
    grid = await read(request, lambda s: queries.grid_coverage(s, actor, grid_id, local_today()))
    return render(request, "coverage/grid.html", {"g": grid, "today": local_today()}, block="overdue")


def coverage_chart(found: queries.Coverage) -> Markup:
    """Per grid, the share of its households under care visited within their interval, on a
    scale of 100 %, with the overdue count after it; grids without anyone under care are left out."""
    overdue = _("%%（逾期 %(n)s）")
    bars = [
        charts.Bar(
            g.name,
            g.percent or 0,
            "#1a7f37" if not g.overdue else "#9a6700",
            overdue % {"n": len(g.overdue)} if g.overdue else "%",
        )
        for g in found.grids
        if g.percent is not None
    ]
    return charts.bar_chart(bars, title=_("按网格的走访覆盖率"), full=100)


routes = [
    Route("/coverage", coverage_page, methods=["GET"]),
    Route("/coverage/{id:uuid}", grid_page, methods=["GET"]),
]
