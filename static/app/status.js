// The status line and the banner: they never claim "all synced" while anything waits.
"use strict";

import { t } from "./i18n.js";
import { ago, html } from "./ui.js";

export function renderStatus(app) {
  const el = document.getElementById("syncstate");
  if (!el) return;
  const s = app.status;
  if (!app.me || !s) {
    // Signed out: nothing of the last user's counts or warnings stays on screen.
    el.textContent = app.online ? t("在线") : t("离线");
    for (const key of ["pending", "rejected", "conflicts"]) delete el.dataset[key];
    el.title = "";
    el.classList.toggle("warn", !app.online);
    renderBanner(app);
    return;
  }
  // One short line that fits a 360 px phone ("离线 · 9 条待同步"); when it last synced
  // is in the outbox and in the line's title.
  // While a sync runs the first word says so instead of "在线"; an attempt made while
  // offline is only a probe of the network, and "离线 · 正在同步…" would not fit at 360 px.
  const syncing = app.syncing && app.online && !app.signedOut;
  const parts = [syncing ? t("正在同步…") : app.online ? t("在线") : t("离线")];
  if (app.signedOut) parts.push(t("需要重新登录"));
  if (s.waiting) parts.push(t("%(n)s 条待同步", { n: s.waiting }));
  if (s.rejected) parts.push(t("%(n)s 条被退回", { n: s.rejected }));
  if (s.conflicts) parts.push(t("%(n)s 处冲突", { n: s.conflicts }));
  // "All synced" only once a sync has finished: before that, say so.
  if (!s.waiting && !s.rejected && !s.conflicts && !app.syncing) parts.push(s.lastSync ? t("已全部同步") : t("尚未同步"));
  el.textContent = parts.join(" · ");
  el.title = t("上次同步：%(when)s", { when: ago(s.lastSync) });
  el.dataset.pending = String(s.waiting);
  el.dataset.rejected = String(s.rejected);
  el.dataset.conflicts = String(s.conflicts || 0);
  el.dataset.online = String(app.online);
  el.classList.toggle("warn", Boolean(s.waiting || s.rejected || s.conflicts || !app.online || app.signedOut));
  renderBanner(app);
}

export function renderBanner(app) {
  const banner = document.getElementById("banner");
  const items = [];
  if (app.updateWaiting) {
    items.push(html`<p class="update">${t("有新版本。待同步的内容会保留。")} <button type="button" data-action="apply-update" class="primary small">${t("现在更新")}</button></p>`);
  }
  if (app.signedOut) {
    items.push(html`<p class="error">${t("登录已过期。待同步的内容都保存在手机上，重新登录后会继续同步。")} <a href="#/login">${t("重新登录")}</a></p>`);
  }
  if (app.syncError) items.push(html`<p class="error">${app.syncError}</p>`);
  if (app.storageWarning) items.push(html`<p class="error">${app.storageWarning}</p>`);
  if (app.otherPhones) items.push(html`<p class="error" data-other-phones>${app.otherPhones}</p>`);
  banner.innerHTML = items.map(String).join("");
}
