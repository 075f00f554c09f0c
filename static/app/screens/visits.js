// Recording a visit at the door.
"use strict";

import { t } from "../i18n.js";
import { getRecord } from "../store.js";
import { html, options, uuid } from "../ui.js";
import { photoField, showErrors } from "../forms.js";
import { EXPLAINED, explained } from "./guide.js";

// The items of the guide shown at this door since the last visit was saved: checked, to record.
async function explainedField(app) {
  const items = (await Promise.all(explained().map((id) => getRecord(app.db, "service_item", id)))).filter(Boolean);
  if (!items.length) return "";
  return html`<fieldset class="choices" id="explained-items"><legend>${t("讲解了哪些办事事项（一次性告知）")}</legend>
    ${items.map((i) => html`<label class="inline"><input type="checkbox" name="explained_items" value="${i.id}" checked> ${i.data.name}</label>`)}</fieldset>`;
}

export const form = {
  name: "visit-form",
  async render(app, [householdId]) {
    const household = await getRecord(app.db, "household", householdId);
    if (!household) return html`<p class="error">${t("找不到这一户。")}</p>`;
    const params = new URLSearchParams(location.hash.split("?")[1] || "");
    return html`<section class="card"><h1>${t("记录走访")}</h1><p class="muted">${household.data.address}</p>
      <form data-form="visit" class="stack" data-household="${householdId}" data-visit="${uuid()}" data-from="${params.get("from") || ""}">
        <label>${t("走访目的")}<select name="purpose">${options("visit_purpose", params.get("purpose") || "routine")}</select></label>
        <label>${t("走访结果")}<select name="outcome">${options("visit_outcome", "completed", { except: ["planned"] })}</select></label>
        <label>${t("情况记录")}<textarea name="notes" maxlength="2000" placeholder="${t("家里情况、居民反映的问题……")}"></textarea></label>
        ${await explainedField(app)}
        ${photoField("visit-photos")}
        <button type="submit" class="primary">${t("保存走访")}</button>
      </form></section>`;
  },
  forms: {
    async visit(app, form, data) {
      const notes = String(data.get("notes") || "");
      if (showErrors(form, { notes: notes.length > 2000 ? t("太长了，最多 %(n)s 个字。", { n: 2000 }) : "" })) return;
      // The id is fixed when the form opens: pressing save twice is one visit.
      await app.write("visit.record", {
        visit_id: form.dataset.visit, household_id: form.dataset.household,
        purpose: String(data.get("purpose")), outcome: String(data.get("outcome")), notes,
        photos: data.getAll("photos").map(String), explained_items: data.getAll("explained_items").map(String),
      });
      sessionStorage.removeItem(EXPLAINED);
      app.say(t("走访已保存，联网后同步。"));
      // From the 工作台, back to it: the task is gone at once.
      if (form.dataset.from === "today") app.returnTo("#/", "#task-counts");
      else app.returnTo(`#/h/${form.dataset.household}`, `[data-visit="${form.dataset.visit}"]`);
    },
  },
};
