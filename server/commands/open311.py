"""Requests other systems hand to a community through Open311 (`POST requests`): a county's
12345 hotline passes a call on, and it enters as 点单 through the public form's own command
(`demands.submit_public`), so triage, dispatch and every rule after it are the same.

Spec arguments (https://wiki.open311.org/GeoReport_v2#post-service-request) map to the form's:
service_code → field, description, address_string → address, last_name + first_name →
contact_name, phone → contact_phone; lat / long are kept as the request's place. Creation is
synchronous: the answer carries the service_request_id, never a token.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session

from server import audit
from server.commands import demands
from server.errors import InvalidInput
from server.i18n import gettext as _
from server.models import ApiKey, Community, Demand

LOCATION = ("lat", "long", "address_string", "address_id")


def _coordinate(params: Mapping[str, str], name: str, limit: float) -> float | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = limit * 2
    if not -limit <= value <= limit:
        raise InvalidInput({name: _("%(name)s 不是有效的坐标。", name=name)})
    return value


def submit_request(
    session: Session, *, key: ApiKey, community: Community, params: Mapping[str, str]
) -> Demand:
    """A 点单 from another system, audited with the key that sent it."""
    if not (params.get("service_code") or "").strip():
        raise InvalidInput({"service_code": _("service_code 必须填写。")})
    if not any((params.get(name) or "").strip() for name in LOCATION):
        raise InvalidInput({"address_string": _("要有位置：lat 和 long，或 address_string。")})
    lat, lng = _coordinate(params, "lat", 90), _coordinate(params, "long", 180)
    data = {
        "field": params.get("service_code", ""),
        "description": params.get("description", ""),
        "address": params.get("address_string", ""),
        "contact_name": f"{params.get('last_name', '')}{params.get('first_name', '')}".strip(),
        "contact_phone": params.get("phone", ""),
    }
    demand = demands.submit_public(
        session,
        community=community,
        data={k: v for k, v in data.items() if v},
        note=_("由 %(name)s 通过 Open311 转来。", name=key.name),
    )
    if lat is not None and lng is not None:
        demand.lat, demand.lng = lat, lng
    audit.record(
        session,
        actor=None,
        action="open311.create",
        record_type="demand",
        record_id=demand.id,
        reader=f"api_key:{key.name}",
    )
    return demand
