// What the screens share: badges, the photo field, checks and error notes of forms.
"use strict";

import { ageOn } from "./idnumber.js";
import { rule, t } from "./i18n.js";
import { shot, takeCaption, thumb } from "./photos.js";
import { getBlob } from "./store.js";
import { html, maskPhone } from "./ui.js";

// Who may apply for a travel card, as the server's settings say (CardAges in
// server/workflows/travel_cards.py; the server decides again): `free`, `discount` or null.
// The age must come from a registered ID number.
export function cardTier(resident) {
  const ages = rule("travel_card");
  const age = resident.id_masked ? ageOn(resident.birth_date) : null;
  if (!ages || age === null) return null;
  if (age >= ages.age_threshold) return "free";
  if (ages.discount_age !== null && age >= ages.discount_age) return "discount";
  return null;
}

// The youngest age that may apply, for telling people why not.
export function youngestCardAge() {
  const ages = rule("travel_card");
  if (!ages) return null;
  return ages.discount_age !== null ? ages.discount_age : ages.age_threshold;
}

export function syncBadge(record) {
  if (!record) return "";
  if (record.pending) return html`<span class="badge amber" data-sync="pending">${t("待同步")}</span>`;
  return "";
}

// The photos of a record as thumbnails (tap for full size), and how many still
// wait to be uploaded from this phone. Inside a link: pictures only.
export async function photoBadges(app, hashes, { inLink = false } = {}) {
  if (!hashes || !hashes.length) return "";
  const waiting = [];
  for (const sha of hashes) {
    const local = await getBlob(app.db, sha);
    if (local && !local.uploaded) waiting.push(sha);
  }
  const thumbs = inLink
    ? html`<span class="thumbs" data-photos="${hashes.length}">${hashes.map((sha) => html`<span>${thumb(sha, { inLink })}</span>`)}</span>`
    : html`<ul class="thumbs" data-photos="${hashes.length}" aria-label="${t("照片")}">${hashes.map((sha) => html`<li>${thumb(sha)}</li>`)}</ul>`;
  return waiting.length
    ? html`${thumbs}<span class="badge amber" data-photos-waiting="${waiting.length}">${t("%(n)s 张照片等待上传", { n: waiting.length })}</span>`
    : thumbs;
}

// A number to call from the doorstep: masked on screen (PIPL), whole in the link.
export function telLink(phone) {
  if (!phone) return "";
  const number = phone.replace(/[^\d+-]/g, "");
  const call = t("拨打 %(n)s", { n: maskPhone(phone) });
  return html`<a class="tel" href="tel:${number}" aria-label="${call}">${maskPhone(phone)}</a>`;
}

export function phoneMessage(value) {
  if (!value) return "";
  const phone = value.replace(/[\s()]/g, "").replace(/^\+86/, "");
  if (/^1[3-9]\d{9}$/.test(phone) || /^0\d{2,3}-?\d{7,8}(-\d{1,6})?$/.test(phone)) return "";
  return t("电话号码格式不对：手机号为 1 开头的 11 位数字，座机请带区号（如 0794-1234567）。");
}

export function showErrors(form, errors) {
  form.querySelectorAll(".field-error").forEach((el) => el.remove());
  let first = null;
  for (const [name, message] of Object.entries(errors)) {
    if (!message) continue;
    const input = form.querySelector(`[name="${name}"]`);
    const note = document.createElement("span");
    note.className = "field-error";
    note.textContent = message;
    (input ? input.closest("label") || input : form).appendChild(note);
    first = first || input;
  }
  if (first) first.focus();
  return Object.values(errors).some(Boolean);
}

// Taking photos in a form: thumbnails of those taken (delete, tap for full size)
// and the button that opens the camera. `ticks` names the checkbox that says a
// photo is there; `face` frames the face of a card photo; `taken` the photos
// the record already has.
export function photoField(id, name = "photos", { single = false, ticks = "", face = false, taken = [] } = {}) {
  const shots = taken.filter(Boolean);
  return html`<div class="photos${face ? " face" : ""}">
    ${face ? html`<p class="hint" id="${id}-hint">${t("请让申请人正对镜头，脸部放在椭圆框内，露出双耳，背景干净。")}</p>` : ""}
    <ul class="shots" id="${id}" aria-label="${t("已拍的照片")}">${shots.map((sha) => shot(sha, name))}</ul>
    <label class="button"><span data-photo-caption>${takeCaption(shots.length, single)}</span>
      <input type="file" accept="image/*" capture="environment" class="visually-hidden" data-photo="${id}" data-name="${name}" ${single ? html`data-single="1" data-max="1"` : ""} ${ticks ? html`data-ticks="${ticks}"` : ""} ${face ? html`aria-describedby="${id}-hint"` : ""}>
    </label>
    <p class="muted small">${t("照片会压缩后保存在手机上，联网后自动上传。")}</p>
  </div>`;
}
