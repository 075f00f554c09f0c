// Building screens: escaped HTML from template literals, labels, formats.
"use strict";

import { t } from "./i18n.js";

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
  kind: { registered: "户籍", resident: "常住", floating: "流动", rental: "出租" },
  household_status: { active: "在住", vacant: "空置", moved_out: "已迁出" },
  purpose: { routine: "日常走访", care: "关爱重点人群", service: "代办服务", follow_up: "回访" },
  outcome: { completed: "已完成", nobody_home: "无人在家", refused: "拒绝", planned: "计划走访" },
  relation: { head: "户主", spouse: "配偶", child: "子女", parent: "父母", grandchild: "孙辈", sibling: "兄弟姐妹", tenant: "租户", other: "其他" },
  sex: { male: "男", female: "女" },
  field: { property: "物业服务", elderly_care: "居家养老", infrastructure: "基础设施维护", environment: "环境卫生", dispute: "邻里纠纷" },
  source: { visit: "上门走访", phone: "电话", hotline: "12345热线", meeting: "书记下午茶", public: "居民自报" },
  demand_status: {
    submitted: "待派单", dispatched: "已派单", accepted: "已接单", in_progress: "办理中", replied: "已答复",
    transferred: "已转交部门", escalated: "联席会议", resolved: "已办结", rectifying: "整改中", closed: "已关闭",
  },
  card_status: {
    draft: "草稿", submitted: "已提交", needs_supplement: "需补充材料", rejected: "未通过", approved: "已通过",
    in_production: "制卡中", ready: "可领取", issued: "已发放", cancelled: "已撤销",
  },
  delivery: { collect: "到社区领取", door: "送卡上门" },
  residence: { hukou: "户籍", permit: "居住证" },
  rating: { satisfied: "满意", basically_satisfied: "基本满意", dissatisfied: "不满意" },
  conflict_field: { phone: "电话", notes: "备注", status: "状态", name: "姓名", relation: "与户主关系", tags: "标签", estate: "小区", building: "楼栋", unit: "单元", room: "门牌", kind: "户类型" },
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
