// The field app: who is signed in, which screen shows, and the wiring of
// the page's events to screens, the scheduler and the status line.
"use strict";

import { currentUser, getMeta, migrateOutbox, openUserDb, setCurrentUser, setMeta } from "./db.js";
import { loadLanguage, refreshLabels, rule, t } from "./i18n.js";
import { leave, wipeAccount } from "./leaving.js";
import { enqueue, rebuildOverlay, status } from "./store.js";
import { restoreShot, takePhoto, wirePhotos } from "./photos.js";
import { loadCodes, refreshCodes } from "./qr.js";
import { forget as forgetPush, refresh as refreshPush } from "./push.js";
import { createScheduler } from "./scheduler.js";
import { renderBanner, renderStatus } from "./status.js";
import { noteWaiting, updateDue } from "./updates.js";
import { html } from "./ui.js";
import { arrive, arrived, previous, repainted, returnTo } from "./navigation.js";
import * as drafts from "./drafts.js";
import { navigated, say } from "./notice.js";
import { FIRST_SYNC, FRAME, LOGIN, ROUTES, TABS } from "./screens/index.js";

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
  statusReads: 0,
  download: null, // { received, total } while a download from scratch runs

  go(hash) {
    if (location.hash === hash) this.render();
    else location.hash = hash;
  },

  // After a save: back where the form was opened from, showing the record written
  // (`land`, a selector), so the back arrow never reopens the form.
  returnTo(hash, land = null) {
    dropSubmittedDraft();
    const from = location.hash;
    if (!returnTo(hash, land)) render({ from });
  },

  async write(name, args) {
    const entry = await enqueue(this.db, this.me, name, args);
    await dropSubmittedDraft();
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
    say(message);
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
  signIn: (user, owing) => signIn(user, owing),
  updateRequired: () => requireUpdate(),
  signOut: () => signOut(),
  accountDisabled: (username) => accountDisabled(username),
};
window.doorstep = app; // for the browser tests and for people debugging on a phone

const scheduler = createScheduler(app, { refresh, showStatus, progress });

// A download from scratch (the first sync) has a screen of its own with a real
// count, never the emptied login form under "正在同步".
function progress(p) {
  app.download = p && !app.status?.lastSync ? p : null;
  if (app.download && document.getElementById("view").dataset.screen === FIRST_SYNC.name) render();
}

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
async function refresh() {
  await Promise.all([refreshLabels(), refreshCodes(app.db)]);
  return render({ background: true });
}

// A navigation whose screen is not painted yet. A render that starts meanwhile
// (a sync finishing) supersedes it, so that render must scroll in its place.
let arrival = null; // { y }

// `from` is set for a navigation (the address left): it decides the scroll position.
async function render({ background = false, from = undefined } = {}) {
  if (background && !arrival && isEditing()) return;
  if (from !== undefined) arrival = { y: arrive(from) };
  const view = document.getElementById("view");
  const ticket = ++renderCount;
  const { screen, params } = !app.me ? { screen: LOGIN, params: [] } : app.download ? { screen: FIRST_SYNC, params: [] } : match(location.hash);
  frame = { screen, params };
  let content;
  try {
    content = await screen.render(app, params);
  } catch (error) {
    console.error(error);
    content = html`<section class="card"><p class="error">${t("页面出错了：")}${String(error.message || error)}</p></section>`;
  }
  if (ticket !== renderCount) return; // a newer render started meanwhile
  if (background && !arrival && isEditing()) return; // typing started while this refresh was being built
  const landing = arrival;
  arrival = null;
  if (landing) navigated();
  view.innerHTML = String(content);
  view.dataset.screen = screen.name || "";
  app.forms = screen.forms || {};
  app.actions = screen.actions || {};
  renderTabs();
  renderAppBar(screen);
  await restoreDrafts(view);
  if (landing) arrived(landing.y);
  else repainted();
  view.dispatchEvent(new CustomEvent("rendered", { bubbles: true }));
}

let frame = null; // the screen on show and its parameters, for the back arrow

function renderAppBar(screen) {
  const { title, up } = FRAME[screen.name] || {};
  document.getElementById("apptitle").textContent = title ? t(title) : t("家门口");
  const back = document.getElementById("back");
  back.hidden = !up;
  back.setAttribute("aria-label", t("返回"));
}

function goBack() {
  const { up } = FRAME[frame?.screen.name] || {};
  if (previous() !== null) {
    history.back();
  } else if (up) {
    // Opened directly: up in this entry's place, so back from there goes further up.
    history.replaceState(null, "", up(frame.params));
    render({ from: null });
  }
}

function renderTabs() {
  const nav = document.getElementById("tabbar");
  if (!app.me) {
    nav.innerHTML = "";
    return;
  }
  const path = location.hash || "#/";
  nav.innerHTML = TABS.map(([href, text]) => {
    const current = href === "#/" ? path === "#/" : href === "#/households" ? path.startsWith(href) || path.startsWith("#/h/") : path.startsWith(href);
    const due = app.status ? app.status.waiting + app.status.rejected + (app.status.conflicts || 0) : 0;
    const count = href === "#/outbox" ? due : href === "#/inbox" ? app.status?.unread || 0 : 0;
    return String(html`<a href="${href}" ${current ? html`aria-current="page"` : ""}>${t(text)}${count ? html` <span class="count">${count}</span>` : ""}</a>`);
  }).join("");
}

// --- drafts: nothing typed is lost -----------------------------------------------

let submitted = null; // the draft key of the form being saved

async function dropSubmittedDraft() {
  const key = submitted;
  submitted = null;
  if (key && app.db) await drafts.drop(app.db, key);
}

async function restoreDrafts(view) {
  if (!app.db) return;
  for (const form of view.querySelectorAll("form")) {
    if (!drafts.kept(form) || !(await drafts.restore(app.db, form, restoreShot))) continue;
    form.insertAdjacentHTML("afterbegin", String(html`<p class="draft-note" role="status">${t("已恢复上次没保存的内容。")}
      <button type="button" class="small" data-action="discard-draft">${t("放弃草稿")}</button></p>`));
  }
}

function dirtyForm() {
  return [...document.querySelectorAll("#view form[data-dirty]")].find(drafts.kept) || null;
}

// Leaving a changed form by a link or the back arrow asks first (the draft stays either way).
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target.closest("a[href^='#'], [data-action=back]") : null;
  if (!target || !dirtyForm() || target.closest("form")) return;
  if (!confirm(t("这张表还没有保存。已填的内容会留在手机上，回来可以接着填。确定离开吗？"))) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

window.addEventListener("beforeunload", (event) => {
  const form = dirtyForm();
  if (!form || !app.db) return;
  drafts.save(app.db, form).catch(() => {});
  event.preventDefault();
  event.returnValue = "";
});

function isEditing() {
  const active = document.activeElement;
  const focused = Boolean(active && active.closest && active.closest("form") && active.matches("input, textarea, select"));
  return focused || Boolean(document.querySelector("#view form[data-dirty]"));
}

document.addEventListener("input", (event) => {
  const form = event.target instanceof Element ? event.target.closest("form") : null;
  if (!form) return;
  form.dataset.dirty = "1";
  if (app.db && drafts.kept(form)) drafts.saveSoon(app.db, form);
});

// The tab bar's 待同步 and 消息 counts go with the status line.
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

async function signIn(user, owing = []) {
  await setCurrentUser(user);
  await openAs(user);
  await warnOtherPhones(owing);
  app.signedOut = false;
  history.replaceState(null, "", "#/");
  progress({ received: 0, total: null });
  await render({ from: null });
  await scheduler.runSync();
  sendPushSubscription();
}

// Signing in on a new phone while another of this worker's phones still owes work
// (docs/sync.md "Device reports"): say so until the app is closed; this phone is not "another".
async function warnOtherPhones(owing) {
  const mine = await getMeta(app.db, "client_id", null);
  const others = owing.filter((p) => p.client_id !== mine);
  const owed = others.reduce((n, p) => n + (p.owed || 0), 0);
  app.otherPhones = others.length
    ? t("您的另一台手机上还有 %(n)s 条记录没有同步。请用那台手机联网同步一次，或在那台手机“我的”页导出救援文件交给社区。", { n: owed })
    : "";
  renderBanner(app);
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
  if (location.hash === "#/login") await render();
  else location.hash = "#/login";
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
  await loadCodes(app.db);
  await app.refreshStatus();
}

// --- the service worker and updates -------------------------------------------------

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.register("/app/sw.js", { type: "module", scope: "/app/" });
  app.registration = registration;
  const watch = (worker) => {
    if (!worker) return;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) noteUpdate(worker);
    });
  };
  if (registration.waiting && navigator.serviceWorker.controller) noteUpdate(registration.waiting);
  watch(registration.installing);
  registration.addEventListener("updatefound", () => watch(registration.installing));
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (app.updateAccepted) reloadOnce();
  });
  navigator.serviceWorker.addEventListener("message", (event) => scheduler.fromWorker(event.data));
  setInterval(() => registration.update().catch(() => {}), 30 * 60 * 1000);
}

// A new version waits for the worker's consent ("现在更新"), unless the server no longer
// takes this version's pushes (requireUpdate), or it has waited out the grace period (updates.js).
function noteUpdate(worker) {
  app.updateWaiting = worker;
  if (app.mustUpdate) { applyUpdate(); return; }
  noteWaiting(document.body.dataset.version);
  renderBanner(app);
}

// Called on a navigation (and when the app opens): the worker is between screens, so a
// version that has waited out its grace period takes over if nothing waits to be synced.
function applyDueUpdate() {
  if (!app.updateWaiting || app.updateAccepted || !app.status) return;
  const graceDays = rule("update")?.grace_days;
  if (updateDue({ running: document.body.dataset.version, graceDays, waiting: app.status.waiting })) applyUpdate();
}

// The server refused a push from this version (426, setting app.require_latest): update now,
// whatever waits (the outbox is migrated, never dropped), and sync again from the new version.
function requireUpdate() {
  app.mustUpdate = true;
  if (app.updateWaiting) applyUpdate();
  else app.registration?.update().catch(() => {});
}

let reloading = false;
function reloadOnce() {
  if (reloading) return;
  reloading = true;
  location.reload();
}

function applyUpdate() {
  app.updateAccepted = true;
  const told = new Set();
  const tell = () => {
    // The registration's own waiting worker: the one first seen may have been replaced since.
    const worker = app.registration?.waiting || app.updateWaiting;
    if (!worker || worker.state === "redundant") return;
    if (worker.state === "activated") { reloadOnce(); return; }
    // The new version is in charge once it is activated, whether or not this page saw the controller change.
    if (!told.has(worker)) worker.addEventListener("statechange", () => { if (worker.state === "activated") reloadOnce(); });
    told.add(worker);
    worker.postMessage({ type: "SKIP_WAITING" });
  };
  tell();
  // A newer deploy can replace the worker told before it took over: tell the one waiting then.
  const again = setInterval(() => (reloading ? clearInterval(again) : tell()), 5000);
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
  if (name === "discard-draft") {
    event.preventDefault();
    const form = target.closest("form");
    if (form && app.db) await drafts.drop(app.db, drafts.draftKey(form));
    await render();
    return;
  }
  if (name === "back") {
    event.preventDefault();
    goBack();
    return;
  }
  if (name === "apply-update" && app.updateWaiting) {
    event.preventDefault();
    applyUpdate();
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
  submitted = drafts.kept(form) ? drafts.draftKey(form) : null;
  try {
    await handler(app, form, new FormData(form));
  } finally {
    submitted = null;
    if (button) button.disabled = false;
  }
});

// A photo taken or deleted is kept in the form's draft at once, as typing is.
wirePhotos(app, async (form) => {
  if (!form || !app.db || !drafts.kept(form)) return;
  form.dataset.dirty = "1";
  await drafts.save(app.db, form);
});

// Opening the camera can kill the tab on a cheap phone: what is typed is saved first.
document.addEventListener("click", (event) => {
  const input = event.target instanceof HTMLInputElement && event.target.type === "file" ? event.target : null;
  const form = input && input.closest("form");
  if (form && app.db && drafts.kept(form) && form.dataset.dirty) drafts.save(app.db, form).catch(() => {});
});

window.addEventListener("hashchange", async (event) => {
  await render({ from: new URL(event.oldURL).hash });
  applyDueUpdate();
});

// --- start ---------------------------------------------------------------------------

async function start() {
  await loadLanguage();
  const registering = registerWorker().catch((error) => console.warn("service worker", error));
  const user = await currentUser();
  // replaceState fires no hashchange: the first screen is painted once, so nothing
  // a fast typist has entered is wiped by a second paint.
  if (user) {
    await openAs(user);
    if (!location.hash || location.hash === "#/login") history.replaceState(null, "", "#/");
  } else {
    history.replaceState(null, "", "#/login");
  }
  await render({ from: null });
  showStatus();
  document.body.dataset.ready = "1";
  checkStorage();
  if (app.me) scheduler.scheduleSync(0);
  if (app.me) sendPushSubscription();
  registering.then(applyDueUpdate);
}

// Browsers rotate push subscriptions: the server gets the current one on every start.
function sendPushSubscription() {
  refreshPush(app).catch((error) => console.warn("push subscription", error));
}

start();
