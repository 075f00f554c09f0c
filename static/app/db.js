// IndexedDB for the field app: one database per signed-in user, plus a small
// shared one that remembers who is signed in on this browser (the service
// worker needs to know which user's outbox to drain).
//
// Stores of a user's database:
//   records  – the server's data in the user's scope, as the last pull left it
//   overlay  – what pending mutations change on top of it (rebuilt after pulls)
//   outbox   – mutations not yet confirmed, and rejected ones kept for the user
//   blobs    – photos taken on this phone, with whether they are uploaded
//   meta     – client_id, cursor, counters, last sync time, outbox format
//   drafts   – what was typed into forms not yet saved (drafts.js)
"use strict";

const SCHEMA = 2;
// The shape of outbox entries. Bump it with a migration in `migrateOutbox`;
// entries are migrated, never dropped (PRODUCT.md "App updates").
export const OUTBOX_FORMAT = 1;

export function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
    tx.onerror = () => reject(tx.error);
  });
}

function open(name, version, upgrade) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, version);
    request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion, request.transaction);
    request.onsuccess = () => {
      const db = request.result;
      // Another tab (or the worker) upgrading the schema: let it, and reopen later.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error("database upgrade blocked by another tab"));
  });
}

const USER_DB = /^doorstep-([0-9a-f-]{36})$/;

function userDbName(userId) {
  return `doorstep-${userId}`;
}

// Resolves once the database is gone; open connections are asked to close
// (`onversionchange` in `open`), so another tab never blocks it for long.
export function deleteUserDb(userId) {
  return promised(indexedDB.deleteDatabase(userDbName(userId)));
}

// The users who have a database on this phone (their unsynced work, or the one signed in).
export async function userIdsOnPhone() {
  const names = (await indexedDB.databases()).map((d) => d.name);
  return names.map((name) => USER_DB.exec(name || "")).filter(Boolean).map((m) => m[1]);
}

export function openUserDb(userId) {
  return open(userDbName(userId), SCHEMA, (db, oldVersion) => {
    if (oldVersion < 1) {
      for (const name of ["records", "overlay"]) {
        const store = db.createObjectStore(name, { keyPath: ["type", "id"] });
        store.createIndex("type", "type");
        store.createIndex("parent", ["type", "parent"]);
      }
      db.createObjectStore("outbox", { keyPath: "id" });
      db.createObjectStore("blobs", { keyPath: "sha" });
      db.createObjectStore("meta");
    }
    if (oldVersion < 2) db.createObjectStore("drafts", { keyPath: "key" });
  });
}

// Run `fn(tx)` in one transaction; resolves with fn's result once committed.
export async function transact(db, stores, mode, fn) {
  const tx = db.transaction(stores, mode);
  const finished = done(tx);
  let result;
  try {
    result = await fn(tx);
  } catch (error) {
    try { tx.abort(); } catch (_) { /* already finished */ }
    await finished.catch(() => {});
    throw error;
  }
  await finished;
  return result;
}

export async function getMeta(db, key, fallback = undefined) {
  const value = await transact(db, ["meta"], "readonly", (tx) => promised(tx.objectStore("meta").get(key)));
  return value === undefined ? fallback : value;
}

export function setMeta(db, key, value) {
  return transact(db, ["meta"], "readwrite", (tx) => promised(tx.objectStore("meta").put(value, key)));
}

// --- who is signed in on this browser -------------------------------------

function openShared() {
  return open("doorstep", 1, (db) => db.createObjectStore("kv"));
}

export async function currentUser() {
  const db = await openShared();
  try {
    return (await transact(db, ["kv"], "readonly", (tx) => promised(tx.objectStore("kv").get("user")))) || null;
  } finally {
    db.close();
  }
}

export async function setCurrentUser(user) {
  const db = await openShared();
  try {
    await transact(db, ["kv"], "readwrite", (tx) =>
      user ? promised(tx.objectStore("kv").put(user, "user")) : promised(tx.objectStore("kv").delete("user")));
  } finally {
    db.close();
  }
}

// --- the outbox format ----------------------------------------------------

const OUTBOX_MIGRATIONS = {
  // 1 → 2 would go here: (entry) => ({ ...entry, newField: … })
};

// Bring every entry to OUTBOX_FORMAT; run at start-up, before anything syncs.
export async function migrateOutbox(db) {
  const format = await getMeta(db, "outbox_format", OUTBOX_FORMAT);
  if (format === OUTBOX_FORMAT) {
    await setMeta(db, "outbox_format", OUTBOX_FORMAT);
    return 0;
  }
  let migrated = 0;
  await transact(db, ["outbox", "meta"], "readwrite", async (tx) => {
    const store = tx.objectStore("outbox");
    const entries = await promised(store.getAll());
    for (let entry of entries) {
      for (let v = entry.format || format; v < OUTBOX_FORMAT; v += 1) {
        entry = OUTBOX_MIGRATIONS[v](entry);
      }
      entry.format = OUTBOX_FORMAT;
      store.put(entry);
      migrated += 1;
    }
    tx.objectStore("meta").put(OUTBOX_FORMAT, "outbox_format");
  });
  return migrated;
}
