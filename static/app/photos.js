// Photos taken at the door: resized on the phone (long side ≤ 1600 px, JPEG
// quality 0.7), named by their SHA-256 and kept in IndexedDB until uploaded.
// Shown as thumbnails of that blob (or of the server's copy when the phone does
// not hold it), full size in a dialog; a form's photos can be deleted and
// retaken until it is saved.
"use strict";

import { t } from "./i18n.js";
import { dropUnqueuedBlob, getBlob, saveBlob } from "./store.js";
import { html } from "./ui.js";

const LONG_SIDE = 1600;
const QUALITY = 0.7;

async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function resize(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  let blob;
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
    blob = await canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
  } else {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
    blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
  }
  bitmap.close();
  return { blob, width, height };
}

// Resize, hash and keep a photo: its name (the SHA-256), and whether these
// bytes are new on the phone (only a new one may be dropped again on delete).
export async function takePhoto(db, file) {
  const { blob } = await resize(file);
  const sha = await sha256Hex(blob);
  const fresh = await saveBlob(db, sha, blob);
  return { sha, fresh };
}

// --- markup the screens share ---------------------------------------------------

// A thumbnail; its `src` is filled in once it is on the page (see `show`).
// Inside a link it is a plain picture, elsewhere a button that opens it full size.
export function thumb(sha, { inLink = false } = {}) {
  const img = html`<img data-sha="${sha}" alt="${t("照片")}" decoding="async">`;
  return inLink
    ? html`<span class="thumb">${img}</span>`
    : html`<button type="button" class="thumb" data-photo-view aria-label="${t("查看大图")}">${img}</button>`;
}

// One photo of a form: the value it posts, its thumbnail and its delete button.
export function shot(sha, name, { fresh = false } = {}) {
  return html`<li class="shot" data-sha="${sha}" ${fresh ? html`data-fresh="1"` : ""}>
    <input type="hidden" name="${name}" value="${sha}">${thumb(sha)}
    <button type="button" class="small danger" data-photo-delete>${t("删除")}<span class="visually-hidden">${t("这张照片")}</span></button>
  </li>`;
}

export function takeCaption(count, single) {
  return single && count ? t("重拍") : t("拍照");
}

// --- thumbnails: object URLs of the IndexedDB blobs, alive while on the page -----

function imagesIn(node) {
  return node.matches("img[data-sha]") ? [node] : [...node.querySelectorAll("img[data-sha]")];
}

function release(node) {
  for (const img of imagesIn(node)) {
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
  }
}

function unavailable(img) {
  const frame = img.closest(".thumb");
  img.hidden = true;
  if (!frame || frame.querySelector(".unavailable")) return;
  frame.classList.add("missing");
  if (frame instanceof HTMLButtonElement) frame.disabled = true;
  frame.insertAdjacentHTML("beforeend", String(html`<span class="unavailable">${t("照片未在本机")}</span>`));
}

async function show(app, node) {
  await Promise.all(imagesIn(node).map(async (img) => {
    if (img.getAttribute("src") || !app.db) return;
    const local = await getBlob(app.db, img.dataset.sha);
    if (!img.isConnected || img.getAttribute("src")) return;
    img.addEventListener("error", () => unavailable(img), { once: true });
    // Not on this phone (someone else's, or the phone was signed out since): the
    // server's copy, which it gives to whoever may read the record (server/blobs.py).
    img.src = local ? URL.createObjectURL(local.blob) : `/sync/blobs/${img.dataset.sha}`;
  }));
}

// --- the full-size view ------------------------------------------------------------

let viewer = null;
let opener = null;

function theViewer() {
  if (viewer) return viewer;
  viewer = document.createElement("dialog");
  viewer.className = "viewer";
  viewer.setAttribute("aria-labelledby", "viewer-title");
  viewer.innerHTML = String(html`<div class="viewer-bar"><h2 id="viewer-title">${t("照片")}</h2>
    <button type="button" data-viewer-close>${t("关闭")}</button></div><img alt="${t("照片（大图）")}">`);
  viewer.addEventListener("click", (event) => {
    // A tap on the close button or outside the picture closes it.
    if (event.target === viewer || (event.target instanceof Element && event.target.closest("[data-viewer-close]"))) viewer.close();
  });
  viewer.addEventListener("close", () => {
    viewer.querySelector("img").removeAttribute("src");
    if (opener && opener.isConnected) opener.focus();
    opener = null;
  });
  document.body.appendChild(viewer);
  return viewer;
}

function view(button) {
  const img = button.querySelector("img");
  if (!img || !img.getAttribute("src") || img.hidden) return;
  const dialog = theViewer();
  dialog.querySelector("img").src = img.src;
  opener = button;
  dialog.showModal();
  dialog.querySelector("[data-viewer-close]").focus();
}

// --- a form's photos -----------------------------------------------------------------

function inputOf(list) {
  return document.querySelector(`input[type=file][data-photo="${CSS.escape(list.id)}"]`);
}

let onChange = () => {};

// After a photo came or went: the caption, the ticked "photo taken" box, an
// `input` event (the form counts as changed), and the page's hook (its draft).
async function changed(input, list) {
  const count = list.querySelectorAll("input[type=hidden]").length;
  const caption = input.closest("label")?.querySelector("[data-photo-caption]");
  if (caption) caption.textContent = takeCaption(count, Boolean(input.dataset.single));
  const box = input.dataset.ticks && input.form ? input.form.querySelector(`input[name="${CSS.escape(input.dataset.ticks)}"]`) : null;
  if (box) box.checked = count > 0;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  return onChange(input.form);
}

// A photo a draft holds that the freshly painted form lacks (drafts.restore's `addHidden`).
export function restoreShot(form, name, sha) {
  const input = [...form.querySelectorAll("input[type=file][data-photo]")].find((el) => (el.dataset.name || "photos") === name);
  const list = input && document.getElementById(input.dataset.photo);
  if (!list) return;
  if (input.dataset.single) list.replaceChildren();
  list.insertAdjacentHTML("beforeend", String(shot(sha, name)));
  const caption = input.closest("label")?.querySelector("[data-photo-caption]");
  if (caption) caption.textContent = takeCaption(1, Boolean(input.dataset.single));
}

async function taken(app, input) {
  const list = document.getElementById(input.dataset.photo);
  const files = [...input.files];
  input.value = "";
  const limit = Number(input.dataset.max || 12);
  for (const file of files) {
    if (!input.dataset.single && list.querySelectorAll("input[type=hidden]").length >= limit) break;
    const { sha, fresh } = await app.photo(file);
    if (input.dataset.single) {
      for (const old of [...list.querySelectorAll("li.shot")]) if (old.dataset.sha !== sha) forget(app, old);
    }
    if (list.querySelector(`input[value="${sha}"]`)) continue; // the same picture twice
    list.insertAdjacentHTML("beforeend", String(shot(sha, input.dataset.name || "photos", { fresh })));
  }
  await changed(input, list);
}

// Take a photo off its form. Its bytes leave the phone too when nothing else
// names them: taken in this form, not uploaded, in no queued mutation.
function forget(app, item) {
  const { sha } = item.dataset;
  const fresh = Boolean(item.dataset.fresh);
  item.remove();
  if (fresh && !document.querySelector(`input[type=hidden][value="${CSS.escape(sha)}"]`)) {
    dropUnqueuedBlob(app.db, sha).catch((error) => console.warn("photo", error));
  }
}

function remove(app, button) {
  const item = button.closest("li.shot");
  const list = item?.parentElement;
  if (!item || !list) return;
  const input = inputOf(list);
  forget(app, item);
  if (input) {
    input.focus();
    changed(input, list).catch((error) => console.warn("photo", error));
  }
}

// Everything photos need from the page: call once at start. `changedForm(form)`
// runs after a form's photos changed.
export function wirePhotos(app, changedForm = () => {}) {
  onChange = changedForm;
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.removedNodes) if (node instanceof Element) release(node);
      for (const node of record.addedNodes) if (node instanceof Element) show(app, node);
    }
  }).observe(document.body, { childList: true, subtree: true });

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (input instanceof HTMLInputElement && input.type === "file" && input.dataset.photo) {
      taken(app, input).catch((error) => console.error("photo", error));
    }
  });

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target.closest("[data-photo-view], [data-photo-delete]") : null;
    if (!target) return;
    event.preventDefault();
    if (target.matches("[data-photo-view]")) view(target);
    else remove(app, target);
  });

  window.addEventListener("hashchange", () => viewer?.open && viewer.close());
}
