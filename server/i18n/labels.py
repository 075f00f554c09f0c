"""What people read for the values of enumerations: one place for every screen.

Labels are lazy, so a module-level table is translated into the language of
the request that shows it (`server.i18n`).
"""

from __future__ import annotations

from babel.support import LazyProxy

from server.i18n import _l, gettext

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
    "import_status": {
        "checking": _l("检查中"),
        "checked": _l("待确认"),
        "importing": _l("导入中"),
        "done": _l("已完成"),
        "failed": _l("无法导入"),
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
    "service_category": {
        "social_security": _l("社保"),
        "medical_insurance": _l("医保"),
        "civil_affairs": _l("民政"),
        "household_registration": _l("户籍"),
        "disability": _l("残联"),
        "elderly": _l("老龄"),
        "employment": _l("就业"),
        "housing": _l("住房"),
        "other": _l("其他"),
    },
    "assisted_status": {
        "received": _l("已收件"),
        "submitted": _l("已递交"),
        "completed": _l("已办结"),
        "delivered": _l("已送达"),
        "returned": _l("退回补件"),
        "withdrawn": _l("已撤回"),
    },
    "assisted_step": {
        "create": _l("收件"),
        "submit": _l("递交窗口"),
        "complete": _l("办结"),
        "deliver": _l("送达居民"),
        "return": _l("退回补件"),
        "resupply": _l("补件"),
        "withdraw": _l("撤回"),
        "rate": _l("居民评价"),
        "rectify": _l("差评整改"),
    },
    "material_form": {
        "original": _l("原件"),
        "copy": _l("复印件"),
    },
    "visit_rule_subject": {
        "tag": _l("带有标签的居民"),
        "age": _l("达到年龄的居民"),
        "household_status": _l("某种状态的住户"),
    },
    "visit_rule_priority": {
        "high": _l("高"),
        "normal": _l("中"),
        "low": _l("低"),
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
    "card_status": {
        "draft": _l("草稿"),
        "submitted": _l("待审核"),
        "needs_supplement": _l("待补充材料"),
        "rejected": _l("未通过"),
        "approved": _l("审核通过"),
        "in_production": _l("制卡中"),
        "ready": _l("待领取"),
        "issued": _l("已发卡"),
        "cancelled": _l("已撤销"),
    },
    # The steps of an application (event kinds), as buttons and as lines of its history.
    "card_step": {
        "created": _l("创建申请"),
        "updated": _l("修改申请"),
        "submit": _l("提交审核"),
        "approve": _l("审核通过"),
        "reject": _l("不予通过"),
        "needs_supplement": _l("退回补充材料"),
        "in_production": _l("送交制卡"),
        "ready": _l("制卡完成"),
        "issued": _l("已发卡"),
        "cancel": _l("撤销申请"),
        "plan_review": _l("安排年审走访"),
    },
    "delivery": {
        "collect": _l("到社区领取"),
        "door": _l("送卡上门"),
    },
    "residence": {
        "hukou": _l("本地户籍"),
        "permit": _l("居住证"),
    },
    "tier": {
        "free": _l("免费卡"),
        "discount": _l("优惠卡"),
    },
    "conflict_field": {
        "phone": _l("电话"),
        "notes": _l("备注"),
        "status": _l("状态"),
        "kind": _l("户类型"),
        "estate": _l("小区"),
        "building": _l("楼栋"),
        "unit": _l("单元"),
        "room": _l("门牌"),
        "name": _l("姓名"),
        "relation": _l("与户主关系"),
        "tags": _l("标签"),
        "id_hash": _l("身份证号"),
        "id_number": _l("身份证号"),
        "delivery": _l("领卡方式"),
        "residence": _l("居住依据"),
        "checklist": _l("材料清单"),
        "photo": _l("申请人照片"),
        "proxy": _l("代办人"),
    },
    # Residents' requests (微诉求).
    "demand_status": {
        "submitted": _l("待派单"),
        "dispatched": _l("已派单"),
        "accepted": _l("已接单"),
        "in_progress": _l("办理中"),
        "replied": _l("已答复"),
        "transferred": _l("已转交部门"),
        "escalated": _l("提交联席会议"),
        "resolved": _l("已办结"),
        "rectifying": _l("整改中"),
        "closed": _l("已归档"),
    },
    # The default names; admins may rename fields (setting `demand.fields`), pages read those.
    "demand_field": {
        "property": _l("物业服务"),
        "elderly_care": _l("居家养老"),
        "infrastructure": _l("基础设施维护"),
        "environment": _l("环境卫生"),
        "dispute": _l("邻里纠纷"),
    },
    "handling_type": {
        "reply": _l("回复解释类"),
        "self": _l("受理自办类"),
        "transfer": _l("转交办理类"),
    },
    "priority": {
        "normal": _l("普通"),
        "urgent": _l("紧急"),
    },
    "rating": {
        "satisfied": _l("满意"),
        "basically_satisfied": _l("基本满意"),
        "dissatisfied": _l("不满意"),
    },
    "source": {
        "visit": _l("上门走访"),
        "phone": _l("来电"),
        "hotline": _l("12345 热线"),
        "meeting": _l("书记下午茶"),
        "public": _l("居民扫码提交"),
    },
    # The steps of a request, as buttons.
    "demand_step": {
        "dispatch": _l("派单"),
        "accept": _l("接单"),
        "progress": _l("记录进展"),
        "reply": _l("答复居民"),
        "resolve": _l("办结"),
        "answer": _l("直接答复"),
        "transfer": _l("转交部门"),
        "return": _l("退回社区"),
        "escalate": _l("提交联席会议"),
        "decide": _l("记录会议决定"),
        "rate": _l("记录居民评价"),
        "close": _l("归档"),
        "suspend": _l("暂停计时"),
        "resume": _l("恢复计时"),
        "urge": _l("督办"),
    },
    # How a rating reached us (demand.rating_channel).
    "rating_channel": {
        "resident": _l("居民本人"),
        "visit": _l("入户代录"),
        "phone": _l("电话回访"),
        "proxy": _l("代录（链接在登录的浏览器中打开）"),
    },
    # The lines of a request's history (demand_event.kind).
    "demand_event": {
        "created": _l("登记诉求"),
        "dispatched": _l("派单"),
        "accepted": _l("接单"),
        "progress": _l("办理进展"),
        "replied": _l("答复居民"),
        "resolved": _l("办结"),
        "answered": _l("社区直接答复"),
        "transferred": _l("转交部门"),
        "returned": _l("部门退回"),
        "escalated": _l("提交联席会议"),
        "decided": _l("联席会议决定"),
        "rated": _l("居民评价"),
        "closed": _l("归档"),
        "suspended": _l("暂停计时"),
        "resumed": _l("恢复计时"),
        "urged": _l("督办"),
    },
    # Deliberation (议事): topics, their steps, opinions, meetings.
    "topic_status": {
        "collecting": _l("征集意见"),
        "deliberating": _l("协商中"),
        "declined": _l("不予采纳"),
        "implementing": _l("落实中"),
        "checking": _l("查事"),
        "closed": _l("已办结"),
    },
    "topic_step": {
        "create": _l("提出议题"),
        "opinion": _l("记录意见"),
        "take_up": _l("审议通过"),
        "decline": _l("审议不通过"),
        "resolve": _l("当场解决"),
        "refer": _l("转部门联合调处"),
        "continue": _l("继续协商"),
        "reject": _l("不予采纳"),
        "decide": _l("公布决定"),
        "progress": _l("记录落实进展"),
        "finish": _l("落实完成"),
        "check": _l("记录查事结果"),
    },
    "topic_event": {
        "created": _l("提出议题"),
        "taken_up": _l("审议通过"),
        "declined": _l("审议不通过"),
        "resolved": _l("当场解决"),
        "referred": _l("转部门联合调处"),
        "continued": _l("继续协商"),
        "rejected": _l("不予采纳"),
        "decided": _l("公布决定"),
        "progress": _l("落实进展"),
        "finished": _l("落实完成"),
        "checked": _l("查事"),
    },
    "topic_source": {
        "demand": _l("居民诉求"),
        "visit": _l("入户走访"),
        "public": _l("居民自助提交"),
        "staff": _l("社区提出"),
    },
    "stance": {
        "for": _l("赞成"),
        "conditional": _l("有条件赞成"),
        "against": _l("反对"),
        "none": _l("无意见"),
    },
    "opinion_channel": {
        "door": _l("入户征求"),
        "resident": _l("居民本人"),
    },
    "verdict": {
        "done": _l("已落实"),
        "not_done": _l("未落实"),
    },
    "meeting_kind": {
        "tea": _l("书记下午茶"),
        "pavilion": _l("凉亭议事会"),
        "joint": _l("联席会议"),
        "residents": _l("居民议事会"),
    },
    "meeting_status": {
        "planned": _l("待召开"),
        "held": _l("已召开"),
    },
    "meeting_step": {
        "create": _l("安排会议"),
        "agenda": _l("安排议程"),
        "attend": _l("记录参会"),
        "minute": _l("记录纪要"),
        "close": _l("纪要定稿"),
    },
    "meeting_outcome": {
        "resolved": _l("当场解决"),
        "department": _l("转部门联合调处"),
        "continue": _l("继续协商"),
        "rejected": _l("不予采纳"),
    },
    "participant": {
        "secretary": _l("社区书记"),
        "party_member": _l("党员"),
        "cadre": _l("社区干部"),
        "elder": _l("三老人员"),
        "party_rep": _l("党代表"),
        "npc_deputy": _l("人大代表"),
        "cppcc_member": _l("政协委员"),
        "resident_rep": _l("居民代表"),
        "owners_committee": _l("业委会"),
        "property": _l("物业"),
        "partner": _l("共建单位"),
        "department": _l("职能部门"),
    },
}


def label(kind: str, value: str | None) -> str:
    """The label of `value` among `kind`; an unknown value shows as itself rather than vanish."""
    if value is None:
        return ""
    found = LABELS.get(kind, {}).get(value)
    return str(found) if found is not None else str(value)


def N_(text: str) -> str:
    """Marks a source string for the catalogue; it is translated where it is shown."""
    return text


# What the fields of argument shapes are called in error messages and on pages.
FIELDS: dict[str, str] = {
    "household_id": "户",
    "resident_id": "居民",
    "visit_id": "走访编号",
    "grid_id": "网格",
    "estate": "小区",
    "building": "楼栋",
    "unit": "单元",
    "room": "门牌",
    "kind": "户类型",
    "status": "状态",
    "phone": "电话",
    "notes": "备注",
    "name": "姓名",
    "relation": "与户主关系",
    "id_number": "身份证号",
    "tags": "标签",
    "purpose": "走访目的",
    "outcome": "走访结果",
    "photos": "照片",
    "base_version": "版本",
    "set": "修改内容",
    "lat": "纬度",
    "lng": "经度",
    "at": "时间",
    "topic_id": N_("议题"),
    "meeting_id": N_("会议"),
    "stance": N_("意见"),
    "owners": N_("落实责任人"),
    "due_days": N_("落实时限（工作日）"),
    "verdict": N_("查事结果"),
    "minutes": N_("会议纪要"),
    "result": N_("议定结果"),
    "starts_at": N_("会议时间"),
    "place": N_("会议地点"),
    "participants": N_("参会人员"),
}


def field_label(field: str) -> str:
    return gettext(FIELDS.get(field, field))


# What each role is called on pages.
ROLE_NAMES: dict[str, LazyProxy] = {
    "grid_worker": _l("网格员"),
    "community_staff": _l("社区工作人员"),
    "department": _l("职能部门"),
    "admin": _l("管理员"),
}
