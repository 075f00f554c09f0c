// Field-app strings: Chinese in the code, English from the server's catalogue
// (/app/messages/en.json, made from server/locale — the same gettext files).
"use strict";

let table = {};
let names = {};
let lang = "zh";

function cookieLang() {
  const match = document.cookie.match(/(?:^|; )doorstep_lang=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "zh";
}

async function json(url, options) {
  try {
    const response = await fetch(url, options);
    return response.ok ? await response.json() : {};
  } catch (_) {
    return {};
  }
}

export async function loadLanguage() {
  lang = cookieLang() === "en" ? "en" : "zh";
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  // Labels come from the server (server/labels.py), so phone and office use the same words.
  [names, table] = await Promise.all([json(`/app/labels/${lang}.json`), lang === "zh" ? {} : json(`/app/messages/${lang}.json`)]);
}

// After a sync: admins may have renamed a field or changed who may apply for a card.
// Offline, the service worker answers with the copy it kept; nothing is lost.
export async function refreshLabels() {
  const fresh = await json(`/app/labels/${lang}.json`, { signal: AbortSignal.timeout(5000) }); // a slow line must not hold the screen
  if (Object.keys(fresh).length) names = fresh;
}

// A rule of the server's settings the phone applies at the door: rule("travel_card").
export function rule(name) {
  return (names.rules || {})[name] || null;
}

// The name of a coded value: label("demand_status", "dispatched") → "已派单".
export function label(group, value) {
  return (names[group] || {})[value] ?? value ?? "";
}

export function labelsOf(group) {
  return names[group] || {};
}

export function setLanguage(code) {
  document.cookie = `doorstep_lang=${code}; path=/; max-age=31536000; samesite=lax`;
}

// t("还有 %(n)s 条待同步", { n: 3 })
export function t(message, params) {
  let text = table[message] || message;
  if (params) text = text.replace(/%\((\w+)\)s/g, (_, key) => String(params[key] ?? "")).replace(/%%/g, "%");
  return text;
}
