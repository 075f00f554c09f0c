// Where a screen opens: at the top when the worker goes somewhere new, where
// they left it when they go back, and on the record just written after a save.
// Each history entry carries a key (for its scroll position) and the address
// it was opened from (for the back arrow and for returning from a form).
"use strict";

const positions = new Map(); // history entry key → scrollY
let arriving = false; // a navigation is being painted: its scroll events are not the worker's
let landing = null; // selector of the record to show after the next navigation
let landed = null; // { selector, until }: the record shown, highlighted through repaints
const HIGHLIGHT = 4000; // ms

function entry() {
  return history.state && history.state.doorstep ? history.state : null;
}

function newEntry(prev) {
  const state = { doorstep: 1, key: crypto.randomUUID(), prev };
  history.replaceState(state, "");
  return state;
}

window.addEventListener("scroll", () => {
  const current = entry();
  if (current && !arriving) positions.set(current.key, window.scrollY);
}, { passive: true });

// Before painting a navigation: an entry seen before (back or forward) gets its
// position back, a new one starts at the top.
export function arrive(previousHash) {
  arriving = true;
  landed = null;
  const known = entry();
  if (known) return positions.get(known.key) ?? 0;
  newEntry(previousHash);
  return 0;
}

// After painting it: scroll, and show the record just written.
export function arrived(y) {
  const target = landing ? document.querySelector(landing) : null;
  landed = target ? { selector: landing, until: Date.now() + HIGHLIGHT } : null;
  landing = null;
  if (target) {
    target.classList.add("just-saved");
    target.scrollIntoView({ block: "center" });
    setTimeout(() => { landed = null; document.querySelectorAll(".just-saved").forEach((el) => el.classList.remove("just-saved")); }, HIGHLIGHT);
  } else {
    window.scrollTo(0, y);
  }
  arriving = false;
}

// A repaint in place (a sync finishing) keeps the highlight of the record just saved.
export function repainted() {
  if (!landed || Date.now() > landed.until) return;
  document.querySelector(landed.selector)?.classList.add("just-saved");
}

// The address the current screen was opened from, if it was opened in this app.
export function previous() {
  return entry()?.prev ?? null;
}

// After a save: back to the screen the form was opened from when that is `hash`
// (so going back later does not reopen the form), else to `hash` in the form's
// place. `land` selects the record to show there. Resolves false when the
// caller must paint (`hash` is the current address).
export function returnTo(hash, land = null) {
  landing = land;
  if (previous() === hash) {
    history.back();
    return true;
  }
  if (location.hash === hash) return false;
  const prev = previous();
  history.replaceState(null, "", hash);
  newEntry(prev);
  return false;
}
