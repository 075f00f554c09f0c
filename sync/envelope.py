"""Checking the envelopes of push and pull strictly (SYNC.md rule 7); the body is already JSON."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from server.commands.validation import BIGINT, Unstorable, moment, storable
from server.errors import InvalidInput
from server.i18n import gettext as _
from sync import device
from sync.catalogue import UnknownMutation
from sync.pull import PullRequest
from sync.push import PushedMutation, PushRequest


class BadEnvelope(Exception):
    """The body cannot be accepted; nothing was changed."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


MAX_MUTATIONS = 500


def _bad(code: str, message: str, status: int = 400) -> BadEnvelope:
    return BadEnvelope(status, code, message)


def _client_id(body: dict[str, Any]) -> uuid.UUID:
    raw = body.get("client_id")
    if not isinstance(raw, str):
        raise _bad("invalid_envelope", _("client_id 必须是 UUID 字符串。"))
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise _bad("invalid_envelope", _("client_id 必须是 UUID 字符串。")) from None


def _protocol(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _bad("invalid_envelope", _("请求体必须是 JSON 对象。"))
    protocol = body.get("protocol")
    if type(protocol) is not int:
        raise _bad("invalid_envelope", _("protocol 必须是整数。"))
    if protocol != 1:
        raise _bad("unsupported_protocol", _("不支持的协议版本：%(v)s（本服务器支持 1）。", v=protocol))
    return body


def _at(raw: Any) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _bad("invalid_envelope", _("mutation 的 at 必须是 ISO 8601 时间字符串。"))
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _bad("invalid_envelope", _("mutation 的 at 必须是 ISO 8601 时间字符串。")) from None


def _mutation(mid: int, name: str, args: dict[str, Any], at: datetime | None) -> PushedMutation:
    """A well-typed mutation; one whose name or time the database cannot hold carries its
    refusal, so that it is rejected and advances the counter (rules 5 and 6), not refused
    with the whole body on every resend."""
    try:
        storable(name)
    except Unstorable:
        escaped = name.encode("unicode_escape").decode("ascii")
        return PushedMutation(id=mid, name=escaped, args=args, at=None, refusal=UnknownMutation(escaped))
    try:
        at = moment(at) if at is not None else None
    except Unstorable as exc:
        return PushedMutation(
            id=mid, name=name, args=args, at=None, refusal=InvalidInput({"at": f"at：{exc}"})
        )
    return PushedMutation(id=mid, name=name, args=args, at=at)


def parse_push(body: Any) -> PushRequest:
    """Rule 7: the envelope's types, checked before anything is touched."""
    body = _protocol(body)
    client_id = _client_id(body)
    raw = body.get("mutations")
    if not isinstance(raw, list):
        raise _bad("invalid_envelope", _("mutations 必须是数组。"))
    if len(raw) > MAX_MUTATIONS:
        raise _bad("too_many_mutations", _("一次最多推送 %(n)s 条操作。", n=MAX_MUTATIONS), 413)
    mutations: list[PushedMutation] = []
    for item in raw:
        if not isinstance(item, dict):
            raise _bad("invalid_envelope", _("每条操作必须是 JSON 对象。"))
        mid, name, args = item.get("id"), item.get("name"), item.get("args")
        if type(mid) is not int or not 1 <= mid <= BIGINT:
            raise _bad("invalid_envelope", _("操作的 id 必须是正整数。"))
        if not isinstance(name, str):  # an empty or unknown one is rejected alone (rule 5)
            raise _bad("invalid_envelope", _("操作的 name 必须是字符串。"))
        if not isinstance(args, dict):
            raise _bad("invalid_envelope", _("操作的 args 必须是 JSON 对象。"))
        mutations.append(_mutation(mid, name, args, _at(item.get("at"))))
    return PushRequest(client_id=client_id, mutations=mutations, device=device.read(body.get("device")))


def parse_pull(body: Any) -> PullRequest:
    body = _protocol(body)
    client_id = _client_id(body)
    cursor = body.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise _bad("invalid_envelope", _("cursor 必须是字符串或 null。"))
    return PullRequest(client_id=client_id, cursor=cursor, device=device.read(body.get("device")))


def parse_client(body: Any) -> uuid.UUID:
    """A body naming only the protocol and a client (the rescue key's)."""
    return _client_id(_protocol(body))
