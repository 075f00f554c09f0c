"""Reading JSON request bodies strictly: type, size, syntax (SYNC.md rule 7's first checks)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from server.i18n import gettext as _
from server.web.pages import error_response

MAX_BODY = 5 * 1024 * 1024


class BadBody(Exception):
    """The body cannot be read; nothing was changed."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


class Refusal(Protocol):
    status: int
    code: str
    message: str


def refused(request: Request, exc: Refusal) -> Response:
    """The JSON error answer for a refused body or envelope."""
    return error_response(request, exc.status, exc.code, exc.message)


def _too_large(max_bytes: int) -> BadBody:
    return BadBody(413, "too_large", _("请求太大（上限 %(mb)s MB）。", mb=max_bytes // (1024 * 1024) or 1))


async def read_json(request: Request, *, max_bytes: int = MAX_BODY) -> Any:
    """The parsed JSON body; BadBody for a wrong type, an oversized body or bad JSON."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BadBody(415, "unsupported_media_type", _("请求必须是 application/json。"))
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        raise BadBody(400, "invalid_json", _("请求内容不是有效的 JSON。")) from None
