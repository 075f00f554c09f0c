// Signing in (online once; the session then lasts 30 days) and the account screen.
"use strict";

import { setLanguage, t } from "../i18n.js";
import * as push from "../push.js";
import { NoRescueKey, rescueFile } from "../rescue.js";
import { ago, html } from "../ui.js";

export const login = {
  name: "login",
  async render(app) {
    const offline = !navigator.onLine;
    return html`<section class="card narrow">
      <h1>${t("登录家门口")}</h1>
      <p class="muted">${t("第一次需要联网登录；之后没有网络也能走访、登记，联网后自动同步。")}</p>
      ${offline ? html`<p class="error">${t("现在没有网络，联网后才能登录。")}</p>` : ""}
      <p class="error" id="login-error" hidden></p>
      <form data-form="login" class="stack">
        <label>${t("用户名")}<input name="username" autocomplete="username" autocapitalize="none" required></label>
        <label>${t("密码")}<input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit" class="primary">${t("登录")}</button>
      </form>
    </section>`;
  },
  forms: {
    async login(app, form, data) {
      const error = form.parentElement.querySelector("#login-error");
      let response;
      try {
        response = await fetch("/sync/login", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ username: data.get("username"), password: data.get("password") }),
        });
      } catch (_) {
        error.textContent = t("连不上服务器，请联网后再登录。");
        error.hidden = false;
        return;
      }
      if (response.status === 403 && (await refusal(response)) === "account_disabled") {
        await app.accountDisabled(String(data.get("username")).trim());
        await app.render();
        const shown = document.getElementById("login-error");
        shown.textContent = t("账号已停用，手机上的资料已删除，请联系社区。");
        shown.hidden = false;
        return;
      }
      if (!response.ok) {
        error.textContent = response.status === 429 ? t("尝试次数太多，请稍后再试。") : t("用户名或密码不对。");
        error.hidden = false;
        return;
      }
      const body = await response.json();
      await app.signIn(body.user, body.owing_phones || []);
    },
  },
};

// The first download after signing in, with a real count (docs/sync.md "Download progress").
export const firstSync = {
  name: "first-sync",
  async render(app) {
    const p = app.download || { received: 0, total: null };
    const number = (n) => n.toLocaleString("zh-CN");
    return html`<section class="card narrow" id="first-sync" data-received="${p.received}" data-total="${p.total ?? ""}">
      <h1>${t("正在把您网格的资料下载到手机上")}</h1>
      ${p.total === null
        ? html`<p role="status">${t("正在连接服务器…")}</p>`
        : html`<p role="status" id="first-sync-count">${t("正在下载您网格的住户… %(done)s / %(total)s", { done: number(p.received), total: number(p.total) })}</p>
          <progress max="${Math.max(p.total, 1)}" value="${p.received}" aria-label="${t("下载进度")}"></progress>`}
      <p class="muted">${t("下载完以后，没有网络也能走访、登记。请保持联网，不要关闭页面。")}</p>
    </section>`;
  },
};

async function refusal(response) {
  try {
    return (await response.json()).error;
  } catch (_) {
    return null;
  }
}

function signOutCard(app, s) {
  const n = s.waiting + s.rejected;
  if (app.confirmingSignOut && n) {
    return html`<section class="card" id="sign-out-confirm" role="alertdialog" aria-labelledby="sign-out-title">
      <h2 id="sign-out-title">${t("确定退出登录吗？")}</h2>
      <p class="error">${t("还有 %(n)s 条没有同步，只保留这些，其余住户资料会从手机上删除。您再次登录后，它们会继续同步。", { n })}</p>
      <div class="actions">
        <button type="button" class="danger" data-action="logout-confirmed">${t("仍然退出")}</button>
        <button type="button" data-action="logout-cancel">${t("取消")}</button>
      </div>
    </section>`;
  }
  return html`<section class="card">
      <h2>${t("退出登录")}</h2>
      ${n
        ? html`<p class="error">${t("还有 %(n)s 条没有同步。退出后只有它们留在这台手机上，您再次登录后会继续同步；其余住户资料会从手机上删除。", { n })}</p>`
        : html`<p class="muted">${t("所有内容都已同步。退出后，住户资料会从这台手机上删除。")}</p>`}
      <button type="button" class="danger" data-action="logout">${t("退出登录")}</button>
    </section>`;
}

export const me = {
  name: "me",
  async render(app) {
    const s = app.status || { waiting: 0, rejected: 0 };
    const persisted = navigator.storage?.persisted ? await navigator.storage.persisted() : false;
    const estimate = navigator.storage?.estimate ? await navigator.storage.estimate() : {};
    const used = estimate.usage ? (estimate.usage / 1e6).toFixed(1) : "?";
    return html`<section class="card">
      <h1>${app.me.display_name}</h1>
      <dl class="facts">
        <dt>${t("用户名")}</dt><dd>${app.me.username}</dd>
        <dt>${t("负责网格")}</dt><dd>${app.me.grid_ids.length}</dd>
        <dt>${t("待同步")}</dt><dd>${s.waiting}</dd>
        <dt>${t("被退回")}</dt><dd>${s.rejected}</dd>
        <dt>${t("上次同步")}</dt><dd>${ago(s.lastSync)}</dd>
        <dt>${t("本机存储")}</dt><dd>${used} MB${persisted ? html` · ${t("已设为持久保存")}` : ""}</dd>
      </dl>
      <div class="actions">
        <button type="button" data-action="sync-now" class="primary">${t("立即同步")}</button>
        <a class="button" href="/households">${t("打开办公页面")}</a>
      </div>
    </section>
    ${rescueCard(s)}
    ${notifications()}
    <section class="card">
      <h2>${t("语言")}</h2>
      <div class="actions">
        <button type="button" data-action="lang" data-lang="zh">中文</button>
        <button type="button" data-action="lang" data-lang="en">English</button>
      </div>
    </section>
    ${signOutCard(app, s)}`;
  },
  actions: {
    async logout(app) {
      const s = app.status || { waiting: 0, rejected: 0 };
      if (!s.waiting && !s.rejected) {
        await app.signOut();
        return;
      }
      app.confirmingSignOut = true; // asked on the page, where the worker reads what stays
      await app.render();
      document.getElementById("sign-out-confirm")?.scrollIntoView();
    },
    async "logout-confirmed"(app) {
      await app.signOut();
    },
    async "logout-cancel"(app) {
      app.confirmingSignOut = false;
      await app.render();
    },
    async "enable-push"(app) {
      try {
        const answer = await push.enable(app);
        app.say(answer === "granted" ? t("已开启通知。") : t("没有开启通知。以后可以在这里再开启。"));
      } catch (error) {
        app.say(t("开启通知没有成功：%(why)s", { why: String(error.message || error) }));
      }
      await app.render();
    },
    async "export-rescue"(app) {
      let file;
      try {
        file = await rescueFile(app.db, app.me);
      } catch (error) {
        app.say(error instanceof NoRescueKey
          ? t("这台手机还没有救援密钥：请先联网同步一次。")
          : t("导出没有成功：%(why)s", { why: String(error.message || error) }));
        return;
      }
      const day = new Date().toISOString().slice(0, 10);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([file.text], { type: "application/json" }));
      link.download = `doorstep-rescue-${app.me.username}-${day}.json`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      app.say(t("已导出救援文件：%(n)s 条记录，%(p)s 张照片。请把文件交给社区导入。", { n: file.entries, p: file.photos }));
    },
    async lang(app, button) {
      setLanguage(button.dataset.lang);
      location.reload();
    },
  },
};

// The last resort when this phone cannot sync (docs/sync.md "Rescue file").
function rescueCard(s) {
  return html`<section class="card" id="rescue">
      <h2>${t("救援文件")}</h2>
      <p class="muted">${t("手机一直无法同步时（比如要换手机、浏览器出错），把还没有同步的记录和照片导出成一个文件，交给社区导入。已经同步过的不会重复。")}</p>
      <button type="button" data-action="export-rescue"${s.waiting ? "" : " disabled"}>${t("导出救援文件")}</button>
    </section>`;
}

// Asked only here, from a tap, with the reason first (never on its own at start or sign-in).
function notifications() {
  const state = push.permission();
  const action = {
    unsupported: html`<p class="muted">${t("这个浏览器不支持通知。把家门口添加到手机主屏幕后再试。")}</p>`,
    denied: html`<p class="error">${t("通知已被关闭。如需开启，请在浏览器的网站设置里允许通知。")}</p>`,
    granted: html`<p>${t("已开启通知。")}</p>`,
    default: html`<button type="button" class="primary" data-action="enable-push">${t("开启通知")}</button>`,
  }[state];
  return html`<section class="card" id="notifications" data-permission="${state}">
      <h2>${t("通知")}</h2>
      <p class="muted">${t("开启后，诉求派到您的网格、诉求快到期或已超期、出行卡审核有结果、同步冲突等您处理时，手机会提醒您，不用一直开着应用。")}</p>
      ${action}
    </section>`;
}
