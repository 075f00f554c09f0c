// Elderly travel cards (老年出行卡) at the door: start, fill, supplement, submit, deliver, plan the review.
"use strict";

import { ageOn } from "../idnumber.js";
import { t } from "../i18n.js";
import { byHistory, childrenOf, getRecord } from "../store.js";
import { Html, html, label, options, uuid, when } from "../ui.js";
import { cardTier, phoneMessage, photoBadges, photoField, showErrors, syncBadge, youngestCardAge } from "../forms.js";

// The consent text lives on the server (one version-stamped text); the service
// worker keeps /app/consent.json, so it is shown at the door offline too.
let consent = null;
async function consentText() {
  if (!consent) {
    const response = await fetch("/app/consent.json");
    consent = await response.json();
  }
  return consent;
}

function checklistFields(checklist, text) {
  const box = (name, caption) => html`<label class="inline"><input type="checkbox" name="${name}" value="1" ${checklist[name] ? new Html("checked") : ""}>${caption}</label>`;
  return html`<fieldset class="stack"><legend>${t("材料清单")}</legend>
    ${box("id_seen", t("已核验身份证原件"))}
    ${box("photo_taken", t("已拍摄本人照片"))}
    <div class="consent"><p class="small prewrap">${text.text}</p>${box("consent", t("申请人已阅读并同意以上内容"))}</div>
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

function readForm(data, previous, text) {
  const checklist = {
    id_seen: data.get("id_seen") === "1",
    photo_taken: data.get("photo_taken") === "1",
    consent: data.get("consent") === "1",
  };
  if (checklist.consent) {
    // The moment and the text version of the answer are part of the record.
    checklist.consent_at = previous.consent ? previous.consent_at : new Date().toISOString();
    checklist.consent_version = previous.consent ? previous.consent_version : text.version;
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

// What still stops submission (the server checks the same, server/commands/travel_cards.py).
function missing(card) {
  const c = card.checklist || {};
  const gaps = [];
  if (!c.id_seen) gaps.push(t("核验身份证原件"));
  if (!c.consent) gaps.push(t("本人同意使用个人信息"));
  if (!card.photo) gaps.push(t("申请人照片"));
  if (!["hukou", "permit"].includes(card.residence)) gaps.push(t("户籍或居住证信息"));
  return gaps;
}

function cardForm(name, card, text, { version = 0, resident = "", household = "", application = "" } = {}) {
  return html`<form data-form="${name}" class="stack" data-resident="${resident}" data-household="${household}" data-application="${application}" data-version="${version}">
    <label>${t("居住依据")}<select name="residence">${options("residence", card.residence || "hukou")}</select></label>
    ${checklistFields({ ...card.checklist, photo_taken: Boolean(card.checklist?.photo_taken || card.photo) }, text)}
    <div><p>${t("申请人照片（正面免冠）")}</p>${photoField("card-photo", "photo", { single: true, ticks: "photo_taken", face: true, taken: [card.photo] })}</div>
    <label>${t("领卡方式")}<select name="delivery">${options("delivery", card.delivery || "collect")}</select></label>
    ${proxyFields(card.proxy)}
    <button type="submit" class="${name === "card" ? "primary" : ""}">${name === "card" ? t("保存申请") : t("保存")}</button>
  </form>`;
}

export const startForm = {
  name: "card-start",
  async render(app, [residentId]) {
    const resident = await getRecord(app.db, "resident", residentId);
    if (!resident) return html`<p class="error">${t("找不到这位居民。")}</p>`;
    const age = ageOn(resident.data.birth_date);
    const tier = cardTier(resident.data);
    const text = await consentText();
    return html`<section class="card"><h1>${t("办理老年出行卡")}</h1>
      <p><strong>${resident.data.name}</strong> · ${age !== null ? t("%(n)s 岁", { n: age }) : t("年龄不详")} · ${resident.data.id_masked}</p>
      ${tier === "discount" ? html`<p><span class="badge">${t("优惠卡")}</span></p>` : ""}
      ${tier ? "" : html`<p class="error">${age === null
        ? t("这位居民没有登记身份证号，无法确定年龄；请先在居民信息中录入身份证号。")
        : t("按身份证上的出生日期，申请人未满 %(n)s 周岁。提交后服务器会再核对一次。", { n: youngestCardAge() })}</p>`}
      ${cardForm("card", {}, text, { resident: residentId, household: resident.data.household_id, application: uuid() })}
    </section>`;
  },
  forms: {
    async card(app, form, data) {
      const fields = readForm(data, {}, await consentText());
      if (showErrors(form, { proxy_phone: fields.proxy ? phoneMessage(fields.proxy.phone) : "" })) return;
      const id = form.dataset.application;
      await app.write("travel_card.create", { application_id: id, resident_id: form.dataset.resident, ...fields });
      app.say(t("申请已保存。材料齐全后请点“提交审核”。"));
      app.returnTo(`#/card/${id}`);
    },
  },
};

function within30Days(day) {
  if (!day) return false;
  const due = new Date(`${day}T00:00:00+08:00`);
  return due - Date.now() < 30 * 86400000;
}

export const detail = {
  name: "card",
  async render(app, [id]) {
    const card = await getRecord(app.db, "travel_card", id);
    if (!card) return html`<section class="card"><h1>${t("找不到这份申请")}</h1></section>`;
    const c = card.data;
    const [resident, events, text] = await Promise.all([
      getRecord(app.db, "resident", c.resident_id),
      childrenOf(app.db, "travel_card_event", id),
      consentText(),
    ]);
    events.sort(byHistory);
    const checklist = c.checklist || {};
    const editable = ["draft", "needs_supplement"].includes(c.status);
    const gaps = missing(c);
    const steps = [];
    if (editable) {
      steps.push(gaps.length
        ? html`<p class="muted" data-missing>${t("提交前还缺：%(list)s", { list: gaps.join("、") })}</p>`
        : html`<button type="button" class="primary" data-action="submit-card" data-card="${id}">${t("提交审核")}</button>`);
    }
    if (c.status === "ready") {
      steps.push(html`<button type="button" class="primary" data-action="deliver" data-card="${id}">${c.delivery === "door" ? t("已送卡上门") : t("已领取")}</button>`);
    }
    if (c.status === "issued" && within30Days(c.review_due)) {
      steps.push(html`<button type="button" data-action="plan-review" data-card="${id}" data-due="${c.review_due}">${t("安排年审走访")}</button>`);
    }
    const cancellable = ["draft", "submitted", "needs_supplement", "approved", "in_production", "ready"].includes(c.status);
    return html`<section class="card" data-card="${id}" data-status="${c.status}">
      <h1>${t("老年出行卡申请")} ${syncBadge(card)}</h1>
      <p><strong>${resident ? resident.data.name : ""}</strong> · <span class="badge">${label("card_status", c.status)}</span>${c.tier === "discount" ? html` <span class="badge">${t("优惠卡")}</span>` : ""}</p>
      ${c.reason && ["needs_supplement", "rejected", "cancelled"].includes(c.status)
        ? html`<p class="error" data-reason>${c.status === "needs_supplement" ? t("需要补充：") : c.status === "rejected" ? t("未通过原因：") : t("撤销原因：")}${c.reason}</p>` : ""}
      <dl class="facts">
        <dt>${t("领卡方式")}</dt><dd>${label("delivery", c.delivery)}</dd>
        <dt>${t("居住依据")}</dt><dd>${label("residence", c.residence) || t("未填")}</dd>
        <dt>${t("身份证")}</dt><dd>${checklist.id_seen ? t("已核验") : t("未核验")}</dd>
        <dt>${t("同意书")}</dt><dd>${checklist.consent ? t("已同意（%(w)s）", { w: when(checklist.consent_at) }) : t("未同意")}</dd>
        <dt>${t("照片")}</dt><dd>${c.photo ? await photoBadges(app, [c.photo]) : t("未拍")}</dd>
        ${c.proxy ? html`<dt>${t("代办人")}</dt><dd>${c.proxy.name}（${c.proxy.relation}）</dd>` : ""}
        ${c.issued_at ? html`<dt>${t("发卡时间")}</dt><dd>${when(c.issued_at)}</dd>` : ""}
        ${c.review_due ? html`<dt>${t("年审日期")}</dt><dd>${c.review_due}</dd>` : ""}
      </dl>
    </section>
    <div class="actions">${steps}</div>
    ${editable ? html`<section class="card"><h2>${c.status === "needs_supplement" ? t("补充材料") : t("完善申请")}</h2>
      ${cardForm("supplement", c, text, { version: card.version })}</section>` : ""}
    ${cancellable ? html`<details class="card"><summary>${t("撤销申请")}</summary>
      <form data-form="cancel" class="stack"><label>${t("撤销原因")}<textarea name="reason" required maxlength="500"></textarea></label>
      <button type="submit" class="danger">${t("撤销申请")}</button></form></details>` : ""}
    <section><h2>${t("办理经过")}</h2><ol class="timeline">${events.map((e) => html`<li><strong>${when(e.data.at)}</strong> ${label("card_status", e.data.to_status)}${e.data.note ? html`<div>${e.data.note}</div>` : ""} ${syncBadge(e)}</li>`)}</ol></section>`;
  },
  forms: {
    async supplement(app, form, data) {
      const id = location.hash.split("/")[2];
      const card = await getRecord(app.db, "travel_card", id);
      const fields = readForm(data, card.data.checklist || {}, await consentText());
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
    async cancel(app, form, data) {
      const id = location.hash.split("/")[2];
      const reason = String(data.get("reason") || "").trim();
      if (showErrors(form, { reason: reason ? "" : t("请写明撤销原因。") })) return;
      await app.write("travel_card.cancel", { application_id: id, reason });
      app.say(t("已撤销，联网后同步。"));
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
      app.say(t("已记录发卡。"));
      app.render();
    },
    async "plan-review"(app, button) {
      await app.write("travel_card.plan_review", { application_id: button.dataset.card, planned_for: button.dataset.due, visit_id: uuid() });
      app.say(t("已加入走访计划。"));
      app.render();
    },
  },
};
