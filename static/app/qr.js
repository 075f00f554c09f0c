// A QR code drawn from the modules the server worked out (/app/guide-qr.json,
// server/routes/guide.py `qr_modules`): the phone shows it offline.
"use strict";

import { getMeta, setMeta } from "./db.js";
import { html } from "./ui.js";

const KEPT = "guide-qr";
let codes = {};

// After every sync, like the labels, and kept with the user's data for the days offline.
export async function refreshCodes(db) {
  if (!db) return;
  try {
    const response = await fetch("/app/guide-qr.json", { signal: AbortSignal.timeout(5000) });
    if (response.ok) {
      codes = (await response.json()).codes || {};
      await setMeta(db, KEPT, codes);
    }
  } catch (_) { /* offline: the copy kept at the last sync */ }
}

// On opening the app, offline too.
export async function loadCodes(db) {
  codes = (db && (await getMeta(db, KEPT))) || {};
}

export function hasCode(id) {
  return Boolean(codes[id]);
}

// One path of unit squares for the dark modules, with a quiet zone of 2.
export function qrSvg(id, title) {
  const code = codes[id];
  if (!code) return null;
  const { size, hex } = code;
  const parts = [];
  for (let i = 0; i < size * size; i += 1) {
    if ((parseInt(hex[i >> 2], 16) >> (3 - (i & 3))) & 1) parts.push(`M${(i % size) + 2} ${Math.floor(i / size) + 2}h1v1h-1z`);
  }
  const box = size + 4;
  return html`<svg class="qr" viewBox="0 0 ${box} ${box}" role="img" aria-label="${title}" shape-rendering="crispEdges"><rect width="${box}" height="${box}" fill="#fff"/><path fill="#000" d="${parts.join("")}"/></svg>`;
}
