"""The admin page of visit rules: list, add, edit, deactivate; each refusal changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.db import Database
from server.models import AuditLog, Community, VisitRule
from tests.conftest import Factory
from tests.test_admin_pages import signed_in, snapshot


@pytest.fixture
def community(make: Factory) -> Community:
    community = make.community(code="lean", name="乐安社区")
    make.tag("elderly_alone", name="独居老人")
    make.tag("old_tag", name="旧标签", active=False)
    return community


@pytest.fixture
def admin(app: Starlette, make: Factory, community: Community) -> Iterator[tuple[TestClient, str]]:
    client, token = signed_in(app, make.user("admin", username="root"))
    yield client, token
    client.close()


def rule_form(community: Community, token: str, **change: str) -> dict[str, Any]:
    form = {
        "csrf_token": token,
        "community_id": str(community.id),
        "name": "独居老人每周走访",
        "subject": "tag",
        "tag_code": "elderly_alone",
        "min_age": "",
        "household_status": "",
        "interval_days": "7",
        "priority": "high",
    }
    return {**form, **change}


def rules(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as s:
        return [
            (
                r.name,
                r.subject,
                r.tag_code,
                r.min_age,
                r.household_status,
                r.interval_days,
                r.priority,
                r.active,
            )
            for r in s.exec(select(VisitRule).order_by(VisitRule.name))
        ]


def audit(db: Database) -> list[tuple[str, str]]:
    with db.read() as s:
        return [(a.action, a.record_type) for a in s.exec(select(AuditLog).order_by(AuditLog.id))]


def test_an_admin_adds_edits_deactivates_and_deletes_a_rule(
    admin: tuple[TestClient, str], db: Database, community: Community
) -> None:
    client, token = admin
    assert "还没有走访规则" in client.get("/admin/visit-rules").text

    created = client.post("/admin/visit-rules", data=rule_form(community, token), follow_redirects=False)
    assert (created.status_code, created.headers["location"]) == (303, "/admin/visit-rules?done=created")
    assert rules(db) == [("独居老人每周走访", "tag", "elderly_alone", None, "", 7, "high", True)]
    listing = client.get(created.headers["location"]).text
    assert "已创建" in listing and "独居老人每周走访" in listing and "每 7 天" in listing
    with db.read() as s:
        rule = s.exec(select(VisitRule)).one()
    first_version = rule.version

    edited = client.post(
        f"/admin/visit-rules/{rule.id}",
        data=rule_form(community, token, name="高龄老人", subject="age", min_age="80", interval_days="14"),
        follow_redirects=False,
    )
    assert edited.headers["location"] == f"/admin/visit-rules/{rule.id}?done=saved"
    # The fields of the other subjects are cleared: a rule names one kind of resident.
    assert rules(db) == [("高龄老人", "age", "", 80, "", 14, "high", True)]
    page = client.get(edited.headers["location"]).text
    assert "已保存" in page and "80 周岁及以上" in page

    off = client.post(f"/admin/visit-rules/{rule.id}/deactivate", data={"csrf_token": token})
    assert off.status_code == 200 and "已停用" in off.text
    assert rules(db)[0][-1] is False
    client.post(f"/admin/visit-rules/{rule.id}/activate", data={"csrf_token": token})
    assert rules(db)[0][-1] is True

    gone = client.post(
        f"/admin/visit-rules/{rule.id}/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert gone.headers["location"] == "/admin/visit-rules?done=deleted"
    with db.read() as s:
        deleted = s.get(VisitRule, rule.id)
    assert deleted is not None and deleted.deleted_at is not None and deleted.version > first_version
    assert client.get(f"/admin/visit-rules/{rule.id}").status_code == 404
    assert audit(db)[-5:] == [
        ("visit_rule.create", "visit_rule"),
        ("visit_rule.update", "visit_rule"),
        ("visit_rule.deactivate", "visit_rule"),
        ("visit_rule.activate", "visit_rule"),
        ("visit_rule.delete", "visit_rule"),
    ]


def test_a_household_status_rule(admin: tuple[TestClient, str], db: Database, community: Community) -> None:
    client, token = admin
    form = rule_form(
        community, token, name="空置房巡查", subject="household_status", household_status="vacant"
    )
    client.post("/admin/visit-rules", data={**form, "tag_code": "elderly_alone"})
    assert rules(db) == [("空置房巡查", "household_status", "", None, "vacant", 7, "high", True)]


REFUSALS = [
    ({"name": " "}, "name", "规则名称：必须填写"),
    ({"name": "长" * 41}, "name", "规则名称：太长了"),
    ({"subject": "everyone"}, "subject", "走访对象：请选择"),
    ({"tag_code": ""}, "tag_code", "标签：请选择一个标签"),
    ({"tag_code": "no_such_tag"}, "tag_code", "标签：请选择一个标签"),
    ({"tag_code": "old_tag"}, "tag_code", "标签：旧标签 已停用"),
    ({"subject": "age", "min_age": ""}, "min_age", "年龄：必须填写"),
    ({"subject": "age", "min_age": "0"}, "min_age", "年龄：必须是 1 到 120 之间的整数"),
    ({"subject": "age", "min_age": "八十"}, "min_age", "年龄：必须是 1 到 120 之间的整数"),
    ({"subject": "household_status", "household_status": "haunted"}, "household_status", "住户状态：请选择"),
    ({"interval_days": ""}, "interval_days", "走访间隔：必须填写"),
    ({"interval_days": "0"}, "interval_days", "走访间隔：必须是 1 到 365 之间的整数"),
    ({"interval_days": "366"}, "interval_days", "走访间隔：必须是 1 到 365 之间的整数"),
    ({"interval_days": "-7"}, "interval_days", "走访间隔：必须是 1 到 365 之间的整数"),
    ({"interval_days": "7.5"}, "interval_days", "走访间隔：必须是 1 到 365 之间的整数"),
    ({"priority": "urgent"}, "priority", "优先级：请选择高、中或低"),
    ({"community_id": "not-a-community"}, "community_id", "社区：请选择一个社区"),
]


@pytest.mark.parametrize(("change", "field", "message"), REFUSALS)
def test_a_bad_new_rule_is_refused_with_a_message_and_changes_nothing(
    admin: tuple[TestClient, str],
    db: Database,
    community: Community,
    change: dict[str, str],
    field: str,
    message: str,
) -> None:
    client, token = admin
    before = snapshot(db)
    response = client.post("/admin/visit-rules", data=rule_form(community, token, **change))
    assert response.status_code == 400
    assert message in response.text
    assert f'id="{field}-error"' in response.text or field == "community_id"
    assert snapshot(db) == before and rules(db) == []


@pytest.mark.parametrize(("change", "field", "message"), [r for r in REFUSALS if r[1] != "community_id"])
def test_a_bad_edit_is_refused_with_a_message_and_changes_nothing(
    admin: tuple[TestClient, str],
    db: Database,
    make: Factory,
    community: Community,
    change: dict[str, str],
    field: str,
    message: str,
) -> None:
    client, token = admin
    rule = make.visit_rule(community, tag_code="elderly_alone", name="独居老人", interval_days=7)
    before, kept = snapshot(db), rules(db)
    response = client.post(f"/admin/visit-rules/{rule.id}", data=rule_form(community, token, **change))
    assert response.status_code == 400
    assert message in response.text and f'id="{field}-error"' in response.text
    assert snapshot(db) == before and rules(db) == kept


def test_a_rule_that_is_gone_is_404(
    admin: tuple[TestClient, str], make: Factory, community: Community
) -> None:
    client, token = admin
    rule = make.visit_rule(community, tag_code="elderly_alone")
    client.post(f"/admin/visit-rules/{rule.id}/delete", data={"csrf_token": token})
    assert (
        client.post(f"/admin/visit-rules/{rule.id}/deactivate", data={"csrf_token": token}).status_code == 404
    )
    assert client.post(f"/admin/visit-rules/{rule.id}", data=rule_form(community, token)).status_code == 404
