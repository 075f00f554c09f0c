// Elderly travel cards (老年出行卡) at the door: start, fill, supplement, submit, deliver.
"use strict";

import { ageOn } from "../idnumber.js";
import { t } from "../i18n.js";
import { childrenOf, getRecord } from "../store.js";
import { Html, N_, html, label, options, uuid, when } from "../ui.js";
import { CARD_AGE, phoneMessage, photoBadges, showErrors, syncBadge } from "./households.js";
import { photoField } from "./visits.js";

// Shown to the applicant before they agree; the version is recorded with the answer.
export const CONSENT_VERSION = "2026-11";
export const CONSENT_TEXT = N_("本人同意社区为办理老年出行卡收集和使用本人的姓名、身份证号码、照片和联系方式，仅用于出行卡的办理、发放和年审，不作他用。");

function checklistFields(checklist = {}) {
  const box = (name, text) => html`<label class="inline"><input type="checkbox" name="${name}" value="1" ${checklist[name] ? new Html("checked") : ""}>${text}</label>`;
  return html`<fieldset class="stack"><legend>${t("材料清单")}</legend>
    ${box("id_seen", t("已核验身份证原件"))}
    ${box("photo_taken", t("已拍摄本人照片"))}
    <div class="consent"><p class="small">${t(CONSENT_TEXT)}</p>${box("consent", t("申请人已阅读并同意以上内容"))}</div>
  </fieldset>`;
}

function proxyFields(proxy) {
  const p = proxy || {};
  return html`<details ${proxy ? new Html("open") : ""}><summary>${t("代办人（本人不能到场时填写）")}</summary>
    <div class="stack">
      <label>${t("代办人姓名")}<input name="proxy_name" value="${p.name || ""}" maxlength="40"></label>
      <label>${t("与申请人关系")}<input name="proxy_relation" value="${p.relation || ""}" maxlength="20"></label>
      <label>${t("代办人电话")}<input name="proxy_phone" value="${p.phone || ""}" inputmode="tel"></label>
    </div></details>`;
}

function readForm(data, previous = {}) {
  const checklist = {
    id_seen: data.get("id_seen") === "1",
    photo_taken: data.get("photo_taken") === "1",
    consent: data.get("consent") === "1",
  };
  if (checklist.consent) {
    checklist.consent_at = previous.consent ? previous.consent_at : new Date().toISOString();
    checklist.consent_version = previous.consent ? previous.consent_version : CONSENT_VERSION;
  }
  const proxyName = String(data.get("proxy_name") || "").trim();
  const proxy = proxyName
    ? { name: proxyName, relation: String(data.get("proxy_relation") || "").trim(), phone: String(data.get("proxy_phone") || "").trim() }
    : null;
  return {
    residence: String(data.get("residence") || ""),
    delivery: String(data.get("delivery") || "collect"),
    checklist,
    proxy,
    photo: String(data.get("photo") || "") || null,
  };
}

export const startForm = {
  name: "card-start",
  async render(app, [residentId]) {
    const resident = await getRecord(app.db, "resident", residentId);
    if (!resident) return html`<p class="error">${t("找不到这位居民。")}</p>`;
    const age = ageOn(resident.data.birth_date);
    const eligible = age !== null && age >= CARD_AGE;
    return html`<section class="card"><h1>${t("办理老年出行卡")}</h1>
      <p><strong>${resident.data.name}</strong> · ${age !== null ? t("%(n)s 岁", { n: age }) : t("年龄不详")} · ${resident.data.id_masked}</p>
      ${eligible ? "" : html`<p class="error">${t("按身份证上的出生日期，申请人未满 %(n)s 周岁。提交后服务器会再核对一次。", { n: CARD_AGE })}</p>`}
      <form data-form="card" class="stack" data-resident="${residentId}" data-household="${resident.data.household_id}" data-application="${uuid()}">
        <label>${t("居住依据")}<select name="residence">${options("residence", "hukou")}</select></label>
        ${checklistFields()}
        <div><p>${t("申请人照片（正面免冠）")}</p>${photoField("card-photo", "photo", { single: true })}</div>
        <label>${t("领卡方式")}<select name="delivery">${options("delivery", "collect")}</select></label>
        ${proxyFields(null)}
        <button type="submit" class="primary">${t("保存申请")}</button>
      </form></section>`;
  },
  forms: {
    async card(app, form, data) {
      const fields = readForm(data);
      if (showErrors(form, { proxy_phone: fields.proxy ? phoneMessage(fields.proxy.phone) : "" })) return;
      const id = form.dataset.application;
      await app.write("travel_card.create", { application_id: id, resident_id: form.dataset.resident, ...fields });
      app.say(t("申请已保存为草稿。材料齐全后请点“提交审核”。"));
      app.go(`#/card/${id}`);
    },
  },
};

export const detail = {
  name: "card",
  async render(app, [id]) {
    const card = await getRecord(app.db, "travel_card", id);
    if (!card) return html`<section class="card"><h1>${t("找不到这份申请")}</h1></section>`;
    const c = card.data;
    const resident = await getRecord(app.db, "resident", c.resident_id);
    const events = (await childrenOf(app.db, "travel_card_event", id)).sort((a, b) => String(a.data.at).localeCompare(String(b.data.at)));
    const editable = ["draft", "needs_supplement"].includes(c.status);
    const checklist = c.checklist || {};
    return html`<section class="card" data-card="${id}" data-status="${c.status}">
      <h1>${t("老年出行卡申请")} ${syncBadge(card)}</h1>
      <p><strong>${resident ? resident.data.name : ""}</strong> · ${label("card_status", c.status)}</p>
      ${c.reason && ["needs_supplement", "rejected"].includes(c.status)
        ? html`<p class="error" data-reason>${c.status === "needs_supplement" ? t("需要补充：") : t("未通过原因：")}${c.reason}</p>` : ""}
      <dl class="facts">
        <dt>${t("领卡方式")}</dt><dd>${label("delivery", c.delivery)}</dd>
        <dt>${t("居住依据")}</dt><dd>${label("residence", c.residence) || t("未填")}</dd>
        <dt>${t("身份证")}</dt><dd>${checklist.id_seen ? t("已核验") : t("未核验")}</dd>
        <dt>${t("同意书")}</dt><dd>${checklist.consent ? t("已同意（%(w)s）", { w: when(checklist.consent_at) }) : t("未同意")}</dd>
        <dt>${t("照片")}</dt><dd>${c.photo ? await photoBadges(app, [c.photo]) : t("未拍")}</dd>
        ${c.proxy ? html`<dt>${t("代办人")}</dt><dd>${c.proxy.name}（${c.proxy.relation}）</dd>` : ""}
        ${c.review_due ? html`<dt>${t("年审日期")}</dt><dd>${c.review_due}</dd>` : ""}
      </dl>
    </section>
    ${editable ? html`<form data-form="supplement" class="stack card" data-version="${card.version}">
        <h2>${c.status === "needs_supplement" ? t("补充材料") : t("完善申请")}</h2>
        <label>${t("居住依据")}<select name="residence">${options("residence", c.residence || "hukou")}</select></label>
        ${checklistFields(checklist)}
        <div><p>${t("申请人照片")}</p>${photoField("card-photo", "photo", { single: true })}${c.photo ? html`<input type="hidden" name="photo" value="${c.photo}">` : ""}</div>
        <label>${t("领卡方式")}<select name="delivery">${options("delivery", c.delivery)}</select></label>
        ${proxyFields(c.proxy)}
        <button type="submit">${t("保存")}</button>
      </form>
      <div class="actions"><button type="button" class="primary" data-action="submit-card" data-card="${id}">${t("提交审核")}</button></div>` : ""}
    ${c.status === "ready" && c.delivery === "door" ? html`<div class="actions"><button type="button" class="primary" data-action="deliver" data-card="${id}">${t("已送卡上门")}</button></div>` : ""}
    <section><h2>${t("办理经过")}</h2><ol class="timeline">${events.map((e) => html`<li><strong>${when(e.data.at)}</strong> ${label("card_status", e.data.to_status)}${e.data.note ? html`<div>${e.data.note}</div>` : ""}</li>`)}</ol></section>`;
  },
  forms: {
    async supplement(app, form, data) {
      const id = location.hash.split("/")[2];
      const card = await getRecord(app.db, "travel_card", id);
      const fields = readForm(data, card.data.checklist || {});
      if (showErrors(form, { proxy_phone: fields.proxy ? phoneMessage(fields.proxy.phone) : "" })) return;
      const set = {};
      for (const [key, value] of Object.entries(fields)) {
        if (JSON.stringify(value) !== JSON.stringify(card.data[key] ?? null)) set[key] = value;
      }
      if (Object.keys(set).length) {
        await app.write("travel_card.update", { application_id: id, base_version: Number(form.dataset.version), set });
      }
      app.say(t("已保存，联网后同步。"));
      app.render();
    },
  },
  actions: {
    async "submit-card"(app, button) {
      await app.write("travel_card.submit", { application_id: button.dataset.card });
      app.say(t("已提交审核，联网后送到社区。"));
      app.render();
    },
    async deliver(app, button) {
      await app.write("travel_card.advance", { application_id: button.dataset.card, to: "issued", note: t("网格员送卡上门") });
      app.say(t("已记录送达。"));
      app.render();
    },
  },
};
