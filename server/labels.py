"""What people read for the values of enumerations: one place for every screen.

Labels are lazy, so a module-level table is translated into the language of
the request that shows it (`server.i18n`).
"""

from __future__ import annotations

from babel.support import LazyProxy

from server.i18n import _l

LABELS: dict[str, dict[str, LazyProxy]] = {
    "household_kind": {
        "registered": _l("户籍"),
        "resident": _l("常住"),
        "floating": _l("流动"),
        "rental": _l("出租"),
    },
    "household_status": {
        "active": _l("在住"),
        "vacant": _l("空置"),
        "moved_out": _l("已迁出"),
    },
    "visit_purpose": {
        "routine": _l("日常走访"),
        "care": _l("关爱重点人群"),
        "service": _l("代办服务"),
        "follow_up": _l("回访"),
    },
    "visit_outcome": {
        "completed": _l("已完成"),
        "nobody_home": _l("无人在家"),
        "refused": _l("拒绝"),
        "planned": _l("待走访"),
    },
    "relation": {
        "head": _l("户主"),
        "spouse": _l("配偶"),
        "child": _l("子女"),
        "parent": _l("父母"),
        "grandchild": _l("孙辈"),
        "sibling": _l("兄弟姐妹"),
        "tenant": _l("租户"),
        "other": _l("其他"),
    },
    "sex": {
        "male": _l("男"),
        "female": _l("女"),
    },
}


def label(kind: str, value: str | None) -> str:
    """The label of `value` among `kind`; an unknown value shows as itself rather than vanish."""
    if value is None:
        return ""
    found = LABELS.get(kind, {}).get(value)
    return str(found) if found is not None else str(value)
