// The rescue file (救援文件, docs/sync.md "Rescue file"): when this phone cannot sync,
// everything unsynced — the pending outbox entries under their client id and ids, and
// the photos not yet uploaded — goes into one JSON file, signed with the key the server
// issued to this client, for the office to import through the normal push.
"use strict";

import { getMeta, setMeta } from "./db.js";
import { blobsToUpload, outboxEntries } from "./store.js";

// Asked once per client id, after a sync (the key cannot be had offline).
export async function ensureRescueKey(db, clientId) {
  const known = await getMeta(db, "rescue_key", null);
  if (known && known.client_id === clientId) return;
  const response = await fetch("/sync/rescue-key", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ protocol: 1, client_id: clientId }),
    credentials: "same-origin",
    cache: "no-store",
  });
  if (!response.ok) return;
  const body = await response.json();
  if (body.client_id === clientId) await setMeta(db, "rescue_key", body);
}

function hexBytes(hex) {
  return new Uint8Array(hex.match(/../g).map((h) => parseInt(h, 16)));
}

async function base64(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

export class NoRescueKey extends Error {}

// The file's text, and how many entries and photos it carries.
export async function rescueFile(db, me) {
  const [key, clientId, entries, photos] = await Promise.all([
    getMeta(db, "rescue_key", null), getMeta(db, "client_id", null), outboxEntries(db), blobsToUpload(db),
  ]);
  if (!key || key.client_id !== clientId) throw new NoRescueKey("no key for this client");
  const mutations = entries
    .filter((e) => e.status === "pending")
    .sort((a, b) => a.id - b.id)
    .map(({ id, name, args, at }) => ({ id, name, args, at }));
  const payload = JSON.stringify({
    client_id: clientId,
    user_id: me.id,
    username: me.username,
    exported_at: new Date().toISOString(),
    app_version: document.body.dataset.version || null,
    mutations,
    photos: await Promise.all(photos.map(async (p) => ({ sha256: p.sha, type: p.type, data: await base64(p.blob) }))),
  });
  const hmac = await crypto.subtle.importKey("raw", hexBytes(key.key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(payload)));
  const hex = Array.from(signature, (b) => b.toString(16).padStart(2, "0")).join("");
  const text = JSON.stringify({ format: "doorstep-rescue", payload, signature: hex });
  return { text, entries: mutations.length, photos: photos.length };
}
