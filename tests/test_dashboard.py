"""The community dashboard against a hand-built set of requests whose figures are known."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from server.clock import LOCAL_TZ
from server.db import Database
from server.models import Community, Demand, DemandEvent, Department, Grid
from server.queries import demands as queries
from tests.conftest import Factory, login

# Wednesday 4 March 2026, 10:00 in Shanghai; its week starts on Monday 2 March.
NOW = datetime(2026, 3, 4, 10, tzinfo=LOCAL_TZ)


def h(n: float) -> timedelta:
    return timedelta(hours=n)


def weeks(n: int) -> timedelta:
    return timedelta(weeks=n)


def put(
    db: Database,
    community: Community,
    *,
    status: str,
    field: str,
    created: datetime,
    grid: Grid | None = None,
    department: Department | None = None,
    dispatched: timedelta | None = None,
    accepted: timedelta | None = None,
    resolved: timedelta | None = None,
    deadline: datetime | None = None,
    rating: str | None = None,
    description: str = "诉求",
    address: str = "",
) -> Demand:
    """A request and the events of its life, at the given times after it was made."""
    scope = {
        "community_id": community.id,
        "grid_id": grid.id if grid else None,
        "department_id": department.id if department else None,
    }
    demand = Demand(
        id=uuid.uuid4(),
        **scope,
        field=field,
        description=description,
        address=address,
        source="phone",
        status=status,
        created_at=created,
        deadline=deadline,
        accepted_at=created + accepted if accepted is not None else None,
        resolved_at=created + resolved if resolved is not None else None,
        rating=rating,
    )
    events = [("created", created)]
    if dispatched is not None:
        events.append(("transferred" if department else "dispatched", created + dispatched))
    if accepted is not None:
        events.append(("accepted", created + accepted))
    with db.write() as session:
        session.add(demand)
        for kind, at in events:
            session.add(DemandEvent(demand_id=demand.id, **scope, kind=kind, to_status=status, at=at))
    return demand


@pytest.fixture
def community(make: Factory, db: Database) -> tuple[Community, Grid, Grid, Department]:
    g1 = make.grid(name="一网格", code="g1")
    g2 = make.grid(name="二网格", code="g2")
    department = make.department(name="县住建局")
    with db.read() as s:
        community = s.get(Community, g1.community_id)
        assert community is not None
    c = community
    put(db, c, status="submitted", field="property", created=NOW - h(5))
    put(
        db,
        c,
        status="dispatched",
        field="property",
        created=NOW - weeks(1),
        grid=g1,
        dispatched=h(2),
        deadline=NOW - h(1),
    )
    put(
        db,
        c,
        status="accepted",
        field="environment",
        created=NOW - weeks(2),
        grid=g1,
        dispatched=h(1),
        accepted=h(3),
        deadline=NOW + h(10),
    )
    put(
        db,
        c,
        status="resolved",
        field="environment",
        created=NOW - weeks(3),
        grid=g1,
        dispatched=h(1),
        accepted=h(5),
        resolved=h(25),
        deadline=NOW - h(400),
    )
    put(
        db,
        c,
        status="closed",
        field="dispute",
        created=NOW - weeks(5),
        grid=g2,
        dispatched=h(0),
        accepted=h(6),
        resolved=h(49),
        rating="satisfied",
    )
    put(
        db,
        c,
        status="closed",
        field="infrastructure",
        created=NOW - weeks(13),
        grid=g2,
        dispatched=h(0),
        accepted=h(8),
        resolved=h(11),
        rating="basically_satisfied",
    )
    put(
        db,
        c,
        status="rectifying",
        field="infrastructure",
        created=NOW - weeks(4),
        grid=g1,
        dispatched=h(2),
        accepted=h(12),
        deadline=NOW + h(30),
        rating="dissatisfied",
    )
    put(
        db,
        c,
        status="transferred",
        field="infrastructure",
        created=NOW - weeks(1),
        grid=g2,
        department=department,
        dispatched=h(3),
        deadline=NOW - h(2),
    )
    put(db, c, status="replied", field="property", created=NOW - weeks(2), resolved=h(3))
    # Another community's request counts nowhere here.
    put(db, make.community(), status="submitted", field="property", created=NOW - h(1))
    return community, g1, g2, department


def test_the_figures_of_a_hand_built_community(
    community: tuple[Community, Grid, Grid, Department], db: Database
) -> None:
    c = community[0]
    with db.read() as s:
        b = queries.dashboard(s, c, now=NOW)
    assert b.total == 9
    assert {x.key: x.total for x in b.by_status} == {
        "submitted": 1,
        "dispatched": 1,
        "accepted": 1,
        "in_progress": 0,
        "replied": 1,
        "transferred": 1,
        "escalated": 0,
        "resolved": 1,
        "rectifying": 1,
        "closed": 2,
    }
    assert [(x.key, x.name, x.total) for x in b.by_field] == [
        ("property", "物业服务", 3),
        ("elderly_care", "居家养老", 0),
        ("infrastructure", "基础设施维护", 3),
        ("environment", "环境卫生", 2),
        ("dispute", "邻里纠纷", 1),
    ]
    assert [(x.name, x.total, x.open, x.overdue) for x in b.by_grid] == [
        ("一网格", 4, 3, 1),
        ("二网格", 3, 1, 1),
        ("", 2, 1, 0),  # not in a grid yet, or answered by the office
    ]
    assert [(x.name, x.total, x.open, x.overdue) for x in b.by_department] == [("县住建局", 1, 1, 1)]
    assert (b.open, b.overdue, b.due_soon) == (5, 2, 1)
    # From dispatch to acceptance: 2, 4, 6, 8, 10 hours.
    assert b.median_accept_hours == 6.0
    # From the request to its answer: 3, 11, 25, 49 hours.
    assert b.median_resolve_hours == 18.0
    assert b.ratings == {"satisfied": 1, "basically_satisfied": 1, "dissatisfied": 1}
    assert b.satisfaction_rate == pytest.approx(2 / 3)
    assert [w.start for w in b.weeks] == [date(2026, 3, 2) - timedelta(weeks=11 - i) for i in range(12)]
    assert [w.received for w in b.weeks] == [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 1]
    assert [w.resolved for w in b.weeks] == [0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0]
    assert b.weeks[-1].label == "3/2"


def test_an_empty_community_has_no_rates_rather_than_zero(make: Factory, db: Database) -> None:
    community = make.community()
    with db.read() as s:
        b = queries.dashboard(s, community, now=NOW)
    assert (b.total, b.median_accept_hours, b.median_resolve_hours, b.satisfaction_rate) == (
        0,
        None,
        None,
        None,
    )
    assert [w.received for w in b.weeks] == [0] * 12


def test_the_page_draws_its_charts_in_svg(
    client: TestClient, community: tuple[Community, Grid, Grid, Department], make: Factory
) -> None:
    c = community[0]
    login(client, make.user("community_staff", community=c))
    response = client.get("/demands/dashboard")
    assert response.status_code == 200
    page = response.text
    svgs = re.findall(r"<svg class=\"chart\".*?</svg>", page, flags=re.S)
    assert len(svgs) == 6  # five of requests, one of care-visit coverage
    for svg in svgs:
        assert "style=" not in svg and "<script" not in svg and "viewBox" in svg and "<title>" in svg
    assert "一网格" in page and "县住建局" in page and "<polyline" in page
    assert "满意率" in page and "67%" in page
    # Admins choose the community.
    admin = TestClient(client.app)
    login(admin, make.user("admin"))
    chosen = admin.get(f"/demands/dashboard?community={c.id}")
    assert chosen.status_code == 200 and f'<option value="{c.id}" selected>' in chosen.text
    admin.close()


def test_chart_text_is_escaped() -> None:
    from server.web import charts

    svg = str(charts.bar_chart([charts.Bar("<b>网格</b>", 3)], title="<script>"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "<script>" not in svg
