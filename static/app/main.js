// The field app: who is signed in, which screen shows, when to sync, and
// the status line that never claims "all synced" while anything waits.
"use strict";

import { currentUser, migrateOutbox, openUserDb, setCurrentUser, setMeta } from "./db.js";
import { loadLanguage, t } from "./i18n.js";
import { enqueue, rebuildOverlay, status } from "./store.js";
import { failureOf, syncOnce } from "./sync.js";
import { takePhoto } from "./photos.js";
import { forget as forgetPush, refresh as refreshPush } from "./push.js";
import { ago, html } from "./ui.js";
import { LOGIN, ROUTES, TABS } from "./screens/index.js";

const RETRY_DELAYS = [5, 10, 30, 60, 120]; // seconds, while something waits
const STORAGE_WARNING = 0.8;

const app = {
  db: null,
  me: null,
  status: null,
  online: navigator.onLine,
  syncing: false,
  syncError: null,
  signedOut: false,
  failures: 0,
  timer: null,
  updateWaiting: null,
  storageWarning: "",
  forms: {},
  actions: {},
  notice: "",
  statusReads: 0,

  go(hash) {
    if (location.hash === hash) this.render();
    else location.hash = hash;
  },

  async write(name, args) {
    const entry = await enqueue(this.db, this.me, name, args);
    await this.afterWrite();
    return entry;
  },

  async afterWrite() {
    askPersistence();
    requestBackgroundSync();
    await this.refreshStatus();
    scheduleSync(0);
  },

  async photo(file) {
    const sha = await takePhoto(this.db, file);
    askPersistence();
    return sha;
  },

  say(message) {
    this.notice = message;
  },

  async refreshStatus() {
    if (!this.db) return;
    // A read begun before a write can finish after the write's own refresh: only
    // the latest-begun read may paint, or the status line shows a stale count.
    const ticket = ++this.statusReads;
    const fresh = await status(this.db);
    if (ticket !== this.statusReads) return;
    this.status = fresh;
    renderStatus();
  },

  render: () => render(),
  signIn: (user) => signIn(user),
  signOut: () => signOut(),
};
window.doorstep = app; // for the browser tests and for people debugging on a phone

// --- screens -----------------------------------------------------------------

function match(hash) {
  const path = hash.replace(/^#/, "").split("?")[0] || "/";
  for (const [pattern, screen] of ROUTES) {
    const m = path.match(pattern);
    if (m) return { screen, params: m.slice(1).map(decodeURIComponent) };
  }
  return { screen: ROUTES[0][1], params: [] };
}

let renderCount = 0;

// A refresh after a sync must never wipe what someone is typing: it is skipped
// while a form on screen has input (the next navigation shows the new data).
function refresh() {
  return render({ background: true });
}

async function render({ background = false } = {}) {
  if (background && isEditing()) return;
  const view = document.getElementById("view");
  const ticket = ++renderCount;
  const { screen, params } = app.me ? match(location.hash) : { screen: LOGIN, params: [] };
  let content;
  try {
    content = await screen.render(app, params);
  } catch (error) {
    console.error(error);
    content = html`<section class="card"><p class="error">${t("页面出错了：")}${String(error.message || error)}</p></section>`;
  }
  if (ticket !== renderCount) return; // a newer render started meanwhile
  if (background && isEditing()) return; // typing started while this refresh was being built
  const notice = app.notice ? html`<p class="notice" role="status">${app.notice}</p>` : "";
  app.notice = "";
  view.innerHTML = String(notice) + String(content);
  view.dataset.screen = screen.name || "";
  app.forms = screen.forms || {};
  app.actions = screen.actions || {};
  renderTabs();
  view.dispatchEvent(new CustomEvent("rendered", { bubbles: true }));
}

function renderTabs() {
  const nav = document.getElementById("tabbar");
  if (!app.me) {
    nav.innerHTML = "";
    return;
  }
  const path = location.hash || "#/";
  nav.innerHTML = TABS.map(([href, text]) => {
    const current = href === "#/" ? path === "#/" || path.startsWith("#/h/") : path.startsWith(href);
    return String(html`<a href="${href}" ${current ? html`aria-current="page"` : ""}>${t(text)}${href === "#/outbox" && app.status && app.status.waiting + app.status.rejected ? html` <span class="count">${app.status.waiting + app.status.rejected}</span>` : ""}</a>`);
  }).join("");
}

// --- the status line -----------------------------------------------------------

function renderStatus() {
  const el = document.getElementById("syncstate");
  if (!el) return;
  const s = app.status;
  if (!app.me || !s) {
    el.textContent = app.online ? t("在线") : t("离线");
    return;
  }
  const parts = [app.online ? t("在线") : t("离线")];
  if (app.signedOut) parts.push(t("需要重新登录"));
  else if (app.syncing) parts.push(t("正在同步…"));
  if (s.waiting) parts.push(t("%(n)s 条待同步", { n: s.waiting }));
  else if (!s.rejected) parts.push(t("已全部同步"));
  if (s.rejected) parts.push(t("%(n)s 条被退回", { n: s.rejected }));
  parts.push(t("上次同步：%(when)s", { when: ago(s.lastSync) }));
  el.textContent = parts.join(" · ");
  el.dataset.pending = String(s.waiting);
  el.dataset.rejected = String(s.rejected);
  el.dataset.online = String(app.online);
  el.classList.toggle("warn", Boolean(s.waiting || s.rejected || !app.online || app.signedOut));
  renderBanner();
  renderTabs();
}

function renderBanner() {
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

// --- syncing -------------------------------------------------------------------

function scheduleSync(seconds) {
  clearTimeout(app.timer);
  app.timer = setTimeout(() => runSync(), seconds * 1000);
}

async function runSync() {
  if (!app.me || app.syncing) return;
  app.syncing = true;
  renderStatus();
  let result = null;
  try {
    result = await syncOnce(app.db, app.me);
    if (result === "done") {
      noteSuccess();
      channel.postMessage({ type: "synced" });
    }
  } catch (error) {
    noteFailure(failureOf(error));
  } finally {
    app.syncing = false;
  }
  await app.refreshStatus();
  await refresh();
  scheduleSync(nextDelay(result));
}

// While anything waits, try again on a timer that backs off (no error loop).
function nextDelay(result) {
  const waiting = app.status && app.status.waiting > 0 && !app.signedOut;
  if (!waiting || !navigator.onLine) return 300; // a quiet pull every five minutes; `online` retries at once
  // Another tab or the service worker holds the lock: look again soon, its outcome decides the backoff.
  if (result === "busy") return RETRY_DELAYS[0];
  return RETRY_DELAYS[Math.min(app.failures, RETRY_DELAYS.length - 1)];
}

// The same for the page's own attempts, other tabs' and the service worker's (its Background Sync).
function noteSuccess() {
  app.failures = 0;
  app.syncError = null;
  app.signedOut = false;
  app.online = true;
}

function noteFailure({ kind, message }) {
  if (kind === "signed-out") app.signedOut = true;
  else if (kind === "refused") app.syncError = t("同步被服务器拒绝：%(why)s", { why: message });
  else {
    app.online = navigator.onLine;
    app.syncError = navigator.onLine ? t("暂时连不上服务器，稍后会自动重试。") : null;
  }
  // Being offline is no fault of the server and must not stretch the backoff.
  if (navigator.onLine) app.failures += 1;
}

function isEditing() {
  const active = document.activeElement;
  const focused = Boolean(active && active.closest && active.closest("form") && active.matches("input, textarea, select"));
  return focused || Boolean(document.querySelector("#view form[data-dirty]"));
}

document.addEventListener("input", (event) => {
  const form = event.target instanceof Element ? event.target.closest("form") : null;
  if (form) form.dataset.dirty = "1";
});

function requestBackgroundSync() {
  navigator.serviceWorker?.ready.then((registration) => registration.sync?.register("doorstep-sync")).catch(() => {});
}

let persistenceAsked = false;
async function askPersistence() {
  if (persistenceAsked || !navigator.storage?.persist) return;
  persistenceAsked = true;
  try {
    if (!(await navigator.storage.persisted())) await navigator.storage.persist();
  } catch (_) { /* not granted: we still keep working */ }
  checkStorage();
}

async function checkStorage() {
  if (!navigator.storage?.estimate) return;
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  app.storageWarning = quota && usage / quota > STORAGE_WARNING
    ? t("手机存储空间快满了（已用 %(pct)s%%）。请尽快联网同步，并清理手机空间。", { pct: Math.round((usage / quota) * 100) })
    : "";
  renderBanner();
}

// --- signing in and out ----------------------------------------------------------

async function signIn(user) {
  await setCurrentUser(user);
  await openAs(user);
  app.signedOut = false;
  await runSync();
  sendPushSubscription();
}

async function signOut() {
  // The user's database stays: their unsynced work waits for their next sign-in.
  await forgetPush();
  try {
    await fetch("/sync/logout", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  } catch (_) { /* offline: the cookie expires on its own */ }
  await setCurrentUser(null);
  if (app.db) app.db.close();
  app.db = null;
  app.me = null;
  app.status = null;
  location.hash = "#/login";
  await render();
}

async function openAs(user) {
  if (app.db) app.db.close();
  app.me = user;
  app.db = await openUserDb(user.id);
  await migrateOutbox(app.db);
  await setMeta(app.db, "user", user);
  await rebuildOverlay(app.db, user);
  await app.refreshStatus();
}

// --- the service worker and updates -------------------------------------------------

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.register("/app/sw.js", { type: "module", scope: "/app/" });
  const watch = (worker) => {
    if (!worker) return;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) {
        app.updateWaiting = worker;
        renderBanner();
      }
    });
  };
  if (registration.waiting && navigator.serviceWorker.controller) {
    app.updateWaiting = registration.waiting;
    renderBanner();
  }
  watch(registration.installing);
  registration.addEventListener("updatefound", () => watch(registration.installing));
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (app.updateAccepted && !reloading) {
      reloading = true;
      location.reload();
    }
  });
  navigator.serviceWorker.addEventListener("message", (event) => {
    const type = event.data?.type;
    if (type === "synced") syncedElsewhere();
    else if (type === "sync-failed") {
      noteFailure(event.data);
      renderStatus();
    } else if (type === "push") {
      app.refreshStatus().then(refresh);
      scheduleSync(0);
    }
  });
  setInterval(() => registration.update().catch(() => {}), 30 * 60 * 1000);
}

// --- events: one listener each, behaviour named on the elements ------------------------

const channel = new BroadcastChannel("doorstep");
channel.onmessage = (event) => {
  if (event.data?.type === "synced") syncedElsewhere();
};

// Another tab or the service worker finished a sync: its data is ours, and so is its success.
async function syncedElsewhere() {
  if (!app.db) return;
  noteSuccess();
  await app.refreshStatus();
  await refresh();
}

document.addEventListener("click", async (event) => {
  const target = event.target instanceof Element ? event.target.closest("[data-action]") : null;
  if (!target) return;
  const name = target.dataset.action;
  if (name === "sync-now") {
    event.preventDefault();
    scheduleSync(0);
    return;
  }
  if (name === "apply-update" && app.updateWaiting) {
    event.preventDefault();
    app.updateAccepted = true;
    app.updateWaiting.postMessage({ type: "SKIP_WAITING" });
    return;
  }
  const handler = app.actions[name];
  if (handler) {
    event.preventDefault();
    await handler(app, target);
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target;
  const handler = form instanceof HTMLFormElement ? app.forms[form.dataset.form] : null;
  if (!handler) return;
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  try {
    await handler(app, form, new FormData(form));
  } finally {
    if (button) button.disabled = false;
  }
});

document.addEventListener("change", async (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.photo) return;
  const list = document.getElementById(input.dataset.photo);
  for (const file of input.files) {
    const sha = await app.photo(file);
    const limit = Number(input.dataset.max || 12);
    if (list.querySelectorAll("input[type=hidden]").length >= limit) break;
    if (input.dataset.single) list.innerHTML = "";
    list.insertAdjacentHTML("beforeend", String(html`<li><input type="hidden" name="${input.dataset.name || "photos"}" value="${sha}"><span class="badge amber">${t("照片已保存")}</span> <code>${sha.slice(0, 8)}</code></li>`));
  }
  input.value = "";
});

window.addEventListener("hashchange", () => render());
window.addEventListener("online", () => { app.online = true; renderStatus(); scheduleSync(0); });
window.addEventListener("offline", () => { app.online = false; renderStatus(); });
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") scheduleSync(0);
});

// --- start ---------------------------------------------------------------------------

async function start() {
  await loadLanguage();
  registerWorker().catch((error) => console.warn("service worker", error));
  const user = await currentUser();
  if (user) {
    await openAs(user);
    if (!location.hash || location.hash === "#/login") location.hash = "#/";
  } else {
    location.hash = "#/login";
  }
  await render();
  renderStatus();
  document.body.dataset.ready = "1";
  checkStorage();
  if (app.me) scheduleSync(0);
  if (app.me) sendPushSubscription();
}

// Browsers rotate push subscriptions: the server gets the current one on every start.
function sendPushSubscription() {
  refreshPush(app).catch((error) => console.warn("push subscription", error));
}

start();
