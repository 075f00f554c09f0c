// The field app's service worker. The server prepends two lines to this file:
//   const VERSION = "<hash of the app files>";  const PRECACHE = [<urls>];
// so every deploy that changes the app is a new worker with its own cache.
// A new worker waits until the user agrees to reload (main.js sends
// SKIP_WAITING); nothing here ever touches the outbox.
/* global VERSION, PRECACHE */
import { currentUser, openUserDb } from "/static/app/db.js";
import { failureOf, syncOnce } from "/static/app/sync.js";

const SHELL = `doorstep-shell-${VERSION}`;
self.doorstepVersion = VERSION; // device.js reports it
const PHOTOS = "doorstep-photos";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL).then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, { cache: "reload" })))),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("doorstep-shell-") && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "SKIP_WAITING") self.skipWaiting();
});

async function fromShell(request) {
  const cache = await caches.open(SHELL);
  return cache.match(request, { ignoreSearch: true });
}

async function photo(request) {
  const cache = await caches.open(PHOTOS);
  const hit = await cache.match(request);
  if (hit) return hit;
  // Not in the HTTP cache too: sign-out can empty Cache Storage, not that.
  const response = await fetch(request, { cache: "no-store" });
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== "GET") return;
  if (url.pathname.startsWith("/sync/blobs/")) {
    event.respondWith(photo(request));
    return;
  }
  if (url.pathname.startsWith("/sync/") || url.pathname.startsWith("/push/")) return; // always the network
  if (url.pathname.startsWith("/app/labels/")) {
    // Admins may rename request fields: fresh when online, the kept copy when not.
    event.respondWith((async () => {
      try {
        const response = await fetch(request);
        if (response.ok) await (await caches.open(SHELL)).put(request, response.clone());
        return response;
      } catch (_) {
        return (await fromShell(request)) || Response.error();
      }
    })());
    return;
  }
  if (request.mode === "navigate" && url.pathname.startsWith("/app")) {
    event.respondWith((async () => {
      if (url.pathname === "/app/offline.html") return (await fromShell(request)) || fetch(request);
      const shell = await fromShell(new Request("/app/"));
      if (shell) return shell;
      try {
        return await fetch(request);
      } catch (_) {
        return (await fromShell(new Request("/app/offline.html"))) || Response.error();
      }
    })());
    return;
  }
  event.respondWith((async () => {
    const cached = await fromShell(request);
    if (cached) return cached;
    try {
      return await fetch(request);
    } catch (error) {
      if (request.mode === "navigate") {
        const fallback = await fromShell(new Request("/app/offline.html"));
        if (fallback) return fallback;
      }
      throw error;
    }
  })());
});

async function syncInWorker() {
  const user = await currentUser();
  if (!user) return;
  const db = await openUserDb(user.id);
  let message = null; // "busy": a page is syncing and tells itself
  try {
    if ((await syncOnce(db, user)) === "done") message = { type: "synced" };
  } catch (error) {
    // The open pages show it as their own (the worker sees the same honest status)
    // and the rejection makes the browser retry this Background Sync later.
    message = { type: "sync-failed", ...failureOf(error) };
    throw error;
  } finally {
    db.close();
    if (message) for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage(message);
  }
}

// Background Sync: the browser wakes us when the network is back, even with the app closed.
self.addEventListener("sync", (event) => {
  if (event.tag === "doorstep-sync") event.waitUntil(syncInWorker());
});

// A push is both news for the worker and a hint to sync now (PRODUCT.md "Push notifications").
// The server sends {title, body, tag, url, kind, count, renotify}; see server/push/outbox.py.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (_) {
    data = { title: "家门口", body: event.data ? event.data.text() : "" };
  }
  event.waitUntil((async () => {
    await self.registration.showNotification(data.title || "家门口", {
      body: data.body || "",
      icon: "/app/icons/icon-192.png",
      badge: "/app/icons/maskable-192.png",
      tag: data.tag || "doorstep",
      renotify: Boolean(data.renotify),
      data: { url: data.url || "/app/", kind: data.kind || "", count: data.count || 1 },
      lang: "zh-CN",
      timestamp: Date.now(),
    });
    for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage({ type: "push", data });
    try {
      await syncInWorker();
    } catch (_) { /* offline: the next sync trigger will do */ }
  })());
});

// Where a notification leads: its record's page, and only ever a page of this site.
function pageOf(notification) {
  const url = new URL(notification.data?.url || "/app/", self.location.origin);
  return url.origin === self.location.origin ? url : new URL("/app/", self.location.origin);
}

// A tap on a notification: bring the app forward on the record's page — the window already
// there, else a window of the app (or, for an office page, one of the office) sent there,
// else a new one. Also run by the OPEN_NOTIFICATION message, so it can be tested without a tap.
async function openNotification(notification) {
  notification.close();
  const target = pageOf(notification);
  const inApp = target.pathname.startsWith("/app/");
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const same = windows.find((client) => client.url === target.href);
  const near = windows.find((client) => new URL(client.url).pathname.startsWith("/app/") === inApp);
  const client = same || near;
  if (client) {
    try {
      await client.focus();
    } catch (_) { /* focusing needs the tap itself; navigating does not */ }
    if (client === same) return client;
    try {
      return await client.navigate(target.href);
    } catch (_) { /* a window this worker does not control (an office page): open a new one */ }
  }
  return self.clients.openWindow(target.href);
}

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(openNotification(event.notification));
});

self.addEventListener("message", (event) => {
  if (event.data?.type !== "OPEN_NOTIFICATION") return;
  event.waitUntil((async () => {
    const [notification] = await self.registration.getNotifications({ tag: event.data.tag });
    if (notification) await openNotification(notification);
  })());
});
