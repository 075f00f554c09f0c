"""Residents' requests as Open311 GeoReport v2, and finding the API keys and jurisdictions.

Mapping (https://wiki.open311.org/GeoReport_v2): one service per request field
(setting `demand.fields`); one service request per demand; one jurisdiction
(`jurisdiction_id`) per community, by its code. Nothing in it names or
reaches a resident, whoever reads (setting `open311.publishing` may make it
public): no contact fields, the description scrubbed by `people.masking` (names
of the contact and the household's people, phone and ID numbers however typed,
unit and room), the address cut to the estate and building, coordinates
rounded to three decimals (~100 m), no household id, no photos (they show
homes and faces).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from server import preferences
from server.clock import LOCAL_TZ
from server.i18n import gettext as _
from server.i18n import labels
from server.models import (
    ApiKey,
    Community,
    Demand,
    DemandStatus,
    Department,
    Grid,
    Household,
    Resident,
    utcnow,
)
from server.people import masking
from server.workflows import demands as demand_flow
from server.workflows.workdays import TimeLimit

S = DemandStatus
CLOSED = frozenset({S.replied, S.resolved, S.closed})
DEFAULT_DAYS = 90  # the spec's window: the default, and the most one query may span
MAX_REQUESTS = 1000
GROUP = "社区微诉求"
# What each core field covers, for the service list (other fields are described by their name).
ABOUT: dict[str, tuple[str, str]] = {
    "property": ("物业管理与服务：保洁、保安、电梯、维修、停车等。", "物业,电梯,停车,维修,保洁"),
    "elderly_care": ("居家养老：助餐、助浴、探访、适老化改造等。", "养老,老人,助餐,探访,适老化"),
    "infrastructure": ("基础设施维护：路灯、道路、管网、井盖、充电设施等。", "路灯,道路,下水道,井盖,充电桩"),
    "environment": ("环境卫生：垃圾、绿化、噪声、违章搭建等。", "垃圾,绿化,噪音,卫生,违建"),
    "dispute": ("邻里纠纷：漏水、噪声、占道、宠物等邻里矛盾的调解。", "纠纷,调解,漏水,邻里,宠物"),
}


SPEC = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]
CHANGESET = "2026-12-03T00:00:00+08:00"  # when the endpoints below last changed


class Refused(Exception):
    """An Open311 error: the HTTP status the spec gives it, and a description for people."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def publishing(session: Session) -> str:
    """off, key (API keys and staff sessions) or public."""
    return str(preferences.get(session, "open311.publishing"))


def jurisdiction(session: Session, code: str | None) -> Community | None:
    """The community a `jurisdiction_id` names (its code); None when none was sent."""
    if code is None or not code.strip():
        return None
    found = session.exec(
        select(Community).where(Community.code == code.strip(), col(Community.deleted_at).is_(None))
    ).first()
    if found is None:
        raise Refused(404, _("没有这个 jurisdiction_id（社区编码）。"))
    return found


def discovery(url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": _("请联系本系统的管理员申请 API 密钥。"),
        "key_service": _("API 密钥由管理员在“API 密钥”页面发放。"),
        "endpoints": [
            {
                "specification": SPEC,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": FORMATS,
            }
        ],
    }


# -- API keys ----------------------------------------------------------------------------------


def find_key(session: Session, key: str) -> ApiKey | None:
    """The live key with this value, if any."""
    if not key or len(key) > 200:
        return None
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == ApiKey.hash_of(key))).first()
    return row if row is not None and row.revoked_at is None else None


def all_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.created_at).desc())))


# -- services ----------------------------------------------------------------------------------


def service_definition(session: Session, code: str) -> dict[str, Any]:
    """A field's definition. No field asks for more than the description and address every
    request has, so none has attributes (and `metadata` is false in the list)."""
    if code not in demand_flow.field_names(session):
        raise Refused(404, _("没有这个 service_code；可用的见 services.xml。"))
    return {"service_code": code, "attributes": []}


def services(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "service_code": code,
            "service_name": name,
            "description": ABOUT[code][0] if code in ABOUT else name,
            "metadata": False,
            "type": "realtime",
            "keywords": ABOUT[code][1] if code in ABOUT else name,
            "group": GROUP,
        }
        for code, name in demand_flow.field_names(session).items()
    ]


# -- filters -----------------------------------------------------------------------------------


class BadFilter(Refused):
    """A filter Open311 clients sent that we cannot read: a 400; `code` names the filter."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(400, message)
        self.code = code


@dataclass(frozen=True)
class Filters:
    start: datetime
    end: datetime | None
    statuses: frozenset[str]
    service_codes: frozenset[str]
    ids: frozenset[uuid.UUID]


def _moment(text: str, name: str, *, end: bool) -> datetime:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=LOCAL_TZ)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadFilter(
            f"invalid_{name}", _("%(name)s 不是 ISO 8601 时间，例如 2026-03-01T00:00:00+08:00。", name=name)
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def _list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def parse_filters(session: Session, params: Any, *, now: datetime | None = None) -> Filters:
    start_text, end_text = params.get("start_date"), params.get("end_date")
    window = timedelta(days=DEFAULT_DAYS)
    end = _moment(end_text, "end_date", end=True) if end_text else None
    start = _moment(start_text, "start_date", end=False) if start_text else None
    if start is None:
        start = (end or now or utcnow()) - window
    elif end is None:
        end = start + window
    if end is not None and start > end:
        raise BadFilter("invalid_date_range", _("start_date 不能晚于 end_date。"))
    if end is not None and end - start > window:
        raise BadFilter("invalid_date_range", _("start_date 到 end_date 不能超过 90 天。"))
    statuses = _list(params.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise BadFilter("invalid_status", _("status 只能是 open 或 closed。"))
    codes = _list(params.get("service_code"))
    known = demand_flow.field_names(session)
    if any(c not in known for c in codes):
        raise BadFilter("invalid_service_code", _("没有这个 service_code；可用的见 services.json。"))
    ids: set[uuid.UUID] = set()
    for text in _list(params.get("service_request_id")):
        try:
            ids.add(uuid.UUID(text))
        except ValueError:
            raise BadFilter("invalid_service_request_id", _("service_request_id 格式不对。")) from None
    return Filters(start, end, frozenset(statuses), frozenset(codes), frozenset(ids))


# -- requests ----------------------------------------------------------------------------------


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with the offset, in Asia/Shanghai (GeoReport: w3c format)."""
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment else None


# From the unit or room on: 2单元301室, 301, 3-2-301 (栋-单元-室), 2门.
ROOM = re.compile(
    r"\s*(\d+\s*(单元|门|室|号房|户|层|楼层)|[A-Za-z]?\d{3,4}\s*(室|房)?$|-\s*\d+\s*-\s*\d+).*$"
)


def coarse_address(household: Household | None, text: str) -> str:
    """The estate and building, never the unit or the room."""
    if household is not None:
        return " ".join(part for part in (household.estate, household.building) if part)
    return masking.mask_numbers(ROOM.sub("", unicodedata.normalize("NFKC", text))).strip()


def _coordinate(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def request(session: Session, request_id: str, *, community_id: uuid.UUID | None) -> dict[str, Any]:
    """One request by its id, or a 404."""
    try:
        found = uuid.UUID(request_id)
    except ValueError:
        raise Refused(404, _("没有这个 service_request_id。")) from None
    rows = requests(
        session,
        Filters(utcnow(), None, frozenset(), frozenset(), frozenset({found})),
        community_id=community_id,
    )
    if not rows:
        raise Refused(404, _("没有这个 service_request_id。"))
    return rows[0]


def requests(session: Session, filters: Filters, *, community_id: uuid.UUID | None) -> list[dict[str, Any]]:
    query = select(Demand).where(col(Demand.deleted_at).is_(None))
    if community_id is not None:
        query = query.where(Demand.community_id == community_id)
    if filters.ids:  # the spec: service_request_id overrides every other filter
        query = query.where(col(Demand.id).in_(filters.ids))
        return _rows(session, list(session.exec(query.order_by(col(Demand.created_at).desc()))))
    query = query.where(col(Demand.created_at) >= filters.start)
    if filters.end is not None:
        query = query.where(col(Demand.created_at) < filters.end)
    if filters.service_codes:
        query = query.where(col(Demand.field).in_(filters.service_codes))
    if filters.statuses == {"open"}:
        query = query.where(col(Demand.status).not_in(CLOSED))
    elif filters.statuses == {"closed"}:
        query = query.where(col(Demand.status).in_(CLOSED))
    demands = list(session.exec(query.order_by(col(Demand.created_at).desc()).limit(MAX_REQUESTS)))
    return _rows(session, demands)


def _rows(session: Session, demands: list[Demand]) -> list[dict[str, Any]]:
    def by_id(model: Any, ids: set[Any]) -> dict[Any, Any]:
        ids.discard(None)
        return {r.id: r for r in session.exec(select(model).where(col(model.id).in_(ids)))} if ids else {}

    households = by_id(Household, {d.household_id for d in demands})
    grids = by_id(Grid, {d.grid_id for d in demands})
    departments = by_id(Department, {d.department_id for d in demands})
    communities = by_id(Community, {d.community_id for d in demands})
    people: dict[uuid.UUID, set[str]] = {}
    if households:
        for resident in session.exec(select(Resident).where(col(Resident.household_id).in_(households))):
            people.setdefault(resident.household_id, set()).add(resident.name)
    fields = demand_flow.field_names(session)
    limits = preferences.get(session, "demand.time_limits")  # for requests dispatched before limits were kept
    rows = []
    for d in demands:
        household = households.get(d.household_id)
        names = {d.contact_name} | people.get(d.household_id, set()) if d.household_id else {d.contact_name}
        lat = d.lat if d.lat is not None else (household.lat if household else None)
        lng = d.lng if d.lng is not None else (household.lng if household else None)
        community = communities.get(d.community_id)
        if d.department_id in departments:
            agency = departments[d.department_id].name
        elif d.grid_id in grids:
            agency = f"{community.name if community else ''}{grids[d.grid_id].name}"
        else:
            agency = community.name if community else ""
        notes = labels.label("demand_status", d.status)
        if demand_flow.overdue(d):
            notes += _("；已逾期")
        notice = ""
        limit = demand_flow.limit_of(d) or (
            TimeLimit.parse(limits[d.handling_type][d.priority]) if d.handling_type else None
        )
        if d.handling_type and limit is not None:
            notice = _(
                "%(type)s，办理时限 %(limit)s",
                type=labels.label("handling_type", d.handling_type),
                limit=preferences.limit_text(limit),
            )
        rows.append(
            {
                "service_request_id": str(d.id),
                "status": "closed" if d.status in CLOSED else "open",
                "status_notes": notes,
                "service_name": fields.get(d.field, d.field),
                "service_code": d.field,
                "description": masking.scrub(d.description, names),
                "agency_responsible": agency,
                "service_notice": notice,
                "requested_datetime": iso(d.created_at),
                "updated_datetime": iso(d.updated_at),
                "expected_datetime": iso(d.deadline),
                "address": masking.scrub(coarse_address(household, d.address), names),
                "address_id": None,
                "zipcode": None,
                "lat": _coordinate(lat),
                "long": _coordinate(lng),
                "media_url": None,
            }
        )
    return rows
