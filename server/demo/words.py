"""Words for the demo community: names, places, tags, and what people say at the door.

Invented, but shaped like the source story's county (乐安县, Jiangxi): common
Jiangxi surnames, given names that follow the fashion of each generation, and
requests of the kind the article's tea meetings (书记下午茶) hear.
"""

from __future__ import annotations

from typing import NamedTuple


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Roughly by frequency in Jiangxi; earlier entries are drawn more often.
SURNAMES = _words(
    "刘 王 李 陈 张 黄 吴 胡 罗 曾 邹 熊 周 徐 杨 朱 邓 彭 何 谢 詹 饶 万 付 龚 余 肖 郭 廖 涂 "
    "游 聂 危 揭 章 江 邱 程 钟 丁 赵 孙 林 袁 雷 蔡 艾 帅 温 欧阳"
)

# Given names by the generation they were fashionable in: (born up to year, male, female).
GIVEN_NAMES: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        1960,
        _words(
            "建国 国华 德明 福生 长根 水生 金发 春生 志明 忠诚 火根 财旺 国庆 文华 立新 桂生 根发 "
            "保平 友良 爱民 家福 荣华 永清 启明 振华 冬生 细根 炳南"
        ),
        _words(
            "桂英 秀英 淑珍 玉兰 冬梅 桂兰 秀兰 凤英 金莲 春花 菊英 兰英 美华 翠英 爱莲 腊梅 素珍 "
            "月英 秀珍 彩霞 细妹 水仙 银娥 招娣"
        ),
    ),
    (
        1985,
        _words(
            "伟 军 勇 强 斌 涛 明 辉 华 平 建华 志强 海军 卫东 小平 国强 红军 建军 文斌 永红 晓东 "
            "俊 剑 波 峰 卫平 新华 小勇"
        ),
        _words(
            "丽 芳 敏 静 燕 红 霞 玲 艳 娟 丽华 小红 海燕 春燕 晓梅 丽萍 秀芳 美玲 红梅 小燕 慧 琴 "
            "英 萍 金凤 玉梅"
        ),
    ),
    (
        2005,
        _words(
            "浩 磊 鹏 超 杰 洋 帅 龙 俊杰 文杰 浩然 家豪 子豪 明轩 志伟 振宇 宇航 博文 晨 旭 凯 鑫 "
            "嘉伟 思远 天宇 建波"
        ),
        _words(
            "婷 雪 倩 琳 颖 璐 佳琪 欣怡 思琪 雨欣 梦瑶 诗涵 晓雯 佳怡 婉婷 雅琪 嘉欣 慧敏 丹 晶 "
            "文静 雅婷 晓丽 梦婷"
        ),
    ),
    (
        9999,
        _words(
            "子轩 宇轩 浩宇 梓豪 俊熙 睿泽 沐宸 一鸣 子墨 宇辰 奕辰 皓轩 明哲 梓睿 锦程 承泽 宇航 "
            "铭轩 浩轩 子骞"
        ),
        _words(
            "梓涵 一诺 欣妍 可馨 雨桐 梓萱 诗琪 若汐 语桐 思涵 子琪 紫涵 梦琪 雨涵 芷若 安然 依诺 "
            "佳宜 欣悦 沐晴"
        ),
    ),
)

# Jiangxi area codes (GB/T 2260) for people registered elsewhere in the province.
HOME_AREA = "361025"  # 乐安县
OTHER_AREAS = (
    "361002",  # 抚州市临川区
    "361021",  # 南城县
    "361024",  # 崇仁县
    "361026",  # 宜黄县
    "361027",  # 金溪县
    "361030",  # 广昌县
    "360102",  # 南昌市东湖区
    "360121",  # 南昌县
    "360124",  # 进贤县
    "360502",  # 新余市渝水区
    "360802",  # 吉安市吉州区
)

MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 176 177 178 180 181 182 183 185 186 187 188 189 191 193 195 198 199"
)


class EstateSpec(NamedTuple):
    name: str
    floors: tuple[int, int]  # lowest and highest building
    units: int
    rooms_per_floor: int
    profile: str  # old | new: who tends to live there
    rental_share: float


class GridSpec(NamedTuple):
    code: str
    name: str
    lat: float
    lng: float
    estates: tuple[EstateSpec, ...]


# 鳌溪镇 is the county seat of 乐安县, around 27.43 N, 115.83 E.
GRIDS = (
    GridSpec(
        "g1",
        "芙蓉第一网格",
        27.4348,
        115.8262,
        (
            EstateSpec("芙蓉花园", (11, 18), 2, 2, "new", 0.12),
            EstateSpec("芙蓉雅苑", (6, 7), 2, 2, "new", 0.10),
        ),
    ),
    GridSpec(
        "g2",
        "芙蓉第二网格",
        27.4312,
        115.8341,
        (
            EstateSpec("鳌溪新村", (5, 6), 2, 2, "old", 0.18),
            EstateSpec("城中小区", (6, 7), 3, 2, "old", 0.22),
        ),
    ),
    GridSpec(
        "g3",
        "芙蓉第三网格",
        27.4268,
        115.8285,
        (
            EstateSpec("尧坑安置点", (5, 6), 2, 2, "old", 0.08),
            EstateSpec("前坪家园", (9, 11), 2, 2, "new", 0.14),
        ),
    ),
    GridSpec(
        "g4",
        "芙蓉第四网格",
        27.4296,
        115.8203,
        (
            EstateSpec("鳌溪老街", (3, 4), 1, 2, "old", 0.25),
            EstateSpec("金竹苑", (11, 16), 2, 2, "new", 0.12),
        ),
    ),
)


class TagSpec(NamedTuple):
    code: str
    name: str
    category: str
    sensitive: bool


TAGS = (
    TagSpec("elderly_alone", "独居老人", "老年人", False),
    TagSpec("empty_nest", "空巢老人", "老年人", False),
    TagSpec("very_old", "高龄老人", "老年人", False),
    TagSpec("mobility_impaired", "行动不便", "老年人", True),
    TagSpec("hardship", "困难群众", "困难帮扶", True),
    TagSpec("subsistence", "低保户", "困难帮扶", True),
    TagSpec("extreme_poverty", "特困人员", "困难帮扶", True),
    TagSpec("disabled", "残疾人", "困难帮扶", True),
    TagSpec("orphan", "孤儿", "困难帮扶", True),
    TagSpec("unemployed", "失业人员", "就业", False),
    TagSpec("serious_illness", "重病患者", "健康", True),
    TagSpec("chronic_disease", "慢性病患者", "健康", True),
    TagSpec("mental_disorder", "精神障碍患者", "健康", True),
    TagSpec("pregnant", "孕产妇", "健康", True),
    TagSpec("community_correction", "社区矫正人员", "平安", True),
    TagSpec("key_attention", "重点关注", "平安", True),
    TagSpec("party_member", "党员", "党建", False),
    TagSpec("floating_party_member", "流动党员", "党建", False),
    TagSpec("party_center_household", "党员中心户", "党建", False),
    TagSpec("three_elders", "三老人员", "党建", False),
    TagSpec("veteran", "退役军人", "优抚", False),
    TagSpec("special_care", "优抚对象", "优抚", False),
    TagSpec("delivery_rider", "外卖小哥", "新就业群体", False),
    TagSpec("courier", "快递员", "新就业群体", False),
    TagSpec("ride_hailing_driver", "网约车司机", "新就业群体", False),
    TagSpec("new_employment", "新就业群体", "新就业群体", False),
    TagSpec("left_behind_child", "留守儿童", "少年儿童", False),
    TagSpec("childbearing_age", "育龄妇女", "妇女", False),
    TagSpec("volunteer", "志愿者", "网格力量", False),
    TagSpec("building_leader", "楼栋长", "网格力量", False),
    TagSpec("unit_leader", "单元长", "网格力量", False),
    TagSpec("resident_representative", "居民代表", "网格力量", False),
    TagSpec("tenant", "租户", "居住", False),
    TagSpec("floating_population", "流动人口", "居住", False),
)


# Tags that make a household one the worker calls on to care, not only to check.
class VisitRuleSpec(NamedTuple):
    name: str
    interval_days: int
    priority: str
    tag_code: str = ""  # a tag rule names a tag of TAGS
    min_age: int | None = None  # an age rule


# The demo community's visit rules (issue 17): whom the workers see, and how often.
VISIT_RULES = (
    VisitRuleSpec("独居老人每周走访", 7, "high", tag_code="elderly_alone"),
    VisitRuleSpec("高龄老人（80 周岁以上）两周走访", 14, "normal", min_age=80),
    VisitRuleSpec("困难群众每月走访", 30, "normal", tag_code="hardship"),
    VisitRuleSpec("低保户每月走访", 30, "normal", tag_code="subsistence"),
    VisitRuleSpec("残疾人每月走访", 30, "normal", tag_code="disabled"),
    VisitRuleSpec("重点关注人员每周走访", 7, "high", tag_code="key_attention"),
)

CARE_TAGS = frozenset(
    {
        "elderly_alone",
        "empty_nest",
        "very_old",
        "hardship",
        "subsistence",
        "extreme_poverty",
        "disabled",
        "serious_illness",
        "left_behind_child",
        "key_attention",
        "orphan",
    }
)

DEPARTMENTS = (
    ("zhujian", "乐安县住房和城乡建设局"),
    ("minzheng", "乐安县民政局"),
    ("chengguan", "乐安县城市管理局"),
    ("sifa", "乐安县司法局"),
)

HOUSEHOLD_NOTES = (
    "老人耳背，敲门需大声。",
    "家中养狗，入户前先打电话。",
    "白天上班，晚上七点后在家。",
    "户主常年在外务工，由老人照看房子。",
    "子女在南昌工作，周末偶尔回来。",
    "门铃坏了，请敲门。",
)
VACANT_NOTES = ("房屋空置，业主在外地工作。", "房屋待售，暂无人居住。", "业主在县外居住，过年才回来。")
MOVED_OUT_NOTES = ("已搬离，户籍迁往南昌。", "全家已搬到抚州市区居住。", "房屋已出售，新住户尚未登记。")


class VisitNote(NamedTuple):
    purpose: str
    ages: tuple[int, int]  # of the person the worker saw, who is {name}
    text: str


VISIT_NOTES = (
    VisitNote("routine", (18, 120), "例行走访，核实家庭人口信息，无变化。"),
    VisitNote("routine", (18, 120), "上门核对住户信息，更新了联系电话。"),
    VisitNote("routine", (18, 120), "宣传防范电信诈骗知识，给{name}发放宣传资料。"),
    VisitNote("routine", (18, 120), "走访了解居民近况，{name}表示一切正常。"),
    VisitNote("routine", (18, 64), "宣传电动车安全充电，提醒{name}不要飞线充电、不在楼道停放。"),
    VisitNote("routine", (60, 120), "宣传老年出行卡办理政策，{name}说想办一张。"),
    VisitNote("routine", (18, 120), "邀请{name}参加本月“书记下午茶”活动。"),
    VisitNote("routine", (18, 120), "入户登记，核实实际居住人员情况。"),
    VisitNote("care", (60, 120), "看望{name}，身体状况良好，叮嘱注意防寒保暖。"),
    VisitNote("care", (60, 120), "探望{name}，帮助整理药品，提醒按时服药。"),
    VisitNote("care", (18, 120), "关心{name}一家的生活情况，了解低保和临时救助需求。"),
    VisitNote("care", (50, 120), "陪{name}量血压，血压偏高，建议到社区卫生服务站复查。"),
    VisitNote("care", (65, 120), "给{name}送去社区助餐点的订餐卡，教会怎么订餐。"),
    VisitNote("care", (65, 120), "{name}腿脚不便，帮忙检查了家里的燃气和电线。"),
    VisitNote("care", (65, 120), "与{name}聊家常，老人心情不错，留下了网格员电话。"),
    VisitNote("care", (18, 64), "了解{name}的就医和康复情况，介绍了残疾人补贴政策。"),
    VisitNote("care", (0, 17), "看望{name}，了解学习和生活情况，叮嘱假期注意安全。"),
    VisitNote("care", (0, 17), "给{name}送去学习用品，和家里大人聊了孩子的近况。"),
    VisitNote("service", (65, 120), "上门为{name}办理老年出行卡，已拍照采集信息。"),
    VisitNote("service", (18, 120), "帮{name}在手机上完成社保待遇资格认证。"),
    VisitNote("service", (0, 120), "帮{name}代办城乡居民医保缴费。"),
    VisitNote("service", (80, 120), "为{name}代办高龄补贴认证。"),
    VisitNote("service", (70, 120), "帮{name}预约居家养老上门助浴服务。"),
    VisitNote("follow_up", (18, 120), "回访路灯维修情况，{name}表示满意。"),
    VisitNote("follow_up", (18, 120), "回访楼道堆物清理情况，已清理干净。"),
    VisitNote("follow_up", (18, 120), "跟进下水道疏通情况，已恢复正常。"),
    VisitNote("follow_up", (18, 120), "回访邻里噪音纠纷，双方已达成一致。"),
    VisitNote("follow_up", (18, 120), "回访电动车充电问题，{name}说新充电桩很方便。"),
)
NOBODY_HOME_NOTES = (
    "敲门无人应答，已在门上留联系卡。",
    "家中无人，邻居说这几天出远门了。",
    "无人在家，电话联系后约定下周再来。",
)
VACANT_VISIT_NOTES = ("房屋空置，无人居住。", "敲门无人，确认房屋仍空置。")
REFUSED_NOTES = (
    "住户不愿配合登记，已做好解释工作，下次再访。",
    "居民称工作忙，不方便入户，留下了网格员电话。",
)


class DemandText(NamedTuple):
    field: str  # property | elderly_care | infrastructure | environment | dispute
    handling: str  # reply | handle | transfer
    description: str  # {place} is the estate, building and unit
    answer: str
    department: str = ""  # department code for transfer


DEMANDS = (
    DemandText(
        "infrastructure",
        "handle",
        "{place}门口的路灯坏了一年多，晚上出门摸黑，希望尽快修好。",
        "已联系供电所和物业更换灯具，路灯恢复照明。",
    ),
    DemandText(
        "infrastructure",
        "handle",
        "{place}楼道灯不亮，老人上下楼不安全。",
        "已协调物业更换声控灯，楼道照明恢复正常。",
    ),
    DemandText(
        "infrastructure",
        "handle",
        "{place}下水道堵塞，污水外溢，气味很大，请帮忙疏通。",
        "已联系物业和管道疏通人员疏通下水道，排水恢复正常。",
    ),
    DemandText(
        "infrastructure",
        "transfer",
        "希望在{estate}安装电动车充电棚和充电桩，解决充电难，消除飞线充电隐患。",
        "住建局已将{estate}纳入充电设施建设计划，选址已确定，近期开工。",
        "zhujian",
    ),
    DemandText(
        "infrastructure",
        "transfer",
        "{estate}二次供水水压低，高层住户用水困难。",
        "住建局已督促供水公司检修加压泵，高层水压恢复正常。",
        "zhujian",
    ),
    DemandText(
        "infrastructure",
        "transfer",
        "{estate}主干道路面坑洼，雨天积水严重，老人孩子容易摔倒。",
        "住建局已安排对路面进行修补并疏通排水口。",
        "zhujian",
    ),
    DemandText(
        "infrastructure",
        "reply",
        "{estate}老楼什么时候能加装电梯？想了解申请条件。",
        "已向居民解释老旧小区加装电梯的申请条件和流程：需本单元业主同意并提交申请，社区可协助组织协商。",
    ),
    DemandText(
        "property",
        "handle",
        "{place}楼道堆放杂物，堵塞消防通道，存在安全隐患。",
        "已会同物业上门劝导，楼道杂物已清理，通道畅通。",
    ),
    DemandText(
        "property",
        "handle",
        "{place}有住户把电动车推进楼道飞线充电，担心起火。",
        "已上门劝导住户到小区充电点充电，并在楼道张贴安全提示。",
    ),
    DemandText(
        "property",
        "handle",
        "{estate}垃圾清运不及时，楼下垃圾桶满溢，有异味。",
        "已督促物业增加清运频次，每天早晚各清运一次。",
    ),
    DemandText(
        "property",
        "handle",
        "{estate}小区门禁坏了，外来人员随意进出，居民担心安全。",
        "已督促物业修好门禁，并加强夜间巡逻。",
    ),
    DemandText(
        "property",
        "reply",
        "{estate}物业费收费标准不清楚，希望公开收费明细。",
        "已联系物业在小区公告栏公示收费标准和收支明细，并向居民作了解释。",
    ),
    DemandText(
        "elderly_care",
        "handle",
        "{place}的独居老人行动不便，希望提供居家养老上门服务。",
        "已为老人登记居家养老服务，助老员每周上门两次，提供助浴、保洁服务。",
    ),
    DemandText(
        "elderly_care",
        "handle",
        "家中老人想办理老年出行卡，本人行动不便去不了服务大厅。",
        "网格员已上门为老人办理老年出行卡，制卡后送卡上门。",
    ),
    DemandText(
        "elderly_care",
        "handle",
        "希望社区助餐点提供送餐上门服务，家里老人做饭不方便。",
        "已为老人开通助餐送餐服务，每天中午由志愿者送餐上门。",
    ),
    DemandText(
        "elderly_care",
        "reply",
        "家里老人满八十岁了，想申请高龄补贴，不清楚怎么办理。",
        "已告知高龄补贴办理流程和所需材料，网格员可上门代办认证。",
    ),
    DemandText(
        "elderly_care",
        "transfer",
        "家中老人卧床，希望申请适老化改造补贴，卫生间加装扶手。",
        "民政局已受理适老化改造申请，施工队将上门测量。",
        "minzheng",
    ),
    DemandText(
        "environment",
        "handle",
        "{estate}楼下绿化带被人占用种菜，影响环境。",
        "已与种菜居民沟通，菜地已清理并恢复绿化。",
    ),
    DemandText(
        "environment",
        "handle",
        "{place}楼道墙面小广告太多，影响美观。",
        "已组织志愿者清理小广告，并张贴文明提示。",
    ),
    DemandText(
        "environment",
        "transfer",
        "{estate}旁边河边有人倾倒建筑垃圾，希望有人管一管。",
        "城管局已清运建筑垃圾，并在河边设置监控和警示牌。",
        "chengguan",
    ),
    DemandText(
        "environment",
        "transfer",
        "{estate}附近流浪狗多，孩子上学路上害怕。",
        "城管局已联系专业机构收容流浪犬，并加强巡查。",
        "chengguan",
    ),
    DemandText(
        "environment",
        "reply",
        "{estate}的垃圾分类怎么分？想要一份分类指南。",
        "已上门发放垃圾分类指南，并讲解了分类投放时间。",
    ),
    DemandText(
        "dispute",
        "handle",
        "{place}楼上住户夜间噪音扰民，多次协商无果。",
        "网格员和楼栋长上门调解，楼上住户承诺晚上十点后不再制造噪音。",
    ),
    DemandText(
        "dispute",
        "handle",
        "{place}楼上卫生间漏水到我家，双方就维修费用有分歧。",
        "经网格员调解，楼上住户同意承担维修费用，已完成维修。",
    ),
    DemandText(
        "dispute",
        "handle",
        "邻居空调外机噪音大、滴水到我家窗台。",
        "经协商，邻居已加装接水管并更换减震垫。",
    ),
    DemandText(
        "dispute",
        "transfer",
        "{estate}停车位被长期占用，邻里多次发生争执，希望依法处理。",
        "司法所已组织双方调解并签订调解协议，车位归还。",
        "sifa",
    ),
)

SOURCE_NOTES = {
    "visit": "网格员入户走访时收集。",
    "phone": "居民来电反映。",
    "hotline": "12345热线转来。",
    "meeting": "“书记下午茶”活动上居民提出。",
}

PROGRESS_NOTES = {
    "infrastructure": ("已到现场查看，已联系维修人员。", "已报物业和供电所，约定明天上门维修。"),
    "property": ("已联系物业，约定明天上门查看。", "已到现场查看，正在督促物业处理。"),
    "elderly_care": ("已上门了解老人情况，材料已收齐，正在办理。", "已联系居家养老服务中心，正在安排。"),
    "environment": ("已到现场查看，正在协调清理。", "已联系环卫站，约定本周内处理。"),
    "dispute": ("已与当事双方沟通，约定周末调解。", "已上门了解情况，正在协调双方。"),
}

RATING_COMMENTS = {
    "satisfied": ("处理很及时，谢谢网格员！", "问题解决了，很满意。", ""),
    "basically_satisfied": ("解决了，就是等得有点久。", ""),
    "dissatisfied": ("问题没有彻底解决，下雨天还是积水。", "过了几天又坏了。"),
}
RATING_NAMES = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
