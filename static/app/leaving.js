// What a signed-out or disabled account leaves on the phone (docs/offline.md
// "Sign-out"): nothing of the residents' data. Only work not yet synced stays,
// in its owner's database, to be sent at that owner's next sign-in.
"use strict";

import { deleteUserDb, getMeta, openUserDb, promised, transact, userIdsOnPhone } from "./db.js";

const PHOTO_NAME = /[0-9a-f]{64}/g;

// Meta a kept database still needs to send its work: the outbox counters and
// who it belongs to. The cursor goes, so the next pull starts afresh (rule 11).
const KEPT_META = new Set(["client_id", "next_mutation_id", "last_mutation_id", "outbox_format", "started_over_at", "user"]);

// Photos on the phone not fetched by the app itself: the Cache Storage copies
// of /sync/blobs/… (the service worker keeps them for offline viewing).
export async function dropCachedPhotos() {
  if (typeof caches === "undefined") return;
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      if (new URL(request.url).pathname.startsWith("/sync/blobs/")) await cache.delete(request);
    }
  }
}

// Pending and rejected entries are the worker's own work, still to be sent or
// decided on; photos not uploaded, or named by such an entry, go with them.
function keepOnlyUnsynced(db) {
  return transact(db, ["records", "overlay", "outbox", "blobs", "meta", "drafts"], "readwrite", async (tx) => {
    tx.objectStore("records").clear();
    tx.objectStore("drafts").clear(); // half-typed forms name residents: they go with the data
    tx.objectStore("overlay").clear();
    const entries = await promised(tx.objectStore("outbox").getAll());
    const needed = new Set(entries.flatMap((e) => JSON.stringify(e.args || {}).match(PHOTO_NAME) || []));
    const blobs = tx.objectStore("blobs");
    for (const photo of await promised(blobs.getAll())) {
      if (photo.uploaded && !needed.has(photo.sha)) blobs.delete(photo.sha);
    }
    const meta = tx.objectStore("meta");
    for (const key of await promised(meta.getAllKeys())) {
      if (!KEPT_META.has(key)) meta.delete(key);
    }
  });
}

async function unsynced(db) {
  return transact(db, ["outbox", "blobs"], "readonly", async (tx) => {
    const entries = await promised(tx.objectStore("outbox").count());
    const photos = (await promised(tx.objectStore("blobs").getAll())).filter((b) => !b.uploaded).length;
    return entries + photos;
  });
}

// A sync of this user that is under way finishes first (the same Web Lock).
function whenNotSyncing(userId, fn) {
  if (!navigator.locks) return fn();
  return navigator.locks.request(`doorstep-sync-${userId}`, fn);
}

// Sign-out: delete the user's database, or keep only its unsynced work.
export async function leave(db, userId) {
  await whenNotSyncing(userId, async () => {
    const keep = await unsynced(db);
    if (keep) await keepOnlyUnsynced(db);
    db.close();
    if (!keep) await deleteUserDb(userId);
  });
  await dropCachedPhotos();
}

// The server says the account is disabled: every database of that username
// goes, unsynced work included (an admin stopped it; nobody may send it).
export async function wipeAccount(username) {
  for (const id of await userIdsOnPhone()) {
    const db = await openUserDb(id);
    const user = await getMeta(db, "user", null);
    db.close();
    if (user && user.username === username) await whenNotSyncing(id, () => deleteUserDb(id));
  }
  await dropCachedPhotos();
}
