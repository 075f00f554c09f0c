// The sync engine of the phone (SYNC.md): upload photos, push the outbox,
// pull every page. The page and the service worker both run it; a Web Lock
// makes sure only one of them (one tab) syncs at a time.
"use strict";

import { getMeta, setMeta } from "./db.js";
import { deviceReport } from "./device.js";
import { ensureRescueKey } from "./rescue.js";
import { applyPage, blobsToUpload, markUploaded, outboxEntries, recordResults, startOver } from "./store.js";

const BATCH = 100;

class SignedOut extends Error {}      // 401: the session expired; keep everything, ask to sign in
class Unavailable extends Error {}    // offline, 503, or a dropped connection: try later
class Refused extends Error {}        // 4xx on the whole request: a bug or a foreign client id
class UpdateRequired extends Error {} // 426: this version must update before it pushes; keep everything

// What went wrong, as plain data: the service worker posts it to the pages.
export function failureOf(error) {
  if (error instanceof SignedOut) return { kind: "signed-out", message: error.message };
  if (error instanceof Refused) return { kind: "refused", message: error.message };
  if (error instanceof UpdateRequired) return { kind: "update-required", message: error.message };
  return { kind: "unavailable", message: String(error?.message || error) };
}

// The response of a POST, once its status says the body is the answer.
async function send(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (error) {
    throw new Unavailable(String(error));
  }
  if (response.status === 401) throw new SignedOut("401");
  if (response.status === 426) throw new UpdateRequired("426");
  if (response.status === 503 || response.status >= 500) throw new Unavailable(`HTTP ${response.status}`);
  if (!response.ok) {
    let detail = "";
    try { detail = (await response.json()).error; } catch (_) { /* not JSON */ }
    throw new Refused(`${response.status} ${detail}`);
  }
  return response;
}

async function post(path, body) {
  const response = await send(path, body);
  try {
    return await response.json();
  } catch (error) {
    throw new Unavailable(String(error)); // the body was cut off
  }
}

// One pull page as two promises: `head` (cursor, more, …) as soon as the front of
// the body has arrived — the server writes it before the changes (sync/pull.py) —
// and `page`, the whole of it. A body without that front is its own head.
function askPage(body) {
  let tell;
  const head = new Promise((resolve) => { tell = resolve; });
  const page = send("/sync/pull", body).then(async (response) => {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let told = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        const at = told ? -1 : text.indexOf('"changes":[');
        if (at >= 0) {
          told = true;
          try { tell(JSON.parse(`${text.slice(0, at)}"changes":[]}`)); } catch (_) { /* wait for the whole */ }
        }
      }
      return JSON.parse(text + decoder.decode());
    } catch (error) {
      throw new Unavailable(String(error)); // the body was cut off
    }
  });
  const first = Promise.race([head, page]);
  page.catch(() => {}); // awaited later (or never, when an earlier page failed)
  first.catch(() => {});
  return { head: first, page };
}

export async function clientId(db) {
  let id = await getMeta(db, "client_id", null);
  if (!id) {
    id = crypto.randomUUID();
    await setMeta(db, "client_id", id);
  }
  return id;
}

async function uploadPhotos(db) {
  for (const photo of await blobsToUpload(db)) {
    let response;
    try {
      response = await fetch(`/sync/blobs/${photo.sha}`, {
        method: "PUT", body: photo.blob, headers: { "Content-Type": photo.type || "image/jpeg" }, credentials: "same-origin",
      });
    } catch (error) {
      throw new Unavailable(String(error));
    }
    if (response.status === 401) throw new SignedOut("401");
    if (response.status === 200 || response.status === 201) await markUploaded(db, photo.sha);
    else if (response.status === 429) break; // today's quota: the rest wait for tomorrow, the records still sync
    else if (response.status >= 500) throw new Unavailable(`HTTP ${response.status}`);
    // 400/413/415: this photo can never be stored; keep it on the phone and say so in the outbox.
  }
}

// Returns the client id the next pull must use (a new one after `startOver`).
async function pushAll(db, id) {
  // Entries the server has processed but whose answer we never saw are sent
  // again: the server replays their first outcome (rule 3), so a rejection
  // is never lost with a dropped response.
  let startedOver = false;
  for (;;) {
    const pending = (await outboxEntries(db)).filter((e) => e.status === "pending").sort((a, b) => a.id - b.id);
    if (!pending.length) return id;
    const batch = pending.slice(0, BATCH).map(({ id: mid, name, args, at }) => ({ id: mid, name, args, at }));
    const device = await deviceReport(db);
    const answer = await post("/sync/push", { protocol: 1, client_id: id, mutations: batch, device });
    const gap = answer.results.find((r) => r.status === "out_of_order");
    if (gap && gap.id === batch[0].id) {
      // Rule 4 with nothing we could resend: the server lost count of this client
      // (restored from a backup). Nothing of the batch was processed.
      if (startedOver) throw new Refused(`out of order at ${gap.id}`);
      id = await startOver(db);
      startedOver = true;
      continue;
    }
    await recordResults(db, answer.results);
    const last = Math.max(await getMeta(db, "last_mutation_id", 0), answer.last_mutation_id);
    await setMeta(db, "last_mutation_id", last);
    if (pending.length <= BATCH && !gap) return id;
  }
}

// Pages asked for beyond the one being written: at most three held at once (≤ 6 MB, rule 12).
const AHEAD = 2;

// `onProgress({ received, total })` after each page of a download from scratch
// (a reset page says how many records it will carry: docs/sync.md "Download progress").
async function pullAll(db, me, id, onProgress) {
  // Each next page is asked for as soon as the head of the one before it arrives,
  // so the downloads follow each other without waiting a round trip and the
  // server's time, and overlap writing earlier pages into IndexedDB (a first
  // sync on 3G).
  const device = await deviceReport(db); // after the push: what still waits
  const ask = (cursor) => askPage({ protocol: 1, client_id: id, cursor, device });
  const asked = [ask(await getMeta(db, "cursor", null))];
  let total = null;
  let received = 0;
  for (let k = 0; ; k++) {
    while (asked.length <= k + AHEAD) {
      let head;
      try {
        head = await asked[asked.length - 1].head;
      } catch (_) {
        break; // that page's failure surfaces when its turn comes
      }
      if (!head.more) break;
      asked.push(ask(head.cursor));
    }
    const page = await asked[k].page;
    await applyPage(db, me, page);
    asked[k] = null; // written: let it go
    if (page.reset && Number.isInteger(page.total)) {
      total = page.total;
      received = 0;
    }
    if (total !== null && onProgress) {
      received += page.changes.filter((c) => c.op === "put").length;
      onProgress({ received: Math.min(received, total), total });
    }
    if (asked.length === k + 1) return;
  }
}

// One full round. Returns "done", or "busy" when another tab holds the lock.
export async function syncOnce(db, me, onProgress = null) {
  const run = async () => {
    await uploadPhotos(db);
    const id = await pushAll(db, await clientId(db));
    await pullAll(db, me, id, onProgress);
    await setMeta(db, "last_sync_at", new Date().toISOString());
    try { await ensureRescueKey(db, id); } catch (_) { /* asked again after the next sync */ }
    return "done";
  };
  if (!navigator.locks) return run();
  return navigator.locks.request(`doorstep-sync-${me.id}`, { ifAvailable: true }, async (lock) => (lock ? run() : "busy"));
}
