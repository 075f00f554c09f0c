"""Liveness (SYNC.md "Liveness"), and whether Web Push reaches any push service.

`push.unreachable_hours` (an optional field) is how long no push service has
taken a message while sends kept failing, null when the last answer was a
success: where it grows, the in-app inbox is carrying every notice alone.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server.push.reachability import reachability
from server.web.pages import read, services


async def healthz(request: Request) -> JSONResponse:
    if await run_in_threadpool(services(request).db.ping):
        push = await read(request, reachability)
        hours = None if push.unreachable_hours is None else round(push.unreachable_hours, 1)
        return JSONResponse(
            {"status": "ok", "push": {"reachable": hours is None, "unreachable_hours": hours}}
        )
    return JSONResponse({"status": "unavailable"}, status_code=503, headers={"Retry-After": "5"})


routes = [Route("/healthz", healthz)]
