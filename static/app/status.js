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
    for (const key of ["pending", "rejected"]) delete el.dataset[key];
    el.classList.toggle("warn", !app.online);
    renderBanner(app);
    return;
  }
  const parts = [app.online ? t("在线") : t("离线")];
  if (app.signedOut) parts.push(t("需要重新登录"));
  else if (app.syncing) parts.push(t("正在同步…"));
  if (s.waiting) parts.push(t("%(n)s 条待同步", { n: s.waiting }));
  else if (!s.rejected && s.lastSync) parts.push(t("已全部同步")); // never beside "从未"
  if (s.rejected) parts.push(t("%(n)s 条被退回", { n: s.rejected }));
  parts.push(t("上次同步：%(when)s", { when: ago(s.lastSync) }));
  el.textContent = parts.join(" · ");
  el.dataset.pending = String(s.waiting);
  el.dataset.rejected = String(s.rejected);
  el.dataset.online = String(app.online);
  el.classList.toggle("warn", Boolean(s.waiting || s.rejected || !app.online || app.signedOut));
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
  banner.innerHTML = items.map(String).join("");
}
