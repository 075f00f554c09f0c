// 办事指南 at the door: the county's service items, pulled as reference data
// (record type `service_item`), searched by name and category offline; an item
// shows every material at once and the QR of its public page (一次性告知).
"use strict";

import { label, labelsOf, t } from "../i18n.js";
import { qrSvg } from "../qr.js";
import { allOf, getRecord } from "../store.js";
import { html } from "../ui.js";

export const EXPLAINED = "guide-explained"; // sessionStorage: items shown since the last visit was saved

function query() {
  return new URLSearchParams(location.hash.split("?")[1] || "");
}

export async function activeItems(db) {
  const items = (await allOf(db, "service_item")).filter((i) => i.data.active);
  const order = Object.keys(labelsOf("service_category"));
  return items.sort((a, b) => order.indexOf(a.data.category) - order.indexOf(b.data.category) || a.data.name.localeCompare(b.data.name, "zh-CN"));
}

function timeLimit(d) {
  return d.time_limit_days ? t("%(n)s 个工作日内办结", { n: d.time_limit_days }) : t("即办（当场办结）");
}

// Remembered for the visit form: which items the worker explained at this door.
export function explained() {
  try {
    return JSON.parse(sessionStorage.getItem(EXPLAINED) || "[]");
  } catch (_) {
    return [];
  }
}

function remember(id) {
  const ids = explained().filter((x) => x !== id);
  sessionStorage.setItem(EXPLAINED, JSON.stringify([id, ...ids].slice(0, 20)));
}

export const list = {
  name: "guide",
  async render(app) {
    const params = query();
    const q = (params.get("q") || "").trim();
    const category = params.get("category") || "";
    const household = params.get("h") || "";
    const suffix = household ? `?h=${encodeURIComponent(household)}` : "";
    const all = await activeItems(app.db);
    const words = q.split(/\s+/).filter(Boolean);
    const shown = all.filter((i) => (!category || i.data.category === category) && words.every((w) => i.data.name.includes(w)));
    const categories = Object.entries(labelsOf("service_category"));
    return html`<h1 class="visually-hidden">${t("办事指南")}</h1>
      ${household ? html`<p class="notice" id="guide-for-household">${t("在住户家里：选一个事项，可以为这户居民代办。")}</p>` : ""}
      <form data-form="guide-search" class="filters" role="search" data-household="${household}">
        <input type="search" name="q" value="${q}" placeholder="${t("事项名称")}" aria-label="${t("搜索")}" enterkeyhint="search">
        <select name="category" aria-label="${t("类别")}">
          <option value="">${t("全部类别")}</option>
          ${categories.map(([code, name]) => html`<option value="${code}" ${code === category ? html`selected` : ""}>${name}</option>`)}
        </select>
        <button type="submit">${t("搜索")}</button>
      </form>
      <p class="muted small count" id="guide-count">${t("共 %(n)s 项", { n: shown.length })}</p>
      ${all.length ? "" : html`<p class="card muted">${t("还没有办事指南。联网同步后就能离线查看。")}</p>`}
      <ul class="list" id="guide-items">${shown.map((i) => html`<li><a href="#/guide/${i.id}${suffix}" data-item="${i.id}">
        <span class="title">${i.data.name}</span> <span class="badge">${label("service_category", i.data.category)}</span>
        <span class="meta">${t("材料 %(n)s 项", { n: i.data.materials.length })} · ${timeLimit(i.data)}</span></a></li>`)}</ul>`;
  },
  forms: {
    "guide-search"(app, form, data) {
      const params = new URLSearchParams();
      const q = String(data.get("q") || "").trim();
      if (q) params.set("q", q);
      if (data.get("category")) params.set("category", String(data.get("category")));
      if (form.dataset.household) params.set("h", form.dataset.household);
      delete form.dataset.dirty;
      app.go(`#/guide${params.toString() ? `?${params}` : ""}`);
    },
  },
};

function materials(d) {
  return html`<ol class="guide-materials" id="guide-materials">${d.materials.map((m) => html`<li><span class="guide-material">${m.name}</span>
    <span class="badge${m.form === "original" ? " amber" : ""}">${label("material_form", m.form)}</span> <span class="small">${t("%(n)s 份", { n: m.count })}</span>
    ${m.note ? html`<span class="hint guide-note">${m.note}</span>` : ""}</li>`)}</ol>`;
}

export const item = {
  name: "guide-item",
  async render(app, [id]) {
    const record = await getRecord(app.db, "service_item", id);
    if (!record) return html`<section class="card"><h1>${t("找不到这个事项")}</h1><p>${t("可能已经停用。")}</p></section>`;
    const d = record.data;
    remember(id);
    const household = query().get("h");
    const code = qrSvg(id, t("%(name)s的二维码", { name: d.name }));
    const where = [
      [t("窗口"), d.window], [t("地点"), d.address], [t("时间"), d.hours], [t("电话"), d.phone],
      [t("时限"), timeLimit(d)], [t("收费"), d.fees || t("不收费")], [t("网上办"), d.online_url],
    ].filter(([, value]) => value);
    return html`<section class="card guide-facts" data-item="${id}">
      <h1>${d.name}</h1>
      <p class="muted">${label("service_category", d.category)} · ${timeLimit(d)}</p>
      ${d.eligibility ? html`<h2>${t("谁可以申请")}</h2><p class="notes">${d.eligibility}</p>` : ""}
      <h2>${t("要带的材料")}</h2>
      ${materials(d)}
      ${d.steps.length ? html`<h2>${t("办理流程")}</h2><ol class="guide-steps">${d.steps.map((s) => html`<li>${s}</li>`)}</ol>` : ""}
      <h2>${t("在哪里办")}</h2>
      <dl class="guide-where">${where.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
    </section>
    <details class="card guide-show" id="guide-qr">
      <summary>${t("出示二维码给居民扫（一次性告知）")}</summary>
      ${code
        ? html`<figure class="guide-qr-big">${code}<figcaption>${t("请居民用自己的手机扫码，材料清单、地点和时间都在里面，存下来一次带齐。")}</figcaption></figure>`
        : html`<p class="muted">${t("二维码要联网同步一次后才能离线出示。可以先把上面的材料清单给居民看。")}</p>`}
    </details>
    ${household
      ? html`<p class="actions"><a class="button primary" href="#/guide/${id}/apply?h=${encodeURIComponent(household)}" id="start-assisted">${t("帮居民代办这件事")}</a></p>`
      : html`<p class="muted small">${t("要帮居民代办，请从住户页打开办事指南。")}</p>`}`;
  },
};
