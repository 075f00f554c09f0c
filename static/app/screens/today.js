// 工作台: the worker's day, made by rule from what the phone holds (tasks.js), offline.
// Overdue first, then today, then the week ahead; in each, building by building.
"use strict";

import { addressKey } from "../db.js";
import { t } from "../i18n.js";
import { allOf, keptRead } from "../store.js";
import { addDays, loadTasks, localDate } from "../tasks.js";
import { answersByHousehold, openTopicsFor } from "../topics.js";
import { html, N_ } from "../ui.js";

const GROUPS = [
  ["overdue", N_("已超期")],
  ["today", N_("今天")],
  ["week", N_("本周")],
];

const KINDS = {
  care_visit: N_("关爱走访"),
  card_supplement: N_("出行卡：补充材料"),
  card_deliver: N_("出行卡：送卡上门"),
  card_review: N_("出行卡：安排年审"),
  demand_accept: N_("诉求：待接单"),
  demand_rectify: N_("诉求：差评整改"),
  demand_due: N_("诉求：即将超期"),
  conflict: N_("数据冲突：待处理"),
  assisted_resupply: N_("代办件：补齐材料"),
  assisted_deliver: N_("代办件：送达结果"),
};

function target(task) {
  if (task.kind === "care_visit") return `#/h/${task.household_id}/visit?purpose=care&from=today`;
  if (task.kind.startsWith("card_")) return `#/card/${task.record_id}`;
  if (task.kind.startsWith("demand_")) return `#/d/${task.record_id}`;
  if (task.kind.startsWith("assisted_")) return `#/a/${task.record_id}`;
  return "#/outbox";
}

// 预警 as on the request list: amber while a request is due soon, red once it is past its limit.
function kindBadge(task) {
  if (task.kind === "care_visit") return html`<span class="badge">${t(KINDS[task.kind])}</span>`;
  if (task.kind === "demand_due" && task.overdue) return html`<span class="badge red" data-warning="overdue">${t("诉求：已超期")}</span>`;
  if (task.kind === "demand_due") return html`<span class="badge amber" data-warning="soon">${t(KINDS[task.kind])}</span>`;
  return html`<span class="badge amber">${t(KINDS[task.kind])}</span>`;
}

function groupOf(task, today) {
  if (task.overdue) return "overdue";
  return task.due <= today ? "today" : "week";
}

const WEEKDAYS = [N_("周日"), N_("周一"), N_("周二"), N_("周三"), N_("周四"), N_("周五"), N_("周六")];

function dueText(task, today) {
  if (task.overdue) {
    const days = Math.round((Date.parse(today) - Date.parse(task.due)) / 86400000);
    return days > 0 ? t("超期 %(n)s 天", { n: days }) : t("已超期");
  }
  if (task.due <= today) return t("今天");
  if (task.due === addDays(today, 1)) return t("明天");
  const [, m, d] = task.due.split("-").map(Number);
  return t("%(m)s月%(d)s日 %(w)s", { m, d, w: t(WEEKDAYS[new Date(`${task.due}T00:00:00Z`).getUTCDay()]) });
}

// Tasks of one section, by building (小区 / 楼栋 / 单元, in numeric order), then door.
function byBuilding(tasks, households) {
  const blocks = new Map();
  for (const task of tasks) {
    const h = households.get(task.household_id)?.data;
    const name = h ? [h.estate, h.building, h.unit].filter(Boolean).join(" ") : "";
    if (!blocks.has(name)) blocks.set(name, []);
    blocks.get(name).push({ task, h });
  }
  const order = (name) => (name ? addressKey(name) : "\uffff"); // tasks of no household last
  return [...blocks.entries()]
    .sort(([a], [b]) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
    .map(([name, rows]) => [name, rows.sort((x, y) => {
      const [ax, ay] = [addressKey(x.h?.address), addressKey(y.h?.address)];
      return ax < ay ? -1 : ax > ay ? 1 : x.task.kind < y.task.kind ? -1 : x.task.kind > y.task.kind ? 1 : 0;
    })]);
}

export const screen = {
  name: "today",
  async render(app) {
    const now = Date.now();
    const today = localDate(now);
    const [{ tasks, households }, topics, answers] = await Promise.all([
      loadTasks(app.db, app.me, now),
      keptRead(app.db, "all topic", ["topic"], () => allOf(app.db, "topic")),
      answersByHousehold(app.db),
    ]);
    // 议事: each open topic and how many of the worker's households are still to be asked.
    const canvass = topics.map((topic) => {
      const asked = [...households.values()].filter((h) => openTopicsFor([topic], h).length);
      const left = asked.filter((h) => !answers.get(h.id)?.has(topic.id)).length;
      return { topic, asked: asked.length, left };
    }).filter(({ asked }) => asked);
    const topicList = canvass.length ? html`<section class="tasks" data-group="topics"><h2>${t("议事：征求意见")}</h2>
      <ul class="list">${canvass.map(({ topic, asked, left }) => html`<li><a href="#/topic/${topic.id}" data-topic="${topic.id}">
        <span class="title">${topic.data.title}</span>
        <span class="meta"><span class="badge${left ? " amber" : ""}">${t("未征求 %(n)s 户", { n: left })}</span> ${t("共 %(n)s 户", { n: asked })}</span></a></li>`)}</ul></section>` : "";
    const sections = GROUPS.map(([key, title]) => [key, title, tasks.filter((task) => groupOf(task, today) === key)]);
    const counts = sections.map(([key, title, list]) => html`<li data-count="${key}"><span class="number">${list.length}</span> ${t(title)}</li>`);
    const body = sections.filter(([, , list]) => list.length).map(([key, title, list]) => html`<section class="tasks" data-group="${key}">
      <h2>${t(title)} <span class="muted">（${list.length}）</span></h2>
      ${byBuilding(list, households).map(([building, rows]) => html`<h3 class="building">${building || t("其他")} · ${t("%(n)s 项", { n: rows.length })}</h3>
        <ul class="list">${rows.map(({ task, h }) => html`<li><a href="${target(task)}" data-task="${task.kind}" data-record="${task.record_id}" data-household="${task.household_id || ""}">
          <span class="title">${h ? h.room || h.address : t("不在住户下")}</span>
          <span class="meta">${kindBadge(task)} <span class="${task.overdue ? "late" : ""}">${dueText(task, today)}</span></span>
        </a></li>`)}</ul>`)}
    </section>`);
    const empty = !tasks.length
      ? html`<section class="card done" data-empty><h2>${t("今天的工作都完成了")}</h2><p class="muted">${t("按走访规则，本周没有到期的关爱走访，也没有等您处理的出行卡、诉求或冲突。")}</p><p><a class="button" href="#/households">${t("查看住户")}</a></p></section>`
      : "";
    const unread = app.status?.unread || 0;
    const inbox = unread
      ? html`<p class="card inbox-note" id="today-inbox"><a href="#/inbox">${t("%(n)s 条未读消息", { n: unread })}</a></p>`
      : "";
    return html`<section>
      <h1 class="visually-hidden">${t("工作台")}</h1>
      ${inbox}
      <ul class="counts" id="task-counts">${counts}</ul>
      ${empty}${body}${topicList}
      <p class="today-more actions"><a class="button" href="#/guide" id="open-guide">${t("办事指南")}</a>
        <a class="button" href="#/assisted" id="open-assisted">${t("代办件")}</a></p>
    </section>`;
  },
};
