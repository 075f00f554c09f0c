"""Reading request bodies of the sync API strictly (SYNC.md rule 7)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.i18n import gettext as _
from server.web import error_response

MAX_BODY = 5 * 1024 * 1024


class BadEnvelope(Exception):
    """The body cannot be accepted; nothing was changed."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message

    def response(self, request: Request) -> Response:
        return error_response(request, self.status, self.code, self.message)


async def read_json(request: Request, *, max_bytes: int = MAX_BODY) -> Any:
    """The parsed JSON body; BadEnvelope for a wrong type, an oversized body or bad JSON."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BadEnvelope(415, "unsupported_media_type", _("请求必须是 application/json。"))
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise BadEnvelope(
            413, "too_large", _("请求太大（上限 %(mb)s MB）。", mb=max_bytes // (1024 * 1024) or 1)
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BadEnvelope(
                413, "too_large", _("请求太大（上限 %(mb)s MB）。", mb=max_bytes // (1024 * 1024) or 1)
            )
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise BadEnvelope(400, "invalid_json", _("请求内容不是有效的 JSON。")) from None
