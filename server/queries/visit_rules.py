"""Reads for the admin page of visit rules: the rules of every community, the form's choices."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session, col, select

from server.access import live
from server.models import Community, Tag, VisitRule


@dataclass(frozen=True)
class VisitRuleRow:
    rule: VisitRule
    community: Community
    tag: Tag | None  # the tag a tag rule names


def visit_rules(session: Session) -> list[VisitRuleRow]:
    """Live rules, by community, active first, shortest interval first."""
    communities = {c.id: c for c in session.exec(select(Community))}
    tags = {t.code: t for t in session.exec(select(Tag))}
    rules = session.exec(
        select(VisitRule)
        .where(col(VisitRule.deleted_at).is_(None))
        .order_by(
            col(VisitRule.community_id),
            col(VisitRule.active).desc(),
            col(VisitRule.interval_days),
            col(VisitRule.name),
        )
    ).all()
    rows = [VisitRuleRow(r, communities[r.community_id], tags.get(r.tag_code)) for r in rules]
    return sorted(rows, key=lambda row: row.community.code)


def visit_rule(session: Session, rule_id: uuid.UUID | str) -> VisitRuleRow:
    rule = live(session, VisitRule, rule_id)
    community = live(session, Community, rule.community_id)
    tag = session.exec(select(Tag).where(Tag.code == rule.tag_code)).first() if rule.tag_code else None
    return VisitRuleRow(rule, community, tag)


def tag_choices(session: Session) -> list[Tag]:
    """The tags a rule may name: live and active."""
    return list(
        session.exec(
            select(Tag)
            .where(col(Tag.deleted_at).is_(None), col(Tag.active))
            .order_by(col(Tag.sort), col(Tag.code))
        )
    )
