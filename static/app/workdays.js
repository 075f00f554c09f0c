// Working days and time limits on the phone, offline: the rules of server/workflows/workdays.py
// (read its docstring), over the calendar the server sends with the labels (rules.calendar).
"use strict";

const DAY = 86400000;
const OFFSET = 8 * 3600000; // Asia/Shanghai

export function makeCalendar({ holidays = [], workdays = [], known = [] } = {}) {
  return { holidays: new Set(holidays), workdays: new Set(workdays), known: new Set(known) };
}

function dayNumber(ms) {
  return Math.floor((ms + OFFSET) / DAY);
}

function nextMidnight(ms) {
  return (dayNumber(ms) + 1) * DAY - OFFSET;
}

export function isWorkday(calendar, n) {
  const iso = new Date(n * DAY).toISOString().slice(0, 10);
  if (calendar.workdays.has(iso)) return true;
  if (calendar.holidays.has(iso)) return false;
  const weekday = new Date(n * DAY).getUTCDay();
  return weekday >= 1 && weekday <= 5;
}

// The moment (ms) `days` working days of running clock after `start` (ms).
export function addWorkdays(calendar, start, days) {
  let left = days * DAY;
  let cursor = start;
  for (;;) {
    const midnight = nextMidnight(cursor);
    if (isWorkday(calendar, dayNumber(cursor))) {
      if (left <= midnight - cursor) return cursor + left;
      left -= midnight - cursor;
    }
    cursor = midnight;
  }
}

// Working days of running clock from `start` to `end` (ms; negative when `end` is earlier).
export function workdaysBetween(calendar, start, end) {
  if (end < start) return -workdaysBetween(calendar, end, start);
  let total = 0;
  let cursor = start;
  while (cursor < end) {
    const midnight = nextMidnight(cursor);
    if (isWorkday(calendar, dayNumber(cursor))) total += Math.min(midnight, end) - cursor;
    cursor = midnight;
  }
  return total / DAY;
}

// "3", "0.5" (working days) or "4h" (hours): { amount, hours } or null.
export function parseLimit(text) {
  const m = /^\s*(\d{1,3}(?:\.5)?)\s*(h|小时)?\s*$/.exec(String(text ?? ""));
  if (!m || Number(m[1]) <= 0) return null;
  return { amount: Number(m[1]), hours: Boolean(m[2]) };
}

// What is left of a limit at `now` (ms) before `deadline` (ms), in the limit's unit.
export function timeLeft(calendar, limit, deadline, now) {
  return limit.hours ? (deadline - now) / 3600000 : workdaysBetween(calendar, now, deadline);
}

// ok | soon (即将超期, past 75 % of the limit) | overdue (已超期).
export function warning(calendar, limit, deadline, now) {
  const left = timeLeft(calendar, limit, deadline, now);
  if (left < 0 || now > deadline) return "overdue";
  return left <= limit.amount * 0.25 ? "soon" : "ok";
}
