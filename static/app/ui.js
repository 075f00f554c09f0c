// Building screens: escaped HTML from template literals, labels, formats.
"use strict";

import { t } from "./i18n.js";

// Marks a string for the translation catalogue where `t()` runs later on a variable.
export const N_ = (text) => text;

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export class Html {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

function escapeValue(value) {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(escapeValue).join("");
  if (value === null || value === undefined || value === false) return "";
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// html`<p>${userText}</p>`: every interpolation is escaped unless it is Html already.
export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i += 1) out += escapeValue(values[i]) + strings[i + 1];
  return new Html(out);
}

export const LABELS = {
  kind: { registered: N_("户籍"), resident: N_("常住"), floating: N_("流动"), rental: N_("出租") },
  household_status: { active: N_("在住"), vacant: N_("空置"), moved_out: N_("已迁出") },
  purpose: { routine: N_("日常走访"), care: N_("关爱重点人群"), service: N_("代办服务"), follow_up: N_("回访") },
  outcome: { completed: N_("已完成"), nobody_home: N_("无人在家"), refused: N_("拒绝"), planned: N_("计划走访") },
  relation: { head: N_("户主"), spouse: N_("配偶"), child: N_("子女"), parent: N_("父母"), grandchild: N_("孙辈"), sibling: N_("兄弟姐妹"), tenant: N_("租户"), other: N_("其他") },
  sex: { male: N_("男"), female: N_("女") },
  field: { property: N_("物业服务"), elderly_care: N_("居家养老"), infrastructure: N_("基础设施维护"), environment: N_("环境卫生"), dispute: N_("邻里纠纷") },
  source: { visit: N_("上门走访"), phone: N_("电话"), hotline: N_("12345热线"), meeting: N_("书记下午茶"), public: N_("居民自报") },
  demand_status: {
    submitted: N_("待派单"), dispatched: N_("已派单"), accepted: N_("已接单"), in_progress: N_("办理中"), replied: N_("已答复"),
    transferred: N_("已转交部门"), escalated: N_("提交联席会议"), resolved: N_("已办结"), rectifying: N_("整改中"), closed: N_("已归档"),
  },
  demand_event: {
    created: N_("登记诉求"), dispatched: N_("派单"), accepted: N_("接单"), progress: N_("办理进展"), replied: N_("答复居民"),
    resolved: N_("办结"), answered: N_("社区直接答复"), transferred: N_("转交部门"), returned: N_("部门退回"),
    escalated: N_("提交联席会议"), decided: N_("联席会议决定"), rated: N_("居民评价"), closed: N_("归档"),
  },
  handling_type: { reply: N_("回复解释类"), self: N_("受理自办类"), transfer: N_("转交办理类") },
  priority: { normal: N_("普通"), urgent: N_("紧急") },
  card_status: {
    draft: N_("草稿"), submitted: N_("已提交"), needs_supplement: N_("需补充材料"), rejected: N_("未通过"), approved: N_("已通过"),
    in_production: N_("制卡中"), ready: N_("可领取"), issued: N_("已发放"), cancelled: N_("已撤销"),
  },
  delivery: { collect: N_("到社区领取"), door: N_("送卡上门") },
  residence: { hukou: N_("户籍"), permit: N_("居住证") },
  rating: { satisfied: N_("满意"), basically_satisfied: N_("基本满意"), dissatisfied: N_("不满意") },
  conflict_field: { phone: N_("电话"), notes: N_("备注"), status: N_("状态"), name: N_("姓名"), relation: N_("与户主关系"), tags: N_("标签"), estate: N_("小区"), building: N_("楼栋"), unit: N_("单元"), room: N_("门牌"), kind: N_("户类型") },
};

export function label(group, value) {
  const text = (LABELS[group] || {})[value];
  return text ? t(text) : value ?? "";
}

export function options(group, selected) {
  return Object.entries(LABELS[group]).map(([value, text]) =>
    html`<option value="${value}" ${value === selected ? new Html("selected") : ""}>${t(text)}</option>`);
}

export function maskPhone(phone) {
  if (!phone) return "";
  if (/^1[3-9]\d{9}$/.test(phone)) return `${phone.slice(0, 3)}****${phone.slice(-4)}`;
  return phone.length > 6 ? `${phone.slice(0, 4)}****${phone.slice(-4)}` : "*".repeat(phone.length);
}

const SHANGHAI = { timeZone: "Asia/Shanghai" };

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = new Intl.DateTimeFormat("zh-CN", { ...SHANGHAI, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false }).formatToParts(d);
  const get = (type) => parts.find((p) => p.type === type)?.value;
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
}

export function ago(iso) {
  if (!iso) return t("从未");
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return t("刚刚");
  if (seconds < 3600) return t("%(n)s 分钟前", { n: Math.floor(seconds / 60) });
  if (seconds < 86400) return t("%(n)s 小时前", { n: Math.floor(seconds / 3600) });
  return when(iso);
}

export function uuid() {
  return crypto.randomUUID();
}
