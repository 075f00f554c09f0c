// 议事: the open topics of the worker's grids, the households not asked yet (canvassing),
// and the household's stance recorded at the door — offline, synced as `topic.opinion`.
"use strict";

import { addressKey } from "../db.js";
import { labelsOf, t } from "../i18n.js";
import { allOf, byAddress, childrenOf, getRecord, keptRead } from "../store.js";
import { answersByHousehold, answersByTopic, openTopicsFor } from "../topics.js";
import { Html, html, label, uuid } from "../ui.js";
import { showErrors, syncBadge } from "../forms.js";

function building(h) {
  return [h.data.estate, h.data.building].filter(Boolean).join(" ") || t("其他");
}

// One topic: its households by 楼栋, those not asked yet first, each a link to the form.
export const canvass = {
  name: "topic",
  async render(app, [topicId]) {
    const topic = await getRecord(app.db, "topic", topicId);
    if (!topic) return html`<p class="error">${t("找不到这个议题。")}</p>`;
    const [households, answers] = await Promise.all([
      keptRead(app.db, "households", ["household"], async () => (await allOf(app.db, "household")).sort(byAddress)),
      answersByHousehold(app.db),
    ]);
    const asked = households.filter((h) => openTopicsFor([topic], h).length);
    const blocks = new Map();
    for (const h of asked) {
      const name = building(h);
      if (!blocks.has(name)) blocks.set(name, []);
      blocks.get(name).push(h);
    }
    const answered = asked.filter((h) => answers.get(h.id)?.has(topicId)).length;
    const sections = [...blocks].sort(([a], [b]) => (addressKey(a) < addressKey(b) ? -1 : 1)).map(([name, list]) => {
      const left = list.filter((h) => !answers.get(h.id)?.has(topicId));
      return html`<h2 class="building">${name} · ${t("未征求 %(n)s 户", { n: left.length })}</h2>
        <ul class="list">${list.map((h) => {
          const answer = answers.get(h.id)?.get(topicId);
          return html`<li><a href="#/h/${h.id}/topic/${topicId}?from=topic" data-household="${h.id}">
            <span class="title">${h.data.room || h.data.address}</span>
            <span class="meta">${answer ? html`<span class="badge">${label("stance", answer.data.stance)}</span> ${syncBadge(answer)}` : html`<span class="badge amber">${t("未征求")}</span>`}</span></a></li>`;
        })}</ul>`;
    });
    return html`<section class="card" data-topic="${topicId}"><h1>${topic.data.title}</h1>
      ${topic.data.description ? html`<p class="prewrap">${topic.data.description}</p>` : ""}
      <p class="muted" data-canvass-count>${t("已征求 %(a)s / %(n)s 户", { a: answered, n: asked.length })}</p></section>
      ${sections}`;
  },
};

// The household's stance on one topic: 赞成 / 有条件赞成 / 反对 / 无意见, and a comment.
export const form = {
  name: "opinion-form",
  async render(app, [householdId, topicId]) {
    const [household, topic, opinions] = await Promise.all([
      getRecord(app.db, "household", householdId),
      getRecord(app.db, "topic", topicId),
      childrenOf(app.db, "opinion", householdId),
    ]);
    if (!household || !topic) return html`<p class="error">${t("找不到这一户或这个议题。")}</p>`;
    const current = answersByTopic(opinions).get(topicId)?.data;
    const from = new URLSearchParams(location.hash.split("?")[1] || "").get("from") || "";
    const stances = Object.entries(labelsOf("stance")).map(([value, text]) => html`<label class="inline chip"><input type="radio" name="stance" value="${value}" ${current?.stance === value ? new Html("checked") : ""} required>${text}</label>`);
    return html`<section class="card"><h1>${topic.data.title}</h1><p class="muted">${household.data.address}</p>
      ${topic.data.description ? html`<p class="prewrap">${topic.data.description}</p>` : ""}
      <form data-form="opinion" class="stack" data-household="${householdId}" data-topic="${topicId}" data-from="${from}">
        <fieldset class="chips"><legend>${t("这一户的意见")}</legend>${stances}</fieldset>
        <label>${t("居民意见")}<textarea name="comment" maxlength="500" placeholder="${t("条件、顾虑、建议……")}">${current?.comment || ""}</textarea></label>
        <button type="submit" class="primary">${t("保存意见")}</button>
      </form></section>`;
  },
  forms: {
    async opinion(app, form, data) {
      const stance = String(data.get("stance") || "");
      const comment = String(data.get("comment") || "").trim();
      if (showErrors(form, { stance: stance ? "" : t("请选择这一户的意见。"), comment: comment.length > 500 ? t("太长了，最多 %(n)s 个字。", { n: 500 }) : "" })) return;
      const { household, topic, from } = form.dataset;
      await app.write("topic.opinion", { topic_id: topic, household_id: household, stance, comment });
      app.say(t("意见已保存，联网后同步。"));
      if (from === "topic") app.returnTo(`#/topic/${topic}`, `[data-household="${household}"]`);
      else app.returnTo(`#/h/${household}`, `[data-topic="${topic}"]`);
    },
  },
};

// A topic raised at the door (a matter for the table, not one household's request): offline,
// synced as `topic.create`; it then collects the grid's opinions like any open topic.
export const propose = {
  name: "topic-form",
  async render(app, [householdId]) {
    const household = await getRecord(app.db, "household", householdId);
    if (!household) return html`<p class="error">${t("找不到这一户。")}</p>`;
    return html`<section class="card"><h1>${t("提交议事")}</h1><p class="muted">${household.data.address}</p>
      <p class="muted small">${t("大家的事，交给议事会商量：提交后先在本网格征求意见，再由社区审议。")}</p>
      <form data-form="topic" class="stack" data-household="${householdId}" data-topic="${uuid()}">
        <label>${t("议题名称")}<input name="title" required maxlength="100" placeholder="${t("例如：楼下建电动车充电棚")}"></label>
        <label>${t("议题说明")}<textarea name="description" maxlength="2000"></textarea></label>
        <button type="submit" class="primary">${t("提交议事")}</button>
      </form></section>`;
  },
  forms: {
    async topic(app, form, data) {
      const title = String(data.get("title") || "").trim();
      const description = String(data.get("description") || "").trim();
      if (showErrors(form, { title: title ? "" : t("请填写议题名称。") })) return;
      const { household, topic } = form.dataset;
      // The id is fixed when the form opens: pressing save twice is one topic.
      await app.write("topic.create", { topic_id: topic, title, description, source: "visit", household_id: household });
      app.say(t("议题已提交，联网后同步。"));
      app.returnTo(`#/h/${household}`, `[data-topic="${topic}"]`);
    },
  },
};
