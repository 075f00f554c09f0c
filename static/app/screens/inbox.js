// 消息: the inbox. Every notification is a `notice` record pulled to its person only,
// so it reaches every phone, online or not, with or without Web Push. Several unread
// of one kind are summed up under one heading; opening one marks it read (offline,
// like any other step) and opens its record.
"use strict";

import { allOf } from "../store.js";
import { t } from "../i18n.js";
import { html, N_, when } from "../ui.js";

const KEPT = 50; // read notices shown below the unread ones

function newestFirst(a, b) {
  return String(b.data.created_at).localeCompare(String(a.data.created_at));
}

export async function loadNotices(db) {
  return (await allOf(db, "notice")).sort(newestFirst);
}

export function unread(notices) {
  return notices.filter((n) => !n.data.read_at);
}

// Where a notice opens: a screen of the field app (`/app/#/d/…` → its hash), an office page
// the worker uses in the phone's browser (`/handovers`), else the inbox.
export function opens(notice) {
  const link = notice.data.link || "";
  if (link.startsWith("/app/#/")) return link.slice("/app/".length);
  return /^\/(?!\/)/.test(link) ? link : "#/inbox";
}

// 预警 on the notices of a request's time limit, as on the lists: amber 即将超期, red 已超期.
const WARNINGS = {
  demand_due_soon: ["soon", " amber", N_("即将超期")],
  demand_overdue: ["overdue", " red", N_("已超期")],
};

function warningBadge(kind) {
  const [level, tone, text] = WARNINGS[kind] || [];
  return level ? html`<span class="badge${tone}" data-warning="${level}">${t(text)}</span> ` : "";
}

function item(n) {
  const fresh = !n.data.read_at;
  const unreadText = t("未读");
  return html`<li class="${fresh ? "unread" : ""}"><a href="${opens(n)}" data-action="open-notice" data-notice="${n.id}">
    <span class="title">${fresh ? html`<span class="dot" aria-label="${unreadText}"></span>` : ""}${warningBadge(n.data.kind)}${n.data.title}</span>
    <span class="meta">${n.data.body}</span>
    <span class="meta"><time datetime="${n.data.created_at}">${when(n.data.created_at)}</time>${fresh ? "" : html` · ${t("已读")}`}</span>
  </a></li>`;
}

// Unread notices by kind, newest kind first: one heading per kind, its count when several wait.
function groups(list) {
  const byKind = new Map();
  for (const n of list) {
    if (!byKind.has(n.data.kind)) byKind.set(n.data.kind, []);
    byKind.get(n.data.kind).push(n);
  }
  return [...byKind.values()];
}

export const screen = {
  name: "inbox",
  async render(app) {
    const notices = await loadNotices(app.db);
    const waiting = unread(notices);
    const read = notices.filter((n) => n.data.read_at).slice(0, KEPT);
    const summary = waiting.length > 1
      ? html`<p class="summary" id="inbox-summary">${t("%(n)s 条未读消息：", { n: waiting.length })}${groups(waiting).map((g) => `${g[0].data.title}${g.length > 1 ? t("（%(n)s条）", { n: g.length }) : ""}`).join("；")}</p>`
      : "";
    const unreadList = groups(waiting).map((g) => html`<section class="notices" data-kind="${g[0].data.kind}">
      ${g.length > 1 ? html`<h2>${g[0].data.title} <span class="muted">（${g.length}）</span></h2>` : ""}
      <ul class="list">${g.map(item)}</ul>
    </section>`);
    const empty = !notices.length ? html`<section class="card" data-empty><p class="muted">${t("还没有消息。派单、督办、出行卡审核结果等会在这里告诉您，不联网也能看到上次同步收到的消息。")}</p></section>` : "";
    return html`<section id="inbox" data-unread="${waiting.length}">
      <h1 class="visually-hidden">${t("消息")}</h1>
      ${summary}${unreadList}${empty}
      ${read.length ? html`<section class="notices read"><h2>${t("已读")}</h2><ul class="list">${read.map(item)}</ul></section>` : ""}
    </section>`;
  },
  actions: {
    async "open-notice"(app, link) {
      const notice = (await allOf(app.db, "notice")).find((n) => n.id === link.dataset.notice);
      if (notice && !notice.data.read_at) await app.write("notice.read", { notice_id: notice.id });
      const href = link.getAttribute("href");
      if (href.startsWith("#")) app.go(href);
      else location.assign(href); // an office page: the read step waits in the outbox till the app is back
    },
  },
};
