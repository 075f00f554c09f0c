// 帮代办 at the door: start an assisted application (代办件) from an item of the guide, with the
// item's materials as a checklist, photos and the resident's consent; follow it to 已送达.
// The steps are server/workflows/assisted.py's; the server decides again on every one.
"use strict";

import { label, rule, t } from "../i18n.js";
import { makeCalendar, parseLimit, warning } from "../workdays.js";
import { allOf, childrenOf, getRecord } from "../store.js";
import { html, uuid, when } from "../ui.js";
import { photoBadges, photoField, showErrors, syncBadge } from "../forms.js";

const OPEN = ["received", "submitted", "completed", "returned"];
const CLOCK_RUNS = ["received", "submitted"];
// What the worker may do on the phone, by status (STEP_ROLES for grid_worker).
const WORKER_STEPS = {
  received: ["submit", "withdraw"],
  submitted: ["withdraw"],
  completed: ["deliver"],
  returned: ["resupply", "withdraw"],
};
const NEEDS = { withdraw: "reason" };

let consent = null;
async function consentText() {
  if (!consent) {
    try {
      consent = (await (await fetch("/app/consent.json")).json()).assisted;
    } catch (_) {
      return null;
    }
  }
  return consent;
}

let calendar = null;
function clock() {
  const data = rule("calendar");
  if (!calendar || calendar.data !== data) calendar = { data, cal: makeCalendar(data || {}) };
  return calendar.cal;
}

export function level(a) {
  const d = a.data;
  if (!d.deadline || !CLOCK_RUNS.includes(d.status)) return "";
  return warning(clock(), parseLimit(d.time_limit), Date.parse(d.deadline), Date.now());
}

function badge(a) {
  const l = level(a);
  if (l === "overdue") return html`<span class="badge red" data-warning="overdue">${t("已超期")}</span>`;
  if (l === "soon") return html`<span class="badge amber" data-warning="soon">${t("即将超期")}</span>`;
  return "";
}

function row(a) {
  return html`<li><a href="#/a/${a.id}" data-application="${a.id}" data-status="${a.data.status}">
    <span class="title">${a.data.item_name} · ${label("assisted_status", a.data.status)}</span> ${syncBadge(a)} ${badge(a)}
    ${a.data.missing ? html`<span class="meta">${t("缺：")}${a.data.missing}</span>` : ""}
    ${a.data.deadline && CLOCK_RUNS.includes(a.data.status) ? html`<span class="meta">${t("期限")} ${when(a.data.deadline)}</span>` : ""}</a></li>`;
}

export async function openApplications(db) {
  return (await allOf(db, "assisted_application")).filter((a) => OPEN.includes(a.data.status) || a.pending);
}

export const list = {
  name: "assisted",
  async render(app) {
    const all = await openApplications(app.db);
    const first = (s) => all.filter((a) => a.data.status === s);
    const sections = [
      [t("退回补件，请补齐材料"), first("returned"), "to-resupply"],
      [t("已办结，请送达居民"), first("completed"), "to-deliver"],
      [t("办理中"), all.filter((a) => CLOCK_RUNS.includes(a.data.status)), "in-hand"],
    ];
    return html`<h1 class="visually-hidden">${t("代办件")}</h1>
      <p class="muted small">${t("要开始代办，请从住户页打开办事指南。")}</p>
      ${sections.map(([title, items, id]) => html`<section><h2>${title}（${items.length}）</h2>
        ${items.length ? html`<ul class="list" id="${id}">${items.map(row)}</ul>` : html`<p class="muted">${t("没有。")}</p>`}</section>`)}`;
  },
};

export const startForm = {
  name: "assisted-start",
  async render(app, [itemId]) {
    const householdId = new URLSearchParams(location.hash.split("?")[1] || "").get("h");
    const [item, household] = await Promise.all([getRecord(app.db, "service_item", itemId), householdId ? getRecord(app.db, "household", householdId) : null]);
    if (!item || !household) return html`<section class="card"><p class="error">${t("请从住户页打开办事指南，再选事项代办。")}</p></section>`;
    const residents = await childrenOf(app.db, "resident", householdId);
    const text = await consentText();
    const d = item.data;
    return html`<section class="card"><h1>${t("帮代办：%(name)s", { name: d.name })}</h1><p class="muted">${household.data.address}</p>
      <form data-form="assisted-start" class="stack" data-item="${itemId}" data-household="${householdId}" data-application="${uuid()}" data-consent-version="${text ? text.version : ""}">
        <label>${t("为谁代办")}<select name="resident_id" required>${residents.map((r) => html`<option value="${r.id}">${r.data.name}</option>`)}</select></label>
        <fieldset class="stack" id="assisted-materials"><legend>${t("收取的材料")}</legend>
          ${d.materials.map((m, i) => html`<label class="inline"><input type="checkbox" name="collected" value="${i}"> ${m.name}（${label("material_form", m.form)} ${t("%(n)s 份", { n: m.count })}）</label>`)}
        </fieldset>
        ${photoField("assisted-photos")}
        <label>${t("备注")}<textarea name="notes" maxlength="2000"></textarea></label>
        ${text
          ? html`<div class="consent"><p class="small prewrap">${text.text}</p><label class="inline"><input type="checkbox" name="consent" value="1"> ${t("居民已阅读并同意委托代办")}</label></div>`
          : html`<p class="error">${t("委托代办告知书还没有下载到手机上，请联网后再试。")}</p>`}
        <button type="submit" class="primary" ${text ? "" : html`disabled`}>${t("收件，开始代办")}</button>
      </form></section>`;
  },
  forms: {
    async "assisted-start"(app, form, data) {
      if (showErrors(form, { consent: data.get("consent") ? "" : t("代办前必须请居民阅读并同意委托代办告知。") })) return;
      const id = form.dataset.application;
      await app.write("assisted.create", {
        application_id: id, item_id: form.dataset.item, resident_id: String(data.get("resident_id")),
        collected: data.getAll("collected").map(Number), photos: data.getAll("photos").map(String),
        notes: String(data.get("notes") || ""), consent: true, consent_version: form.dataset.consentVersion,
      });
      app.say(t("代办件已收件，联网后同步。"));
      app.returnTo(`#/a/${id}`);
    },
  },
};

function stepForm(step) {
  const needed = NEEDS[step];
  const title = label("assisted_step", step);
  return html`<form data-form="assisted-step" data-step="${step}" class="stack card">
    <h3>${title}</h3>
    ${step === "resupply" ? photoField("resupply-photos") : ""}
    <label>${needed ? t("原因") : t("备注")}<textarea name="note" maxlength="2000" ${needed ? html`required` : ""}></textarea></label>
    <button type="submit" class="${step === "withdraw" ? "danger" : "primary"}">${title}</button>
  </form>`;
}

export const detail = {
  name: "assisted-detail",
  async render(app, [id]) {
    const a = await getRecord(app.db, "assisted_application", id);
    if (!a) return html`<section class="card"><h1>${t("找不到这件代办")}</h1></section>`;
    const d = a.data;
    const resident = await getRecord(app.db, "resident", d.resident_id);
    const steps = a.pending ? [] : WORKER_STEPS[d.status] || [];
    return html`<section class="card" data-application="${id}" data-status="${d.status}">
      <h1>${d.item_name} · ${label("assisted_status", d.status)} ${syncBadge(a)}</h1>
      ${badge(a)}
      <dl class="facts">
        <dt>${t("居民")}</dt><dd>${resident ? resident.data.name : ""}</dd>
        ${d.deadline ? html`<dt>${t("期限")}</dt><dd>${when(d.deadline)}</dd>` : ""}
        ${d.missing ? html`<dt>${t("缺的材料")}</dt><dd data-missing>${d.missing}</dd>` : ""}
        ${d.result ? html`<dt>${t("办理结果")}</dt><dd data-result>${d.result}</dd>` : ""}
      </dl>
      <h2>${t("材料清单")}</h2>
      <ul class="tc-checks">${d.materials.map((m, i) => html`<li data-collected="${d.collected.includes(i) ? 1 : 0}">${d.collected.includes(i) ? "✓" : "✗"} ${m.name}</li>`)}</ul>
      ${await photoBadges(app, d.photos)}
    </section>
    <div class="actions">${steps.map(stepForm)}</div>
    <section><h2>${t("办理经过")}</h2><ol class="timeline">${(d.history || []).map((h) => html`<li><strong>${when(h.at)}</strong> ${label("assisted_step", h.kind)} → ${label("assisted_status", h.to)}${h.note ? html`<div>${h.note}</div>` : ""}</li>`)}</ol></section>`;
  },
  forms: {
    async "assisted-step"(app, form, data) {
      const step = form.dataset.step;
      const note = String(data.get("note") || "").trim();
      if (showErrors(form, { note: NEEDS[step] && !note ? t("请写明原因。") : "" })) return;
      const id = location.hash.split("/")[2];
      const args = { application_id: id };
      if (NEEDS[step]) args[NEEDS[step]] = note;
      else if (note) args.note = note;
      if (step === "resupply") args.photos = data.getAll("photos").map(String);
      await app.write(`assisted.${step}`, args);
      app.say(t("已保存，联网后同步。"));
      app.render();
    },
  },
};
