// The field app: who is signed in, which screen shows, and the wiring of
// the page's events to screens, the scheduler and the status line.
"use strict";

import { currentUser, migrateOutbox, openUserDb, setCurrentUser, setMeta } from "./db.js";
import { loadLanguage, t } from "./i18n.js";
import { leave, wipeAccount } from "./leaving.js";
import { enqueue, rebuildOverlay, status } from "./store.js";
import { takePhoto, wirePhotos } from "./photos.js";
import { forget as forgetPush, refresh as refreshPush } from "./push.js";
import { createScheduler } from "./scheduler.js";
import { renderBanner, renderStatus } from "./status.js";
import { html } from "./ui.js";
import { LOGIN, ROUTES, TABS } from "./screens/index.js";

const STORAGE_WARNING = 0.8;

const app = {
  db: null,
  me: null,
  status: null,
  online: navigator.onLine,
  syncing: false,
  syncError: null,
  signedOut: false,
  confirmingSignOut: false,
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
    scheduler.requestBackgroundSync();
    await this.refreshStatus();
    scheduler.scheduleSync(0);
  },

  async photo(file) {
    const taken = await takePhoto(this.db, file);
    askPersistence();
    return taken;
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
    showStatus();
  },

  render: () => render(),
  signIn: (user) => signIn(user),
  signOut: () => signOut(),
  accountDisabled: (username) => accountDisabled(username),
};
window.doorstep = app; // for the browser tests and for people debugging on a phone

const scheduler = createScheduler(app, { refresh, showStatus });

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

function isEditing() {
  const active = document.activeElement;
  const focused = Boolean(active && active.closest && active.closest("form") && active.matches("input, textarea, select"));
  return focused || Boolean(document.querySelector("#view form[data-dirty]"));
}

document.addEventListener("input", (event) => {
  const form = event.target instanceof Element ? event.target.closest("form") : null;
  if (form) form.dataset.dirty = "1";
});

// The tab bar's 待同步 count goes with the status line.
function showStatus() {
  renderStatus(app);
  if (app.me && app.status) renderTabs();
}

// --- storage --------------------------------------------------------------------

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
  renderBanner(app);
}

// --- signing in and out ----------------------------------------------------------

async function signIn(user) {
  await setCurrentUser(user);
  await openAs(user);
  app.signedOut = false;
  await scheduler.runSync();
  sendPushSubscription();
}

async function signOut() {
  await forgetPush();
  try {
    await fetch("/sync/logout", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  } catch (_) { /* offline: the cookie expires on its own */ }
  await setCurrentUser(null);
  const { db, me } = app;
  forgetLocally();
  if (db) await leave(db, me.id);
  location.hash = "#/login";
  await render();
}

// `/sync/login` said this account is disabled: nothing of it stays on the phone.
async function accountDisabled(username) {
  if (app.me && app.me.username === username) {
    await forgetPush();
    await setCurrentUser(null);
    if (app.db) app.db.close();
    forgetLocally();
  }
  await wipeAccount(username);
}

function forgetLocally() {
  app.db = null;
  app.me = null;
  app.status = null;
  app.signedOut = false;
  app.confirmingSignOut = false;
  showStatus();
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
        renderBanner(app);
      }
    });
  };
  if (registration.waiting && navigator.serviceWorker.controller) {
    app.updateWaiting = registration.waiting;
    renderBanner(app);
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
  navigator.serviceWorker.addEventListener("message", (event) => scheduler.fromWorker(event.data));
  setInterval(() => registration.update().catch(() => {}), 30 * 60 * 1000);
}

// --- events: one listener each, behaviour named on the elements ------------------------

document.addEventListener("click", async (event) => {
  const target = event.target instanceof Element ? event.target.closest("[data-action]") : null;
  if (!target) return;
  const name = target.dataset.action;
  if (name === "sync-now") {
    event.preventDefault();
    scheduler.scheduleSync(0);
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

wirePhotos(app);

window.addEventListener("hashchange", () => render());

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
  showStatus();
  document.body.dataset.ready = "1";
  checkStorage();
  if (app.me) scheduler.scheduleSync(0);
  if (app.me) sendPushSubscription();
}

// Browsers rotate push subscriptions: the server gets the current one on every start.
function sendPushSubscription() {
  refreshPush(app).catch((error) => console.warn("push subscription", error));
}

start();
