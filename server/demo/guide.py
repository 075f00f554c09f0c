"""The demo's service guide (办事指南, 30 items of a county's 便民服务事项) and assisted
applications (代办件) at every step, made through the same commands as the office pages."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from server.access import Actor
from server.commands import assisted, service_items
from server.models import AssistedApplication, BlobRef, Department, Resident, ServiceItem

CENTRE = "乐安县鳌溪镇便民服务中心"
HOURS = "周一至周五 8:30–12:00，14:30–17:30（法定节假日除外）"
ID_CARD = "居民身份证｜原件｜1份｜核对后当场退还"
HUKOU = "户口簿｜复印件｜1份｜首页及本人页"
PHOTO = "近期一寸免冠白底照片｜原件｜2份"
BANK = "本人银行卡或社保卡｜复印件｜1份｜用于发放待遇"

# (name, category, who may apply, materials (one a line), working days, window, fees)
ITEMS: tuple[tuple[str, str, str, str, int, str, str], ...] = (
    (
        "城乡居民基本养老保险参保登记",
        "social_security",
        "年满16周岁、不是在校学生、未参加职工基本养老保险的城乡居民",
        f"{ID_CARD}\n{HUKOU}",
        0,
        "社保窗口",
        "",
    ),
    (
        "城乡居民养老保险待遇领取",
        "social_security",
        "年满60周岁、累计缴费满15年的参保人",
        f"{ID_CARD}\n{HUKOU}\n{BANK}",
        15,
        "社保窗口",
        "",
    ),
    (
        "社会保障卡申领",
        "social_security",
        "本县户籍或在本县参保的人员",
        f"{ID_CARD}\n{PHOTO}",
        20,
        "社保窗口",
        "",
    ),
    (
        "社会保障卡挂失补换",
        "social_security",
        "社保卡遗失或损坏的持卡人",
        f"{ID_CARD}\n原社会保障卡（损坏换卡）｜原件｜1份",
        10,
        "社保窗口",
        "补卡工本费按省定标准",
    ),
    (
        "灵活就业人员参保登记",
        "social_security",
        "本县户籍的个体工商户和灵活就业人员",
        f"{ID_CARD}\n灵活就业情况说明｜原件｜1份",
        1,
        "社保窗口",
        "",
    ),
    (
        "城乡居民基本医疗保险参保缴费",
        "medical_insurance",
        "未参加职工医保的城乡居民（含新生儿、在校学生）",
        f"{ID_CARD}\n{HUKOU}",
        0,
        "医保窗口",
        "按当年个人缴费标准",
    ),
    (
        "异地就医备案",
        "medical_insurance",
        "长期在外地居住、工作或转外地就医的参保人",
        f"{ID_CARD}\n异地居住证明或转诊证明｜复印件｜1份",
        1,
        "医保窗口",
        "",
    ),
    (
        "门诊慢特病待遇认定",
        "medical_insurance",
        "患高血压、糖尿病等门诊慢特病的参保人",
        f"{ID_CARD}\n近两年病历及检查报告｜复印件｜1份\n二级以上医院诊断证明｜原件｜1份",
        20,
        "医保窗口",
        "",
    ),
    (
        "医疗费用手工报销",
        "medical_insurance",
        "因故未能直接结算的参保人",
        f"{ID_CARD}\n医疗费用发票｜原件｜1份\n费用明细清单｜原件｜1份\n出院小结｜复印件｜1份\n{BANK}",
        20,
        "医保窗口",
        "",
    ),
    (
        "最低生活保障申请",
        "civil_affairs",
        "家庭人均收入低于当地低保标准、财产符合规定的本县户籍家庭",
        f"{ID_CARD}\n{HUKOU}\n家庭经济状况核对授权书｜原件｜1份｜全体家庭成员签字\n家庭收入情况说明｜原件｜1份",
        30,
        "民政窗口",
        "",
    ),
    (
        "特困人员救助供养申请",
        "civil_affairs",
        "无劳动能力、无生活来源、无法定赡养抚养扶养义务人的老年人、残疾人和未成年人",
        f"{ID_CARD}\n{HUKOU}\n{PHOTO}",
        30,
        "民政窗口",
        "",
    ),
    (
        "临时救助申请",
        "civil_affairs",
        "因意外事件、突发重病等导致基本生活陷入困境的家庭或个人",
        f"{ID_CARD}\n困难情况证明（医疗票据、事故证明等）｜复印件｜1份",
        5,
        "民政窗口",
        "",
    ),
    (
        "殡葬惠民补贴申领",
        "civil_affairs",
        "本县户籍居民死亡后在本县火化的，由亲属申领",
        "死者居民身份证｜复印件｜1份\n火化证明｜原件｜1份\n申领人居民身份证｜原件｜1份\n" + BANK,
        10,
        "民政窗口",
        "",
    ),
    (
        "户口迁入（投靠亲属）",
        "household_registration",
        "投靠配偶、父母、子女的人员",
        f"{ID_CARD}\n{HUKOU}\n亲属关系证明（结婚证、出生医学证明等）｜复印件｜1份\n迁入地房屋产权证明｜复印件｜1份",
        5,
        "户籍窗口",
        "",
    ),
    (
        "新生儿出生登记",
        "household_registration",
        "本县户籍父母所生的新生儿",
        "出生医学证明｜原件｜1份\n父母居民身份证｜原件｜1份\n父母户口簿｜原件｜1份\n父母结婚证｜原件｜1份",
        0,
        "户籍窗口",
        "",
    ),
    (
        "居民身份证换领",
        "household_registration",
        "身份证有效期满或即将期满的居民",
        f"原居民身份证｜原件｜1份\n{HUKOU}",
        20,
        "户籍窗口",
        "工本费 20 元",
    ),
    (
        "居住证申领",
        "household_registration",
        "在本县居住半年以上、有合法稳定就业或住所或连续就读的外来人员",
        f"{ID_CARD}\n居住地住址证明（租赁合同等）｜复印件｜1份\n{PHOTO}",
        15,
        "户籍窗口",
        "",
    ),
    (
        "残疾人证办理",
        "disability",
        "视力、听力、言语、肢体、智力、精神残疾人",
        f"{ID_CARD}\n{HUKOU}\n{PHOTO}\n残疾评定表｜原件｜1份｜指定医院评残后出具",
        20,
        "残联窗口",
        "",
    ),
    (
        "困难残疾人生活补贴申请",
        "disability",
        "持第二代残疾人证、享受低保的残疾人",
        f"{ID_CARD}\n残疾人证｜复印件｜1份\n低保证明｜复印件｜1份\n{BANK}",
        20,
        "残联窗口",
        "",
    ),
    (
        "重度残疾人护理补贴申请",
        "disability",
        "残疾等级为一、二级且需要长期照护的残疾人",
        f"{ID_CARD}\n残疾人证｜复印件｜1份\n{BANK}",
        20,
        "残联窗口",
        "",
    ),
    (
        "残疾人辅助器具适配申请",
        "disability",
        "有辅助器具需求的持证残疾人",
        f"{ID_CARD}\n残疾人证｜复印件｜1份\n医生适配建议｜原件｜1份",
        15,
        "残联窗口",
        "",
    ),
    (
        "高龄津贴申领",
        "elderly",
        "年满80周岁的本县户籍老年人",
        f"{ID_CARD}\n{HUKOU}\n{BANK}",
        10,
        "民政窗口",
        "",
    ),
    ("老年人优待证办理", "elderly", "年满60周岁的老年人", f"{ID_CARD}\n{PHOTO}", 5, "老龄窗口", ""),
    (
        "经济困难老年人居家养老服务补贴申请",
        "elderly",
        "低保、特困家庭中失能、半失能的老年人",
        f"{ID_CARD}\n{HUKOU}\n低保证或特困证｜复印件｜1份\n能力评估表｜原件｜1份",
        20,
        "老龄窗口",
        "",
    ),
    (
        "就业创业证申领",
        "employment",
        "法定劳动年龄内有就业要求的城乡劳动者",
        f"{ID_CARD}\n{PHOTO}",
        1,
        "就业窗口",
        "",
    ),
    (
        "失业登记",
        "employment",
        "法定劳动年龄内、有劳动能力和就业要求、处于无业状态的人员",
        f"{ID_CARD}\n解除劳动合同证明｜复印件｜1份",
        0,
        "就业窗口",
        "",
    ),
    (
        "创业担保贷款申请",
        "employment",
        "符合条件的个人创业者、小微企业",
        f"{ID_CARD}\n营业执照｜复印件｜1份\n创业计划书｜原件｜1份\n贷款申请表｜原件｜1份",
        15,
        "就业窗口",
        "",
    ),
    (
        "公共租赁住房申请",
        "housing",
        "本县城镇住房困难的低收入家庭、新就业无房职工和外来务工人员",
        f"{ID_CARD}\n{HUKOU}\n家庭收入证明｜原件｜1份\n住房情况声明｜原件｜1份",
        30,
        "住房保障窗口",
        "",
    ),
    (
        "农村危房改造申请",
        "housing",
        "居住在危房中的农村低保户、特困户、残疾人家庭等",
        f"{ID_CARD}\n{HUKOU}\n房屋现状照片｜原件｜2份\n危房鉴定意见｜原件｜1份",
        30,
        "住房保障窗口",
        "",
    ),
    (
        "住房公积金提取（退休）",
        "housing",
        "已办理退休手续的缴存职工",
        f"{ID_CARD}\n退休证明｜复印件｜1份\n{BANK}",
        3,
        "公积金窗口",
        "",
    ),
)

STEPS = {
    "social_security": "带齐材料到窗口或请网格员代办\n窗口受理、核对材料\n录入系统并审核\n办结后通知领取或寄送",
    "medical_insurance": "带齐材料到窗口或请网格员代办\n窗口受理\n医保经办机构审核\n办结并告知结果",
    "civil_affairs": "向社区提出申请\n社区入户调查、民主评议并公示\n镇（街道）审核\n县民政局审批，办结后发放",
}
GENERIC_STEPS = "带齐材料到窗口或请网格员代办\n窗口受理、核对材料\n审核办理\n办结并告知结果"


def create_guide(session: Session) -> int:
    """The 30 items, unless the guide has any already (a county's own list is never touched)."""
    if session.exec(select(ServiceItem.id).where(col(ServiceItem.deleted_at).is_(None))).first() is not None:
        return 0
    for name, category, who, materials, days, window, fees in ITEMS:
        fields = service_items.ItemFields(
            name=name,
            category=category,
            eligibility=who,
            materials=materials,
            steps=STEPS.get(category, GENERIC_STEPS),
            window=window,
            address=CENTRE,
            hours=HOURS,
            phone="0794-6521234",
            time_limit_days=str(days),
            fees=fees,
        )
        service_items.create_service_item(session, actor=None, fields=fields)
    session.flush()
    return len(ITEMS)


# The applications: (status they reach, the steps after 收件, how many days ago they began).
JOURNEYS: tuple[tuple[tuple[str, ...], int], ...] = (
    ((), 0),
    ((), 9),  # still with the worker: overdue
    (("submit",), 2),
    (("submit",), 12),
    (("submit", "complete"), 6),
    (("submit", "complete", "deliver"), 20),
    (("submit", "complete", "deliver"), 35),
    (("return",), 3),
    (("submit", "return"), 5),
    (("withdraw",), 8),
)
NOTES = {
    "submit": "已交到便民服务中心窗口",
    "complete": "已办结，结果通知书已出",
    "deliver": "结果已送到居民家中",
    "return": "缺户口簿复印件，请居民补齐",
    "withdraw": "居民决定自己去窗口办理",
}


def create_assisted(
    session: Session,
    *,
    rng: random.Random,
    now: datetime,
    workers: dict[uuid.UUID, Actor],
    office: Actor,
    photo_sha: str,
) -> int:
    """A few applications at every step, by the grids' own workers, for residents of their grids."""
    items = list(session.exec(select(ServiceItem).where(col(ServiceItem.active).is_(True))))
    residents = list(
        session.exec(
            select(Resident).where(col(Resident.grid_id).in_(list(workers))).order_by(col(Resident.id))
        )
    )
    department = session.exec(select(Department).order_by(Department.code)).first()
    if not items or not residents:
        return 0
    made: list[uuid.UUID] = []
    for steps, days_ago in JOURNEYS:
        resident = rng.choice(residents)
        item = rng.choice(items)
        worker = workers[resident.grid_id]
        began = now - timedelta(days=days_ago, hours=rng.randint(1, 6))
        application_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        data: dict[str, Any] = {
            "application_id": str(application_id),
            "item_id": str(item.id),
            "resident_id": str(resident.id),
            "collected": list(range(len(item.materials) - (1 if "return" in steps else 0))),
            "photos": [],
            "notes": "材料原件已核对并当场退还",
            "consent": True,
        }
        application = assisted.create_application(session, actor=worker, data=data, at=began)
        # The demo's one photo stands for the papers (it is nobody's upload, so not claimed).
        application.photos = [photo_sha]
        session.add(BlobRef(sha256=photo_sha, record_type="assisted_application", record_id=application.id))
        for n, step in enumerate(steps, start=1):
            args: dict[str, Any] = {"application_id": str(application_id)}
            note = NOTES[step]
            args[{"complete": "result", "return": "missing", "withdraw": "reason"}.get(step, "note")] = note
            if step == "submit" and department is not None and item.category == "housing":
                args["department_id"] = str(department.id)
            actor = worker if step in ("deliver", "withdraw") else office
            assisted.take_step(session, actor=actor, step=step, data=args, at=began + timedelta(days=n))
        made.append(application.id)
    session.flush()
    # Demo history is made, not edited on phones: no field's change waits to be compared (rule 8).
    table = AssistedApplication.__table__  # type: ignore[attr-defined]
    session.execute(update(table).where(table.c.id.in_(made)).values(field_versions={}))
    return len(made)
