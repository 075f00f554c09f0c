// When the field app syncs: right after a write, when the network or the page
// comes back, on a push, and on a timer that backs off while anything waits.
"use strict";

import { t } from "./i18n.js";
import { failureOf, syncOnce } from "./sync.js";

const RETRY_DELAYS = [5, 10, 30, 60, 120]; // seconds, while something waits

// `refresh` repaints the screen unless someone is typing; `showStatus` the status line;
// `progress` shows how far a download from scratch has come (null when it ends).
export function createScheduler(app, { refresh, showStatus, progress }) {
  const channel = new BroadcastChannel("doorstep");

  function scheduleSync(seconds) {
    clearTimeout(app.timer);
    app.timer = setTimeout(() => runSync(), seconds * 1000);
  }

  async function runSync() {
    if (!app.me || app.syncing) return;
    app.syncing = true;
    showStatus();
    progress({ received: 0, total: null }); // shown only while nothing has ever synced
    let result = null;
    try {
      result = await syncOnce(app.db, app.me, progress);
      if (result === "done") {
        noteSuccess();
        channel.postMessage({ type: "synced" });
      }
    } catch (error) {
      noteFailure(failureOf(error));
    } finally {
      app.syncing = false;
      progress(null);
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
    else if (kind === "update-required") {
      app.syncError = t("需要先更新应用才能同步。待同步的内容都会保留，正在更新…");
      app.updateRequired();
    }
    else {
      app.online = navigator.onLine;
      app.syncError = navigator.onLine ? t("暂时连不上服务器，稍后会自动重试。") : null;
    }
    // Being offline is no fault of the server and must not stretch the backoff.
    if (navigator.onLine) app.failures += 1;
  }

  // Another tab or the service worker finished a sync: its data is ours, and so is its success.
  async function syncedElsewhere() {
    if (!app.db) return;
    noteSuccess();
    await app.refreshStatus();
    await refresh();
  }

  function requestBackgroundSync() {
    navigator.serviceWorker?.ready.then((registration) => registration.sync?.register("doorstep-sync")).catch(() => {});
  }

  // What the service worker tells its pages: a sync of its own, or a push.
  function fromWorker(message) {
    const type = message?.type;
    if (type === "synced") syncedElsewhere();
    else if (type === "sync-failed") {
      noteFailure(message);
      showStatus();
    } else if (type === "push") {
      app.refreshStatus().then(refresh);
      scheduleSync(0);
    }
  }

  channel.onmessage = (event) => {
    if (event.data?.type === "synced") syncedElsewhere();
  };
  window.addEventListener("online", () => { app.online = true; showStatus(); scheduleSync(0); });
  window.addEventListener("offline", () => { app.online = false; showStatus(); });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") scheduleSync(0);
  });

  return { scheduleSync, runSync, requestBackgroundSync, fromWorker };
}
