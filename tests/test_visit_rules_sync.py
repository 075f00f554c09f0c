"""Visit rules are reference data of a community: its workers and staff pull them (record type `visit_rule`)."""

from __future__ import annotations

from typing import Any

from server.commands import visit_rules
from server.db import Database
from tests.conftest import Factory


def test_a_workers_pull_carries_its_communitys_rules_and_a_change_arrives_as_a_new_version(
    make: Factory, db: Database, sync_phone: Any
) -> None:
    mine, theirs = make.community(), make.community()
    grid = make.grid(mine)
    make.tag("elderly_alone", name="独居老人")
    rule = make.visit_rule(
        mine, tag_code="elderly_alone", name="独居老人每周", interval_days=7, priority="high"
    )
    make.visit_rule(theirs, tag_code="elderly_alone", name="别的社区")
    worker = sync_phone(make.user(grids=[grid]))
    staff = sync_phone(make.user("community_staff", community=mine))
    department = sync_phone(make.user("department"))
    for phone in (worker, staff, department):
        phone.pull()

    held = worker.records("visit_rule")
    assert list(held) == [str(rule.id)]
    data = held[str(rule.id)]
    assert {
        k: data[k] for k in ("community_id", "name", "subject", "tag_code", "min_age", "interval_days")
    } == {
        "community_id": str(mine.id),
        "name": "独居老人每周",
        "subject": "tag",
        "tag_code": "elderly_alone",
        "min_age": None,
        "interval_days": 7,
    }
    assert (data["priority"], data["active"], data["household_status"]) == ("high", True, "")
    assert "field_versions" not in data
    assert list(staff.records("visit_rule")) == [str(rule.id)]
    assert department.records("visit_rule") == {}

    first = data["version"]
    with db.write() as s:
        visit_rules.update_visit_rule(
            s,
            actor=None,
            rule_id=rule.id,
            fields=visit_rules.RuleFields(
                name="高龄老人", subject="age", min_age="80", interval_days="14", priority="normal"
            ),
        )
    worker.pull()
    changed = worker.records("visit_rule")[str(rule.id)]
    assert changed["version"] > first
    assert (changed["subject"], changed["min_age"], changed["tag_code"], changed["interval_days"]) == (
        "age",
        80,
        "",
        14,
    )

    with db.write() as s:
        visit_rules.set_visit_rule_active(s, actor=None, rule_id=rule.id, active=False)
    worker.pull()
    assert worker.records("visit_rule")[str(rule.id)]["active"] is False

    with db.write() as s:
        visit_rules.delete_visit_rule(s, actor=None, rule_id=rule.id)
    worker.pull()
    staff.pull()
    assert worker.records("visit_rule") == {} and staff.records("visit_rule") == {}
