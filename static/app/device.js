// What the phone reports of itself with every push and pull (SYNC.md "Optional
// fields", docs/sync.md "Device reports"): the office reconciles phones with the
// server from it (设备对账). Reading it never stops a sync: what cannot be
// measured here is left out.
"use strict";

import { getMeta, OUTBOX_FORMAT } from "./db.js";
import { blobsToUpload, outboxEntries } from "./store.js";

// The app's version: the shell page carries it; the service worker sets it on itself.
function appVersion() {
  return globalThis.document?.body?.dataset.version || globalThis.doorstepVersion || null;
}

function browserFamily() {
  const ua = globalThis.navigator?.userAgent || "";
  if (/MicroMessenger/i.test(ua)) return "WeChat";
  if (/HarmonyOS/i.test(ua)) return "HarmonyOS";
  if (/Edg\//.test(ua)) return "Edge";
  if (/Firefox\//.test(ua)) return "Firefox";
  if (/Chrom(e|ium)\//.test(ua)) return "Chrome";
  if (/Safari\//.test(ua)) return "Safari";
  return ua ? "other" : null;
}

function installed() {
  const media = globalThis.matchMedia;
  if (typeof media !== "function") return null; // the service worker cannot tell
  return media("(display-mode: standalone)").matches || globalThis.navigator?.standalone === true;
}

async function storage() {
  const out = {};
  try {
    if (navigator.storage?.estimate) {
      const { usage, quota } = await navigator.storage.estimate();
      if (Number.isFinite(usage)) out.storage_used = Math.round(usage);
      if (Number.isFinite(quota)) out.storage_quota = Math.round(quota);
    }
    if (navigator.storage?.persisted) out.persisted = await navigator.storage.persisted();
  } catch (_) { /* not measurable here */ }
  return out;
}

export async function deviceReport(db) {
  try {
    const [entries, photos, format, store] = await Promise.all([
      outboxEntries(db), blobsToUpload(db), getMeta(db, "outbox_format", OUTBOX_FORMAT), storage(),
    ]);
    const pending = entries.filter((e) => e.status === "pending");
    const oldest = pending.map((e) => e.at).filter(Boolean).sort()[0] || null;
    const next = (await getMeta(db, "next_mutation_id", 1)) || 1;
    const report = {
      app_version: appVersion(),
      outbox_format: format,
      pending: pending.length,
      oldest_pending_at: oldest,
      max_mutation_id: Math.max(0, next - 1, ...entries.map((e) => e.id)),
      rejected: entries.filter((e) => e.status === "rejected" && !e.dismissed).length,
      photos_waiting: photos.length,
      installed: installed(),
      browser: browserFamily(),
      ...store,
    };
    return Object.fromEntries(Object.entries(report).filter(([, v]) => v !== null && v !== undefined));
  } catch (_) {
    return undefined;
  }
}
