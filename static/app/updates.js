// When a new version of the app may take over without the worker's tap (issue 22).
// A new version waits for consent ("现在更新"); once it has waited longer than the grace
// period the server sets (rules.update.grace_days, default 3), it is applied at the next
// navigation on which nothing waits to be synced — never in the middle of a form, never
// with work on the phone the server has not got.
"use strict";

const KEY = "doorstep-update-seen"; // { from: running version, at: ms } — per phone, not per user
const DAY = 24 * 60 * 60 * 1000;

function read() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

// The first time this running version saw a newer one waiting: the grace period starts then,
// and a second deploy while the first still waits does not restart it.
export function noteWaiting(running, now = Date.now()) {
  const seen = read();
  if (seen && seen.from === running && Number.isFinite(seen.at)) return seen.at;
  localStorage.setItem(KEY, JSON.stringify({ from: running, at: now }));
  return now;
}

// Whether the waiting version may be applied now: it has waited the grace period and the
// outbox (entries and photos) is empty.
export function updateDue({ running, graceDays, waiting, now = Date.now() }) {
  if (waiting !== 0) return false;
  const seen = read();
  if (!seen || seen.from !== running || !Number.isFinite(seen.at)) return false;
  const days = Number.isFinite(graceDays) && graceDays >= 0 ? graceDays : 3;
  return now - seen.at >= days * DAY;
}
