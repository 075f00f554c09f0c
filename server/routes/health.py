"""Liveness (SYNC.md "Liveness")."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server.web.pages import services


async def healthz(request: Request) -> JSONResponse:
    if await run_in_threadpool(services(request).db.ping):
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable"}, status_code=503, headers={"Retry-After": "5"})


routes = [Route("/healthz", healthz)]
