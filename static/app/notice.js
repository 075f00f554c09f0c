// Confirmations ("走访已保存，联网后同步。"): outside the screen, so re-renders by
// a background sync leave them, announced by screen readers (role=status), kept
// for a few seconds or until the worker goes somewhere else.
"use strict";

const KEEP = 6000; // ms

let timer = null;
let carried = false; // the save's own navigation keeps it; the next one clears it

function box() {
  return document.getElementById("notice");
}

export function say(message) {
  const el = box();
  if (!el) return;
  clearTimeout(timer);
  el.textContent = message;
  el.hidden = false;
  carried = true;
  timer = setTimeout(clear, KEEP);
}

export function clear() {
  const el = box();
  if (!el) return;
  clearTimeout(timer);
  el.textContent = "";
  el.hidden = true;
}

// Every navigation: the first one after a save is the save's own.
export function navigated() {
  if (carried) carried = false;
  else clear();
}
