// Drafts: what the worker has typed into a form, kept in IndexedDB as it is
// typed, so leaving the screen, a reload, or the camera killing the tab on a
// cheap phone loses nothing. One draft a form, keyed by the screen's address
// and the form's name; dropped when the form is saved.
"use strict";

import { promised, transact } from "./db.js";

const DELAY = 300; // ms after the last keystroke
// Forms never kept: a password, and a search box.
const NOT_KEPT = new Set(["login", "search", "guide-search"]);

const timers = new Map();

export function draftKey(form) {
  return `${location.hash || "#/"}|${form.dataset.form}`;
}

export function kept(form) {
  return form instanceof HTMLFormElement && Boolean(form.dataset.form) && !NOT_KEPT.has(form.dataset.form);
}

// The form as plain data: every named control, in order, and the form's own
// data-* (ids fixed when it opened: the draft's save is still one record).
function capture(form) {
  const fields = [];
  for (const el of form.elements) {
    if (!el.name || el.type === "file" || el.type === "submit" || el.type === "button") continue;
    if (el.type === "checkbox" || el.type === "radio") fields.push({ name: el.name, value: el.value, checked: el.checked });
    else fields.push({ name: el.name, value: el.value, hidden: el.type === "hidden" || undefined });
  }
  return { dataset: { ...form.dataset }, fields };
}

export function save(db, form) {
  const key = draftKey(form);
  clearTimeout(timers.get(key));
  timers.delete(key);
  const draft = { key, ...capture(form), saved: Date.now() };
  delete draft.dataset.dirty;
  return transact(db, ["drafts"], "readwrite", (tx) => promised(tx.objectStore("drafts").put(draft)));
}

// While typing: saved a moment after the last keystroke.
export function saveSoon(db, form) {
  const key = draftKey(form);
  clearTimeout(timers.get(key));
  timers.set(key, setTimeout(() => { timers.delete(key); save(db, form).catch(() => {}); }, DELAY));
}

export function drop(db, key) {
  clearTimeout(timers.get(key));
  timers.delete(key);
  return transact(db, ["drafts"], "readwrite", (tx) => promised(tx.objectStore("drafts").delete(key)));
}

export function allDrafts(db) {
  return transact(db, ["drafts"], "readonly", (tx) => promised(tx.objectStore("drafts").getAll()));
}

// Put a draft back into the freshly painted form. Hidden values the form does
// not have yet (photos taken) go to `addHidden(form, name, value)`. Returns
// whether there was one.
export async function restore(db, form, addHidden) {
  const draft = await transact(db, ["drafts"], "readonly", (tx) => promised(tx.objectStore("drafts").get(draftKey(form))));
  if (!draft) return false;
  Object.assign(form.dataset, draft.dataset);
  const byName = new Map();
  for (const field of draft.fields) {
    if (!byName.has(field.name)) byName.set(field.name, []);
    byName.get(field.name).push(field);
  }
  for (const [name, saved] of byName) {
    const controls = [...form.elements].filter((el) => el.name === name);
    if (controls.some((el) => el.type === "checkbox" || el.type === "radio")) {
      for (const el of controls) el.checked = saved.some((f) => f.value === el.value && f.checked);
    } else if (saved[0].hidden) {
      const have = new Set(controls.map((el) => el.value));
      for (const f of saved) if (!have.has(f.value)) addHidden(form, name, f.value);
    } else {
      controls.forEach((el, i) => { if (saved[i]) el.value = saved[i].value; });
    }
  }
  form.dataset.dirty = "1";
  return true;
}
