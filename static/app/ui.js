// Building screens: escaped HTML from template literals, labels, formats.
"use strict";

import { label, labelsOf, t } from "./i18n.js";

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


export { label };

export function options(group, selected, { except = [] } = {}) {
  return Object.entries(labelsOf(group))
    .filter(([value]) => !except.includes(value))
    .map(([value, text]) => html`<option value="${value}" ${value === selected ? new Html("selected") : ""}>${text}</option>`);
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

// Ids of records made on the phone are time-ordered (UUIDv7, RFC 9562): rows written
// together sit together in the server's B-tree indexes, so a push dirties fewer pages
// (issue 23). Any UUID stays valid, so ids made before this still work.
export function uuid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
