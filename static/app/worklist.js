// The household list as a work list: its filters (in the address, and remembered on
// the phone so the 住户 tab reopens the list as the worker left it), days counted in
// Asia/Shanghai, and what a row says about the last visit and the residents' tags.
"use strict";

import { addressKey, getMeta, setMeta } from "./db.js";
import { t } from "./i18n.js";

export const FILTERS = ["estate", "building", "unit", "tag", "status", "unvisited"];
export const UNVISITED_DAYS = ["30", "90"];
const REMEMBERED = "worklist_filters"; // meta key; the user's database goes at sign-out, so do they
const KEY_TAGS = 3;

// The filters an address asks for: only known names, only non-empty values.
export function filtersOf(params) {
  const filters = {};
  for (const name of FILTERS) {
    const value = (params.get(name) || "").trim();
    if (value) filters[name] = value;
  }
  if (filters.unvisited && !UNVISITED_DAYS.includes(filters.unvisited)) delete filters.unvisited;
  return filters;
}

export function isFiltered(filters) {
  return Object.keys(filters).length > 0;
}

// `#/households?…` for these filters, a search and a page length (each only when set).
export function listAddress(filters, query = "", shown = 0) {
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  for (const name of FILTERS) if (filters[name]) params.set(name, filters[name]);
  if (shown) params.set("n", String(shown));
  const text = params.toString();
  return text ? `#/households?${text}` : "#/households";
}

export async function rememberedFilters(db) {
  return filtersOf(new URLSearchParams(await getMeta(db, REMEMBERED, "")));
}

export async function rememberFilters(db, filters) {
  const text = new URLSearchParams(filters).toString();
  if ((await getMeta(db, REMEMBERED, "")) !== text) await setMeta(db, REMEMBERED, text);
}

// --- days in Asia/Shanghai ---------------------------------------------------------

const DAY = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" });

function localDay(moment) {
  const [year, month, day] = DAY.format(new Date(moment)).split("-").map(Number);
  return { year, month, day, number: Date.UTC(year, month - 1, day) / 86_400_000 };
}

// Whole days from the local date of `iso` to today's.
export function daysSince(iso, now = new Date()) {
  return localDay(now).number - localDay(iso).number;
}

// "未走访超过 N 天": no completed visit in the last N local days (today counts as one);
// a household never visited was not visited either. The same boundary as a care visit
// every N days (server/workflows/visit_tasks.py): due on the day N days after the last.
export function unvisitedFor(days, last, now = new Date()) {
  return !last?.completed || daysSince(last.completed, now) >= Number(days);
}

export function shortDate(iso, now = new Date()) {
  const day = localDay(iso);
  return day.year === localDay(now).year
    ? t("%(month)s月%(day)s日", day)
    : t("%(year)s年%(month)s月%(day)s日", day);
}

// --- filtering and what the filters offer ----------------------------------------------

// Does the household pass every filter? `tagged` is the Set of its residents' tag codes,
// `last` its entry of lastVisits().
export function passes(filters, household, tagged, last, now = new Date()) {
  const h = household.data;
  if (filters.estate && h.estate !== filters.estate) return false;
  if (filters.building && h.building !== filters.building) return false;
  if (filters.unit && h.unit !== filters.unit) return false;
  if (filters.status && h.status !== filters.status) return false;
  if (filters.tag && !(tagged && tagged.has(filters.tag))) return false;
  if (filters.unvisited && !unvisitedFor(filters.unvisited, last, now)) return false;
  return true;
}

const inAddressOrder = (values) => [...new Set(values.filter(Boolean))].sort((a, b) => {
  const [x, y] = [addressKey(a), addressKey(b)];
  return x < y ? -1 : x > y ? 1 : 0;
});

// The 小区 of the phone's households, the 楼栋 of the chosen 小区 and the 单元 of the
// chosen 楼栋, each in address order ("2栋" before "10栋").
export function places(households, filters) {
  const inEstate = households.filter((h) => h.data.estate === filters.estate);
  const inBuilding = inEstate.filter((h) => h.data.building === filters.building);
  return {
    estates: inAddressOrder(households.map((h) => h.data.estate)),
    buildings: filters.estate ? inAddressOrder(inEstate.map((h) => h.data.building)) : [],
    units: filters.building ? inAddressOrder(inBuilding.map((h) => h.data.unit)) : [],
  };
}

// The jump-to-building index: each 小区 (the chosen one, or all) with its 楼栋.
export function buildingIndex(households, filters) {
  const estates = filters.estate ? [filters.estate] : inAddressOrder(households.map((h) => h.data.estate));
  return estates.map((estate) => ({
    estate,
    buildings: inAddressOrder(households.filter((h) => h.data.estate === estate).map((h) => h.data.building)),
  })).filter((group) => group.buildings.length);
}

// Household id → the Set of its residents' tag codes.
export function tagsByHousehold(residents) {
  const found = new Map();
  for (const r of residents) {
    if (!found.has(r.data.household_id)) found.set(r.data.household_id, new Set());
    for (const tag of r.data.tags || []) found.get(r.data.household_id).add(tag);
  }
  return found;
}

// --- what a row says ---------------------------------------------------------------------

// "上次走访 11月28日", with 未遇 when the last one found nobody home, or "从未走访".
export function lastVisitText(last, now = new Date()) {
  if (!last?.any) return t("从未走访");
  const text = t("上次走访 %(date)s", { date: shortDate(last.any, now) });
  return last.nobody_home && Date.parse(last.nobody_home) >= Date.parse(last.any) ? `${text} · ${t("未遇")}` : text;
}

// The residents' tags by name, each once, in the tags' own order: at most three, then 等.
export function keyTags(residents, tags) {
  const order = new Map(tags.map((tag, i) => [tag.data.code, i]));
  const names = new Map(tags.map((tag) => [tag.data.code, tag.data.name]));
  const codes = [...new Set(residents.flatMap((r) => r.data.tags || []))]
    .sort((a, b) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity));
  const shown = codes.slice(0, KEY_TAGS).map((code) => names.get(code) || code);
  return codes.length > KEY_TAGS ? [...shown, t("等")] : shown;
}
