// The phone's view of the data: the server's records with pending work on top.
"use strict";

import { OUTBOX_FORMAT, addressWords, getMeta, indexed, promised, transact } from "./db.js";
import { applyLocal, stored } from "./mutators.js";

// `touched` (a Set) collects the types of the records put, for their generations.
function view(tx, me, touched = null) {
  const overlay = tx.objectStore("overlay");
  const records = tx.objectStore("records");
  return {
    me,
    async get(type, id) {
      const local = await promised(overlay.get([type, id]));
      if (local) return local.deleted ? null : local;
      return (await promised(records.get([type, id]))) || null;
    },
    put(record) {
      touched?.add(record.type);
      return promised(overlay.put(indexed(record)));
    },
  };
}

function merge(server, local) {
  const byId = new Map(server.map((r) => [r.id, r]));
  for (const r of local) {
    if (r.deleted) byId.delete(r.id);
    else byId.set(r.id, r);
  }
  return [...byId.values()];
}

export function getRecord(db, type, id) {
  return transact(db, ["records", "overlay"], "readonly", (tx) => view(tx, null).get(type, id));
}

export function allOf(db, type) {
  return transact(db, ["records", "overlay"], "readonly", async (tx) => {
    const range = IDBKeyRange.only(type);
    const [server, local] = await Promise.all([
      promised(tx.objectStore("records").index("type").getAll(range)),
      promised(tx.objectStore("overlay").index("type").getAll(range)),
    ]);
    return merge(server, local);
  });
}

export function childrenOf(db, type, parent) {
  return transact(db, ["records", "overlay"], "readonly", async (tx) => {
    const range = IDBKeyRange.only([type, parent]);
    const [server, local] = await Promise.all([
      promised(tx.objectStore("records").index("parent").getAll(range)),
      promised(tx.objectStore("overlay").index("parent").getAll(range)),
    ]);
    return merge(server, local);
  });
}

// --- what the households screens read, through the indexes (db.js) --------------------

const FEW = 200; // households read to check the other words of a search, rather than more keys

const HOUSEHOLDS = IDBKeyRange.bound(["household"], ["household", []]);

// The address index's order ([type, grid, sort]); IndexedDB orders strings by code unit, as `<` does.
export function byAddress(a, b) {
  const [x, y] = [a.data.grid_id ?? "", b.data.grid_id ?? ""];
  if (x !== y) return x < y ? -1 : 1;
  const [s, t] = [a.sort ?? "", b.sort ?? ""];
  return s < t ? -1 : s > t ? 1 : 0;
}

// The first `count` households in address order, and how many there are in all.
// The overlay is small (pending work): `count` + its size server rows in index order
// hold every server row of the first `count` that the overlay does not replace.
export function householdPage(db, count) {
  return transact(db, ["records", "overlay"], "readonly", async (tx) => {
    const records = tx.objectStore("records");
    const local = await promised(tx.objectStore("overlay").index("type").getAll(IDBKeyRange.only("household")));
    const [server, total, known] = await Promise.all([
      count + local.length ? promised(records.index("address").getAll(HOUSEHOLDS, count + local.length)) : [], // 0 would mean all
      promised(records.index("type").count(IDBKeyRange.only("household"))),
      Promise.all(local.map((r) => promised(records.getKey(["household", r.id])))),
    ]);
    let all = total;
    local.forEach((r, i) => { all += (known[i] ? 0 : 1) - (r.deleted ? 1 : 0); });
    const households = merge(server, local).sort(byAddress).slice(0, count);
    return { households, total: Math.max(0, all) };
  });
}

// The households the query finds, the first `count` in address order, and how many in
// all: every word of the query is a part of the address (a part of "20栋", "芙蓉花园"),
// or it is the start of a resident's name, or the last digits of a phone.
export function searchHouseholds(db, query, count) {
  const q = query.trim().toLowerCase();
  const digits = q.replace(/\D/g, "");
  const terms = q.split(/\s+|(?<=\D)(?=\d)/).filter(Boolean);
  const tail = digits.length >= 4 ? digits.slice(-4) : null;
  const ofAddress = (h) => {
    const words = addressWords(h.data.address);
    return terms.every((term) => words.some((w) => w.startsWith(term)));
  };
  const ofPhone = (r) => digits.length >= 4 && (r.data.phone || "").endsWith(digits);
  const ofPerson = (r) => (r.data.name || "").startsWith(q) || ofPhone(r);
  if (!q) return householdPage(db, count);
  const prefix = (key) => IDBKeyRange.bound(key, [...key.slice(0, -1), key.at(-1) + "\uffff"]);
  const wordRange = (term) => IDBKeyRange.bound(term, term + "\uffff");
  return transact(db, ["records", "overlay"], "readonly", async (tx) => {
    const records = tx.objectStore("records");
    const overlay = tx.objectStore("overlay");
    const words = records.index("words");
    const read = new Map();
    const get = (ids) => Promise.all(ids.map(async (id) => {
      if (!read.has(id)) read.set(id, await promised(records.get(["household", id])));
      return read.get(id);
    }));
    const [local, localResidents, named, phoned, sizes] = await Promise.all([
      promised(overlay.index("type").getAll(IDBKeyRange.only("household"))),
      promised(overlay.index("type").getAll(IDBKeyRange.only("resident"))),
      promised(records.index("name").getAll(prefix(["resident", q]))),
      tail ? Promise.all(["household", "resident"].map((type) => promised(records.index("tail").getAll(IDBKeyRange.only([type, tail]))))).then((lists) => lists.flat()) : [],
      Promise.all(terms.map((term) => promised(words.count(wordRange(term))))),
    ]);
    const replaced = new Set(local.map((r) => r.id).concat(localResidents.map((r) => r.id)));
    const hit = new Set();
    if (terms.length && Math.min(...sizes) > 0) {
      // The rarest word's households, then the others' (keys only: no record is read).
      const order = terms.map((term, i) => [sizes[i], term]).sort((x, y) => x[0] - y[0]).map(([, term]) => term);
      let ids = [...new Set((await promised(words.getAllKeys(wordRange(order[0])))).map((k) => k[1]))];
      if (order.length > 1 && ids.length <= FEW) {
        ids = (await get(ids)).filter((h) => h && ofAddress(h)).map((h) => h.id);
      } else {
        for (const term of order.slice(1)) {
          const more = new Set((await promised(words.getAllKeys(wordRange(term)))).map((k) => k[1]));
          ids = ids.filter((id) => more.has(id));
        }
      }
      for (const id of ids) hit.add(id);
    }
    for (const r of named.concat(phoned)) {
      if (replaced.has(r.id) || !ofPerson(r)) continue;
      hit.add(r.type === "household" ? r.id : r.data.household_id);
    }
    for (const r of localResidents) if (!r.deleted && ofPerson(r)) hit.add(r.data.household_id);
    const mine = local.filter((h) => !h.deleted && (hit.has(h.id) || ofAddress(h) || ofPhone(h)));
    let server = [...hit].filter((id) => !replaced.has(id));
    const total = server.length + mine.length;
    if (server.length > count + mine.length) {
      // Many: their order from the address index (keys only), and only the first read.
      const ordered = await promised(records.index("address").getAllKeys(HOUSEHOLDS));
      server = ordered.map((k) => k[1]).filter((id) => hit.has(id) && !replaced.has(id)).slice(0, count + mine.length);
    }
    const found = (await get(server)).filter(Boolean);
    return { households: found.concat(mine).sort(byAddress).slice(0, count), total };
  });
}

// The residents of each of these households (a Map of household id → residents).
export function residentsOf(db, householdIds) {
  return transact(db, ["records", "overlay"], "readonly", async (tx) => {
    const stores = [tx.objectStore("records"), tx.objectStore("overlay")];
    const lists = await Promise.all(householdIds.map((id) => Promise.all(
      stores.map((s) => promised(s.index("parent").getAll(IDBKeyRange.only(["resident", id])))))));
    return new Map(householdIds.map((id, i) => [id, merge(...lists[i])]));
  });
}

// The latest visit of each household, by outcome: a Map of household id →
// { completed, nobody_home, any } (ISO times). The work list and the tasks read it.
export async function lastVisits(db) {
  return latestVisits(await allOf(db, "visit"));
}

// The same over visit records in hand.
export function latestVisits(visits) {
  const found = new Map();
  for (const v of visits) {
    const id = v.data.household_id;
    const last = found.get(id) || { completed: null, nobody_home: null, any: null };
    const at = v.data.at;
    if (!at || v.data.outcome === "planned") continue; // a visit still to make is no visit yet
    found.set(id, last);
    const later = (than) => !than || Date.parse(at) > Date.parse(than); // "…+00:00" from the server, "…Z" from here
    if (later(last.any)) last.any = at;
    const outcome = v.data.outcome;
    if ((outcome === "completed" || outcome === "nobody_home") && later(last[outcome])) last[outcome] = at;
  }
  return found;
}

// --- reads kept in memory while the data stands ------------------------------------------

// `generation:<type>` (meta) counts the changes to the records of a type, server's or
// overlay's: every pulled page and every queued write bumps the types it touched in its own
// transaction, whichever context (page or service worker) wrote; a reset bumps
// `generation:*`. A whole read kept under the generations of its types (the work list's)
// stays true until one of them moves: a visit recorded leaves the households kept.
const EVERY = "*";

async function changed(meta, types) {
  for (const type of types) {
    const key = `generation:${type}`;
    meta.put(((await promised(meta.get(key))) || 0) + 1, key);
  }
}

const kept = new WeakMap(); // db → Map of name → { generation, result (a promise) }

// `read()`'s result, read again only when a record of one of `types` changed; callers
// must not change what it returns.
export async function keptRead(db, name, types, read) {
  const keys = [EVERY, ...types].map((type) => `generation:${type}`);
  const generation = (await transact(db, ["meta"], "readonly", (tx) =>
    Promise.all(keys.map((key) => promised(tx.objectStore("meta").get(key)))))).map((n) => n || 0).join(" ");
  if (!kept.has(db)) kept.set(db, new Map());
  const reads = kept.get(db);
  if (reads.get(name)?.generation !== generation) {
    const result = read();
    reads.set(name, { generation, result });
    result.catch(() => reads.delete(name));
  }
  return reads.get(name).result;
}

// Queue one mutation and show its effect at once: one transaction, so a
// closed tab or a dead battery can never keep one without the other.
export async function enqueue(db, me, name, args) {
  const at = new Date().toISOString();
  return transact(db, ["outbox", "meta", "records", "overlay"], "readwrite", async (tx) => {
    const meta = tx.objectStore("meta");
    const id = (await promised(meta.get("next_mutation_id"))) || 1;
    meta.put(id + 1, "next_mutation_id");
    const entry = { id, name, args, at, status: "pending", format: OUTBOX_FORMAT, created: Date.now() };
    tx.objectStore("outbox").put(entry);
    const touched = new Set();
    await applyLocal(view(tx, me, touched), entry);
    await changed(meta, touched);
    return entry;
  });
}

// The server answered our first pending mutation `out_of_order` (SYNC.md rule 4)
// although we hold everything below it as done: the server was restored from
// a backup and lost count of this client. Nothing can be resent from its count,
// so the phone carries on as a new client: pending entries were never processed
// (their ids are above the server's count) and are numbered 1, 2, … under a new
// client id; rejected ones, already answered, move below zero so they never
// leave a gap; the next pull starts afresh (rule 11). Returns the new client id.
export async function startOver(db) {
  return transact(db, ["outbox", "meta"], "readwrite", async (tx) => {
    const outbox = tx.objectStore("outbox");
    const entries = (await promised(outbox.getAll())).sort((a, b) => a.id - b.id);
    outbox.clear();
    let next = 1;
    let below = Math.min(0, ...entries.map((e) => e.id));
    for (const entry of entries) {
      const id = entry.status === "pending" ? next++ : --below;
      outbox.put({ ...entry, id });
    }
    const clientId = crypto.randomUUID();
    const meta = tx.objectStore("meta");
    meta.put(clientId, "client_id");
    meta.put(next, "next_mutation_id");
    meta.put(0, "last_mutation_id");
    meta.delete("cursor");
    meta.put(new Date().toISOString(), "started_over_at");
    return clientId;
  });
}

export function outboxEntries(db) {
  return transact(db, ["outbox"], "readonly", (tx) => promised(tx.objectStore("outbox").getAll()));
}

// Apply one pulled page (SYNC.md rules 11–13) and rebuild the overlay from
// the mutations the server has not reflected yet — all in one transaction.
export async function applyPage(db, me, page) {
  return transact(db, ["records", "overlay", "outbox", "meta"], "readwrite", async (tx) => {
    const records = tx.objectStore("records");
    const touched = new Set(page.reset ? [EVERY] : []);
    if (page.reset) records.clear(); // rule 11: the local copy, never the outbox
    for (const change of page.changes) {
      touched.add(change.type);
      if (change.op === "put") records.put(indexed(stored(change.type, change.id, change.version, change.data)));
      else records.delete([change.type, change.id]);
    }
    const meta = tx.objectStore("meta");
    meta.put(page.cursor, "cursor");
    const last = Math.max((await promised(meta.get("last_mutation_id"))) || 0, page.last_mutation_id);
    meta.put(last, "last_mutation_id");
    const overlay = tx.objectStore("overlay");
    for (const [type] of await promised(overlay.getAllKeys())) touched.add(type); // what was on top goes
    overlay.clear();
    const pending = (await promised(tx.objectStore("outbox").getAll()))
      .filter((e) => e.status === "pending" && e.id > last)
      .sort((a, b) => a.id - b.id);
    const v = view(tx, me, touched);
    for (const entry of pending) await applyLocal(v, entry); // rule 13
    await changed(meta, touched); // an empty pull with nothing pending changes nothing
  });
}

// Push results: applied and conflict entries are done; rejected ones stay for the user.
export async function recordResults(db, results) {
  return transact(db, ["outbox"], "readwrite", async (tx) => {
    const outbox = tx.objectStore("outbox");
    for (const result of results) {
      if (result.status === "out_of_order") continue;
      const entry = await promised(outbox.get(result.id));
      if (!entry) continue;
      if (result.status === "rejected" && result.handover_id) {
        // Its record moved to another grid: kept for the new holder, not an error (docs/sync.md "Handovers").
        outbox.put({ ...entry, status: "handed_over", result });
      } else if (result.status === "rejected") {
        outbox.put({ ...entry, status: "rejected", result });
      } else {
        outbox.delete(result.id);
      }
    }
  });
}

// "知道了" on a refusal: the entry stays on the phone, dated, as the record of what the
// server refused and that the worker saw it; it no longer counts as waiting for them.
export async function dismiss(db, entryId) {
  return transact(db, ["outbox"], "readwrite", async (tx) => {
    const outbox = tx.objectStore("outbox");
    const entry = await promised(outbox.get(entryId));
    if (entry && entry.status === "rejected") outbox.put({ ...entry, dismissed: new Date().toISOString() });
  });
}

export async function discard(db, me, entryId) {
  await transact(db, ["outbox"], "readwrite", (tx) => promised(tx.objectStore("outbox").delete(entryId)));
  await rebuildOverlay(db, me);
}

export async function rebuildOverlay(db, me) {
  return applyPage(db, me, { reset: false, changes: [], cursor: await getMeta(db, "cursor", null), last_mutation_id: 0 });
}

// --- photos ----------------------------------------------------------------

// Keep a photo's bytes; true when the phone did not hold them yet.
export function saveBlob(db, sha, blob) {
  return transact(db, ["blobs"], "readwrite", async (tx) => {
    const store = tx.objectStore("blobs");
    const known = await promised(store.get(sha));
    if (!known) store.put({ sha, blob, type: blob.type, uploaded: false, created: Date.now() });
    return !known;
  });
}

// A photo deleted from a form before it was saved: its bytes go unless they
// were uploaded or a queued mutation names them (its upload must not break).
export function dropUnqueuedBlob(db, sha) {
  return transact(db, ["blobs", "outbox"], "readwrite", async (tx) => {
    const store = tx.objectStore("blobs");
    const row = await promised(store.get(sha));
    if (!row || row.uploaded) return false;
    const entries = await promised(tx.objectStore("outbox").getAll());
    if (entries.some((e) => JSON.stringify(e.args || {}).includes(sha))) return false;
    store.delete(sha);
    return true;
  });
}

export function getBlob(db, sha) {
  return transact(db, ["blobs"], "readonly", (tx) => promised(tx.objectStore("blobs").get(sha)));
}

export function blobsToUpload(db) {
  return transact(db, ["blobs"], "readonly", async (tx) =>
    (await promised(tx.objectStore("blobs").getAll())).filter((b) => !b.uploaded));
}

export function markUploaded(db, sha) {
  return transact(db, ["blobs"], "readwrite", async (tx) => {
    const store = tx.objectStore("blobs");
    const row = await promised(store.get(sha));
    if (row) store.put({ ...row, uploaded: true });
  });
}

// --- honest status -----------------------------------------------------------

export async function status(db) {
  const [entries, waitingPhotos, lastSync, lastMutation, conflicts, notices] = await Promise.all([
    outboxEntries(db),
    blobsToUpload(db),
    getMeta(db, "last_sync_at", null),
    getMeta(db, "last_mutation_id", 0),
    allOf(db, "conflict"),
    allOf(db, "notice"),
  ]);
  const rejected = entries.filter((e) => e.status === "rejected" && !e.dismissed);
  const pending = entries.filter((e) => e.status === "pending");
  return {
    pending: pending.length,
    rejected: rejected.length,
    conflicts: conflicts.filter((c) => c.data.status === "open").length,
    unread: notices.filter((n) => !n.data.read_at).length, // 消息 not yet opened
    photos: waitingPhotos.length,
    waiting: pending.length + waitingPhotos.length,
    lastSync,
    lastMutation,
    pendingIds: new Set(pending.map((e) => e.id)),
  };
}

// History in the order the server recorded it; steps still on the phone come last.
export function byHistory(a, b) {
  return (a.version || Infinity) - (b.version || Infinity) || String(a.data.at).localeCompare(String(b.data.at));
}
