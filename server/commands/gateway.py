"""Opting a person in to the county gateway (SMS, 企业微信 …) for some notice kinds, or out."""

from __future__ import annotations

from sqlmodel import Session

from server.commands.users import user_by_username
from server.errors import InvalidInput
from server.i18n import gettext as _
from server.models import GatewayOptIn


def opt_in(
    session: Session, *, username: str, kinds: list[str] | None, known: frozenset[str]
) -> GatewayOptIn:
    """`kinds` of `known` notice kinds, or None for urgent notices only."""
    user = user_by_username(session, username)
    unknown = sorted(set(kinds or ()) - known)
    if unknown:
        raise InvalidInput({"kinds": _("不认识的消息类型：%(kinds)s", kinds="、".join(unknown))})
    row = session.get(GatewayOptIn, user.id) or GatewayOptIn(user_id=user.id)
    row.kinds = sorted(set(kinds)) if kinds else None
    session.add(row)
    session.flush()
    return row


def opt_out(session: Session, *, username: str) -> bool:
    """True when the person was opted in."""
    row = session.get(GatewayOptIn, user_by_username(session, username).id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
