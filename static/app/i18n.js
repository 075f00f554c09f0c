// Field-app strings: Chinese in the code, English from the server's catalogue
// (/app/messages/en.json, made from server/locale — the same gettext files).
"use strict";

let table = {};
export let lang = "zh";

function cookieLang() {
  const match = document.cookie.match(/(?:^|; )doorstep_lang=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "zh";
}

export async function loadLanguage() {
  lang = cookieLang() === "en" ? "en" : "zh";
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  if (lang === "zh") return;
  try {
    const response = await fetch(`/app/messages/${lang}.json`);
    table = response.ok ? await response.json() : {};
  } catch (_) {
    table = {};
  }
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
