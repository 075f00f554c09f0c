// The worker's tasks, made by rule from what the phone holds, offline. The same rules
// as server/workflows/tasks.py and visit_tasks.py (a test feeds both the same grids and
// requires the same list): read those modules' docstrings for the rules in words.
"use strict";

import { rule } from "./i18n.js";
import { allOf, keptRead, lastVisits } from "./store.js";
import { makeCalendar, parseLimit, warning } from "./workdays.js";

const DAY = 86400000;
const LOCAL_OFFSET = 8 * 3600000; // Asia/Shanghai, no summer time since 1991
const WEEK = 7;
const REVIEW_AHEAD = 30;
const DUE_SOON = DAY;
const RUNNING = new Set(["dispatched", "accepted", "in_progress", "transferred", "escalated", "rectifying"]);
const PRIORITY = ["high", "normal", "low"];

// The day (YYYY-MM-DD) a moment falls on in Asia/Shanghai.
export function localDate(moment) {
  return new Date(new Date(moment).getTime() + LOCAL_OFFSET).toISOString().slice(0, 10);
}

export function addDays(day, n) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
}

function daysBetween(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY);
}

// Whole years from `birth` to `day`, both YYYY-MM-DD (29 February turns a year older on 1 March).
export function ageOn(birth, day) {
  const [by, bm, bd] = birth.split("-").map(Number);
  const [y, m, d] = day.split("-").map(Number);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

function personMatches(rule, person, today) {
  if (rule.subject === "tag") return Boolean(rule.tag_code) && (person.tags || []).includes(rule.tag_code);
  if (rule.subject === "age") {
    return rule.min_age !== null && rule.min_age !== undefined && Boolean(person.birth_date) && ageOn(person.birth_date, today) >= rule.min_age;
  }
  return false;
}

function homeMatches(rule, home, people, today) {
  if (!rule.active) return false;
  if (rule.subject === "household_status") return Boolean(rule.household_status) && home.status === rule.household_status;
  return people.some((person) => personMatches(rule, person, today));
}

// The household's next care visit: { due, interval, priority } or null when no active rule names it.
export function careVisit(home, people, last, rules, today) {
  const matching = rules.filter((rule) => homeMatches(rule, home, people, today));
  if (!matching.length) return null;
  const interval = Math.min(...matching.map((rule) => rule.interval_days));
  const rank = (p) => (PRIORITY.includes(p) ? PRIORITY.indexOf(p) : PRIORITY.length);
  const priority = matching.map((rule) => rule.priority).sort((a, b) => rank(a) - rank(b))[0];
  const seen = last && last.completed ? localDate(last.completed) : null;
  let due = seen ? addDays(seen, interval) : today;
  if (last && last.nobody_home) {
    const tried = localDate(last.nobody_home);
    if ((seen === null || tried >= seen) && due <= tried) due = addDays(tried, 1);
  }
  return { due, interval, priority };
}

function task(kind, recordId, householdId, due, overdue) {
  return { kind, record_id: recordId, household_id: householdId || null, due, overdue };
}

function cardTask(c, id, today) {
  if (c.status === "needs_supplement") return task("card_supplement", id, c.household_id, today, false);
  if (c.status === "ready" && c.delivery === "door") return task("card_deliver", id, c.household_id, today, false);
  if (c.status === "issued" && c.review_due && !c.review_visit_id && daysBetween(today, c.review_due) <= REVIEW_AHEAD) {
    return task("card_review", id, c.household_id, today, c.review_due < today);
  }
  return null;
}

// 预警 (server/workflows/tasks.py: warned).
function warned(d, calendar, now) {
  if (!d.deadline || d.suspended_at) return false;
  const limit = parseLimit(d.time_limit);
  if (!limit) return Date.parse(d.deadline) <= now + DUE_SOON;
  return warning(calendar, limit, Date.parse(d.deadline), now) !== "ok";
}

function requestTask(d, id, me, now, calendar) {
  if (d.department_id || !RUNNING.has(d.status)) return null;
  const today = localDate(now);
  const deadline = d.deadline ? Date.parse(d.deadline) : null;
  const overdue = deadline !== null && deadline < now && !d.suspended_at;
  const due = deadline !== null && localDate(deadline) < today ? localDate(deadline) : today;
  const onGrid = Boolean(d.grid_id) && me.grid_ids.includes(d.grid_id);
  if (onGrid && d.status === "rectifying" && !d.assignee_id) return task("demand_rectify", id, d.household_id, due, overdue);
  if (onGrid && d.status === "dispatched" && !d.assignee_id) return task("demand_accept", id, d.household_id, due, overdue);
  if (d.assignee_id === me.id && warned(d, calendar, now)) return task("demand_due", id, d.household_id, due, overdue);
  return null;
}

const ASSISTED_TASKS = { returned: "assisted_resupply", completed: "assisted_deliver" }; // server/workflows/tasks.py

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

// Every task of `me` ({ id, grid_ids }) at `now` (ms) from records as the phone holds them
// ({ id, data }), keyed by type; `last` is lastVisits() (store.js) of those visits;
// `calendar` the working days time limits count (workdays.js).
export function tasksOf(records, last, me, now, calendar = makeCalendar()) {
  const today = localDate(now);
  const horizon = addDays(today, WEEK - 1);
  const rules = (records.visit_rule || []).map((r) => ({ id: r.id, ...r.data }));
  const people = new Map();
  const homeOf = new Map(); // resident -> household
  for (const r of records.resident || []) {
    const id = r.data.household_id;
    if (!people.has(id)) people.set(id, []);
    people.get(id).push(r.data);
    homeOf.set(r.id, id);
  }
  const found = [];
  for (const h of records.household || []) {
    const visit = careVisit(h.data, people.get(h.id) || [], last.get(h.id), rules, today);
    if (visit && visit.due <= horizon) found.push(task("care_visit", h.id, h.id, visit.due, visit.due < today));
  }
  for (const c of records.travel_card || []) found.push(cardTask(c.data, c.id, today));
  for (const d of records.demand || []) found.push(requestTask(d.data, d.id, me, now, calendar));
  // A conflict shows under the household it is about (its own, or its resident's).
  for (const c of records.conflict || []) {
    if (c.data.status !== "open" || c.data.user_id !== me.id) continue;
    const home = c.data.record_type === "household" ? c.data.record_id : c.data.record_type === "resident" ? homeOf.get(c.data.record_id) : null;
    found.push(task("conflict", c.id, home, today, false));
  }
  // 代办件 of the worker's grids: materials to bring (退回补件), a result to deliver.
  for (const a of records.assisted_application || []) {
    const kind = ASSISTED_TASKS[a.data.status];
    if (kind && me.grid_ids.includes(a.data.grid_id)) found.push(task(kind, a.id, a.data.household_id, today, false));
  }
  return found.filter(Boolean).sort((a, b) => cmp(a.due, b.due) || cmp(a.kind, b.kind) || cmp(a.record_id, b.record_id));
}

export const TASK_TYPES = ["household", "resident", "visit_rule", "travel_card", "demand", "conflict", "assisted_application"];

// The worker's tasks now, from IndexedDB (the overlay included: a visit recorded
// offline clears its task at once). Returns { tasks, households } (households by id).
export async function loadTasks(db, me, now = Date.now()) {
  // Kept in memory until records of the type change (keptRead), as the work list's reads are.
  const [lists, last] = await Promise.all([
    Promise.all(TASK_TYPES.map((type) => keptRead(db, `all ${type}`, [type], () => allOf(db, type)))),
    keptRead(db, "last visits", ["visit"], () => lastVisits(db)),
  ]);
  const records = Object.fromEntries(TASK_TYPES.map((type, i) => [type, lists[i]]));
  return { tasks: tasksOf(records, last, me, now, makeCalendar(rule("calendar") || {})), households: new Map(records.household.map((h) => [h.id, h])) };
}
