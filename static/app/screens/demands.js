// Residents' requests (微诉求): capture at the door, accept what the community
// dispatched to the grid, progress and resolve it, record the rating.
"use strict";

import { rule, t } from "../i18n.js";
import { makeCalendar, parseLimit, timeLeft, warning } from "../workdays.js";
import { allOf, byHistory, childrenOf, getRecord } from "../store.js";
import { html, label, options, uuid, when } from "../ui.js";
import { phoneMessage, photoBadges, photoField, showErrors, syncBadge, telLink } from "../forms.js";

const OPEN = ["dispatched", "accepted", "in_progress", "rectifying", "submitted", "replied", "transferred", "escalated"];
// The time limit runs only while someone owes the resident an answer (server/commands/demands.py).
const CLOCK_RUNS = ["dispatched", "accepted", "in_progress", "transferred", "escalated", "rectifying"];

let calendar = null; // from the labels' rules, made once per labels fetch

function clock() {
  const data = rule("calendar");
  if (!calendar || calendar.data !== data) calendar = { data, cal: makeCalendar(data || {}) };
  return calendar.cal;
}

function overdue(demand) {
  return demand.data.deadline && CLOCK_RUNS.includes(demand.data.status) && !demand.data.suspended_at && new Date(demand.data.deadline) < new Date();
}

// 预警 as the office shows it (server/workflows/demands.py: warning_level, time_left).
function dueBadge(demand) {
  const d = demand.data;
  if (!d.deadline || !CLOCK_RUNS.includes(d.status)) return "";
  if (d.suspended_at) return html`<span class="badge" data-warning="suspended">${t("暂停计时")}</span>`;
  const deadline = Date.parse(d.deadline);
  const limit = parseLimit(d.time_limit);
  if (!limit) {
    const hours = (deadline - Date.now()) / 3600000;
    if (hours < 0) return html`<span class="badge red" data-warning="overdue">${t("已超期")}</span>`;
    return html`<span class="badge${hours < 24 ? " amber" : ""}" data-warning="${hours < 24 ? "soon" : "ok"}">${t("期限 %(d)s", { d: when(d.deadline) })}</span>`;
  }
  const level = warning(clock(), limit, deadline, Date.now());
  const left = timeLeft(clock(), limit, deadline, Date.now());
  const n = Math.abs(left).toFixed(1).replace(/\.0$/, "");
  const text = left < 0 || level === "overdue"
    ? (limit.hours ? t("超期 %(n)s 小时", { n }) : t("超期 %(n)s 个工作日", { n }))
    : (limit.hours ? t("剩 %(n)s 小时", { n }) : t("剩 %(n)s 个工作日", { n }));
  const tone = { overdue: " red", soon: " amber", ok: "" }[level];
  return html`<span class="badge${tone}" data-warning="${level}" title="${t("期限 %(d)s", { d: when(d.deadline) })}">${text}</span>`;
}

function row(demand) {
  return html`<li><a href="#/d/${demand.id}" class="demand-row" data-demand="${demand.id}">
    <span class="title">${label("demand_field", demand.data.field)} · ${label("demand_status", demand.data.status)}</span> ${syncBadge(demand)} ${dueBadge(demand)}
    <span class="meta">${demand.data.description}</span>
    <span class="meta">${demand.data.address || ""}</span></a></li>`;
}

export const list = {
  name: "demands",
  async render(app) {
    const demands = (await allOf(app.db, "demand")).filter((d) => OPEN.includes(d.data.status) || d.pending);
    const me = app.me.id;
    const toAccept = demands.filter((d) => canAccept(app, d.data));
    const mine = demands.filter((d) => d.data.assignee_id === me && !toAccept.includes(d));
    const others = demands.filter((d) => !toAccept.includes(d) && !mine.includes(d));
    const sort = (a, b) => Number(overdue(b)) - Number(overdue(a)) || String(a.data.deadline || "9").localeCompare(String(b.data.deadline || "9"));
    const section = (title, items, id) => html`<section><h2>${title}（${items.length}）</h2>
      ${items.length ? html`<ul class="list" id="${id}">${items.sort(sort).map(row)}</ul>` : html`<p class="muted">${t("没有。")}</p>`}</section>`;
    return html`<h1 class="visually-hidden">${t("诉求")}</h1>${section(t("待接单"), toAccept, "to-accept")}${section(t("我在办理"), mine, "mine")}${section(t("本网格其他诉求"), others, "others")}`;
  },
};

export const captureForm = {
  name: "demand-form",
  async render(app, [householdId]) {
    const household = await getRecord(app.db, "household", householdId);
    if (!household) return html`<p class="error">${t("找不到这一户。")}</p>`;
    return html`<section class="card"><h1>${t("登记诉求")}</h1><p class="muted">${household.data.address}</p>
      <form data-form="demand" class="stack" data-household="${householdId}" data-demand="${uuid()}">
        <label>${t("领域")}<select name="field">${options("demand_field", "property")}</select></label>
        <label>${t("来源")}<select name="source">${options("source", "visit", { except: ["public"] })}</select></label>
        <label>${t("诉求内容")}<textarea name="description" required maxlength="2000" placeholder="${t("居民反映的问题，越具体越好")}"></textarea></label>
        <label>${t("联系人")}<input name="contact_name" maxlength="40"></label>
        <label>${t("联系电话")}<input name="contact_phone" inputmode="tel"></label>
        ${photoField("demand-photos")}
        <button type="submit" class="primary">${t("保存诉求")}</button>
      </form></section>`;
  },
  forms: {
    async demand(app, form, data) {
      const description = String(data.get("description") || "").trim();
      const phone = String(data.get("contact_phone") || "").trim();
      if (showErrors(form, { description: description ? "" : t("诉求内容：必须填写。"), contact_phone: phoneMessage(phone) })) return;
      await app.write("demand.create", {
        demand_id: form.dataset.demand, household_id: form.dataset.household, field: String(data.get("field")),
        source: String(data.get("source")), description, contact_name: String(data.get("contact_name") || ""),
        contact_phone: phone, photos: data.getAll("photos").map(String),
      });
      app.say(t("诉求已保存，联网后同步。"));
      app.returnTo(`#/h/${form.dataset.household}`, `[data-demand="${form.dataset.demand}"]`);
    },
  },
};

function canAccept(app, d) {
  return ["dispatched", "rectifying"].includes(d.status) && !d.assignee_id && !d.department_id && app.me.grid_ids.includes(d.grid_id);
}

function stepForm(kind, title, { answer = false, rating = false, reason = false } = {}) {
  const noteLabel = answer ? t("答复内容") : rating ? t("居民意见") : reason ? t("原因（如等居民回来、待联席会议）") : t("办理情况");
  return html`<form data-form="${kind}" class="stack card">
    <h3>${title}</h3>
    ${rating ? html`<label>${t("居民评价")}<select name="rating">${options("rating", "satisfied")}</select></label>` : ""}
    <label>${noteLabel}<textarea name="note" maxlength="500" ${answer || reason ? html`required` : ""}></textarea></label>
    ${!answer && !rating && !reason ? photoField(`${kind}-photos`) : ""}
    <button type="submit" class="primary">${title}</button>
  </form>`;
}

export const detail = {
  name: "demand",
  async render(app, [id]) {
    const demand = await getRecord(app.db, "demand", id);
    if (!demand) return html`<section class="card"><h1>${t("找不到这条诉求")}</h1><p>${t("可能已转交其他网格或部门。")}</p></section>`;
    const d = demand.data;
    const events = (await childrenOf(app.db, "demand_event", id)).sort(byHistory);
    const timeline = [];
    for (const e of events) {
      timeline.push(html`<li><strong>${when(e.data.at)}</strong> ${label("demand_event", e.data.kind)}${e.data.to_status ? html` → ${label("demand_status", e.data.to_status)}` : ""} ${syncBadge(e)}
        ${e.data.note ? html`<div>${e.data.note}</div>` : ""} ${await photoBadges(app, e.data.photos)}</li>`);
    }
    const mineToDo = d.assignee_id === app.me.id && !d.department_id;
    const steps = [];
    if (canAccept(app, d)) {
      steps.push(html`<button type="button" class="primary" data-action="accept" data-demand="${id}">${d.status === "rectifying" ? t("接单整改") : t("接单")}</button>`);
    }
    if (mineToDo && ["accepted", "in_progress"].includes(d.status)) {
      steps.push(stepForm("progress", t("记录进展")));
      if (d.handling_type === "reply") steps.push(stepForm("reply", t("答复居民"), { answer: true }));
      steps.push(stepForm("resolve", t("办结")));
    }
    // The clock stops while the request waits for the resident or a joint meeting (the time does not count).
    if (mineToDo && CLOCK_RUNS.includes(d.status) && d.deadline && !demand.pending) {
      steps.push(d.suspended_at ? stepForm("resume", t("恢复计时"), { reason: true }) : stepForm("suspend", t("暂停计时"), { reason: true }));
    }
    // After 办结 the resident rates on their own phone (a rating typed here is a 代录).
    const rateYourself = ["resolved", "replied"].includes(d.status) && !d.rating && !demand.pending
      ? html`<figure class="card rating-qr" data-rating-qr>
          <img src="/demands/${id}/rating-qr.svg" width="200" height="200" alt="${t("评价二维码（联网后显示）")}">
          <figcaption>${t("请居民用自己的手机扫码评价：在您的手机上记录的评价算作代录。")}</figcaption></figure>`
      : "";
    if (["resolved", "replied"].includes(d.status) && app.me.grid_ids.includes(d.grid_id)) {
      steps.push(stepForm("rate", t("记录居民评价（入户代录）"), { rating: true }));
    }
    return html`<section class="card" data-demand="${id}">
      <h1>${label("demand_field", d.field)} · ${label("demand_status", d.status)} ${syncBadge(demand)}</h1>
      ${dueBadge(demand)}
      <p>${d.description}</p>
      <dl class="facts">
        <dt>${t("来源")}</dt><dd>${label("source", d.source)}</dd>
        ${d.handling_type ? html`<dt>${t("类型")}</dt><dd>${label("handling_type", d.handling_type)} · ${label("priority", d.priority)}</dd>` : ""}
        ${d.deadline ? html`<dt>${t("办理期限")}</dt><dd>${when(d.deadline)}</dd>` : ""}
        ${d.contact_name || d.contact_phone ? html`<dt>${t("联系人")}</dt><dd data-contact>${d.contact_name}${d.contact_name && d.contact_phone ? " " : ""}${telLink(d.contact_phone)}</dd>` : ""}
        ${d.address ? html`<dt>${t("地址")}</dt><dd>${d.household_id ? html`<a href="#/h/${d.household_id}">${d.address}</a>` : d.address}</dd>` : ""}
        ${d.answer ? html`<dt>${t("答复")}</dt><dd>${d.answer}</dd>` : ""}
        ${d.rating ? html`<dt>${t("评价")}</dt><dd>${label("rating", d.rating)}${d.rating_comment ? html`：${d.rating_comment}` : ""}</dd>` : ""}
      </dl>
      ${await photoBadges(app, d.photos)}
    </section>
    ${rateYourself}
    <div class="actions">${steps}</div>
    <section><h2>${t("办理经过")}</h2><ol class="timeline">${timeline}</ol></section>`;
  },
  actions: {
    async accept(app, button) {
      await app.write("demand.accept", { demand_id: button.dataset.demand });
      app.say(t("已接单，联网后同步。若别人先接了单，会在“待同步”里告诉您。"));
      app.render();
    },
  },
  forms: {
    async progress(app, form, data) {
      const note = String(data.get("note") || "").trim();
      const photos = data.getAll("photos").map(String);
      if (showErrors(form, { note: note || photos.length ? "" : t("请写办理情况或拍一张照片。") })) return;
      await step(app, "demand.progress", { note, photos });
    },
    async resolve(app, form, data) {
      await step(app, "demand.resolve", { note: String(data.get("note") || ""), photos: data.getAll("photos").map(String) });
    },
    async reply(app, form, data) {
      await step(app, "demand.reply", { answer: String(data.get("note") || "") });
    },
    async suspend(app, form, data) {
      const note = String(data.get("note") || "").trim();
      if (showErrors(form, { note: note ? "" : t("请写明原因。") })) return;
      await step(app, "demand.suspend", { note });
    },
    async resume(app, form, data) {
      const note = String(data.get("note") || "").trim();
      if (showErrors(form, { note: note ? "" : t("请写明原因。") })) return;
      await step(app, "demand.resume", { note });
    },
    async rate(app, form, data) {
      await step(app, "demand.rate", { rating: String(data.get("rating")), comment: String(data.get("note") || "") });
    },
  },
};

async function step(app, name, args) {
  const id = location.hash.split("/")[2];
  await app.write(name, { demand_id: id, ...args });
  app.say(t("已保存，联网后同步。"));
  app.render();
}
