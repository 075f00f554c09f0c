// What waits to sync, what the server sent back and why, and conflicts with both values.
"use strict";

import { t } from "../i18n.js";
import { allOf, blobsToUpload, discard, getRecord, outboxEntries } from "../store.js";
import { N_, html, label, uuid, when } from "../ui.js";

const NAMES = {
  "visit.record": N_("走访记录"),
  "household.create": N_("新增住户"),
  "household.update": N_("修改户信息"),
  "resident.create": N_("添加居民"),
  "resident.update": N_("修改居民"),
  "demand.create": N_("登记诉求"),
  "demand.accept": N_("接单"),
  "demand.progress": N_("诉求进展"),
  "demand.reply": N_("答复居民"),
  "demand.resolve": N_("办结诉求"),
  "demand.rate": N_("居民评价"),
  "travel_card.create": N_("出行卡申请"),
  "travel_card.update": N_("修改出行卡申请"),
  "travel_card.submit": N_("提交出行卡申请"),
  "travel_card.advance": N_("出行卡送达"),
  "travel_card.cancel": N_("撤销出行卡申请"),
  "travel_card.plan_review": N_("安排年审走访"),
  "conflict.resolve": N_("处理冲突"),
};

// The id a create mutation gives its new record; a fix after `id_reused` needs a fresh one.
const OWN_ID = {
  "visit.record": "visit_id",
  "household.create": "household_id",
  "resident.create": "resident_id",
  "demand.create": "demand_id",
  "travel_card.create": "application_id",
};

// Arguments people can correct; ids and versions are not theirs to edit.
function editable(args, prefix = "") {
  const fields = [];
  for (const [key, value] of Object.entries(args)) {
    if (key.endsWith("_id") || key === "base_version" || key === "photos") continue;
    if (typeof value === "string") fields.push([prefix + key, value]);
    else if (value && typeof value === "object" && !Array.isArray(value)) fields.push(...editable(value, `${prefix}${key}.`));
  }
  return fields;
}

function setPath(args, path, value) {
  const copy = structuredClone(args);
  const keys = path.split(".");
  let target = copy;
  for (const key of keys.slice(0, -1)) target = target[key];
  target[keys.at(-1)] = value;
  return copy;
}

function shown(value) {
  if (value === null || value === undefined || value === "") return t("（空）");
  if (Array.isArray(value)) return value.join("、");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function describe(entry) {
  const a = entry.args;
  return a.notes || a.description || a.note || a.answer || (a.set ? Object.keys(a.set).join("、") : "") || "";
}

export const screen = {
  name: "outbox",
  async render(app) {
    const [entries, photos, conflicts] = await Promise.all([outboxEntries(app.db), blobsToUpload(app.db), allOf(app.db, "conflict")]);
    const pending = entries.filter((e) => e.status === "pending").sort((a, b) => a.id - b.id);
    const rejected = entries.filter((e) => e.status === "rejected").sort((a, b) => a.id - b.id);
    const open = conflicts.filter((c) => c.data.status === "open");
    const s = app.status || {};
    const conflictRows = [];
    for (const c of open) {
      const record = await getRecord(app.db, c.data.record_type, c.data.record_id);
      const where = record ? record.data.address || record.data.name || "" : "";
      conflictRows.push(html`<li class="card" data-conflict="${c.id}">
        <p><strong>${label("conflict_field", c.data.field)}</strong> · ${where}</p>
        <dl class="facts">
          <dt>${t("服务器上的")}</dt><dd data-value="server">${shown(c.data.server_value)}</dd>
          <dt>${t("手机上改的")}</dt><dd data-value="client">${shown(c.data.client_value)}</dd>
        </dl>
        <div class="actions">
          <button type="button" data-action="resolve" data-conflict="${c.id}" data-choice="server">${t("保留服务器上的")}</button>
          <button type="button" data-action="resolve" data-conflict="${c.id}" data-choice="client">${t("用手机上改的")}</button>
        </div></li>`);
    }
    return html`<section>
      <h1>${t("待同步")}</h1>
      <p class="muted" id="outbox-summary" data-pending="${pending.length}" data-rejected="${rejected.length}" data-photos="${photos.length}">
        ${pending.length || photos.length ? t("%(n)s 条记录、%(p)s 张照片等待上传。", { n: pending.length, p: photos.length }) : t("没有等待上传的内容。")}
        ${t("上次同步：%(w)s", { w: s.lastSync ? when(s.lastSync) : t("从未") })}
      </p>
      <button type="button" data-action="sync-now" class="primary">${t("立即同步")}</button>
      <ul class="list plain" id="pending">${pending.map((e) => html`<li data-entry="${e.id}" data-status="pending">
        <span class="title">${t(NAMES[e.name] || e.name)}</span> <span class="badge amber">${t("待同步")}</span>
        <span class="meta">${when(e.at)} · ${describe(e)}</span></li>`)}</ul>
    </section>
    <section>
      <h2>${t("被退回（%(n)s）", { n: rejected.length })}</h2>
      ${rejected.length ? "" : html`<p class="muted">${t("没有被退回的内容。")}</p>`}
      <ul class="list plain" id="rejected">${rejected.map((e) => html`<li class="card" data-entry="${e.id}" data-status="rejected" data-code="${e.result.code}">
        <p><span class="title">${t(NAMES[e.name] || e.name)}</span> <span class="badge red">${t("被退回")}</span> <span class="meta">${when(e.at)}</span></p>
        <p class="error" data-reason>${e.result.message}</p>
        <p class="meta">${describe(e)}</p>
        ${editable(e.args).length ? html`<details><summary>${t("修改后重新提交")}</summary>
          <form data-form="fix" class="stack" data-entry="${e.id}">
            ${editable(e.args).map(([path, value]) => html`<label>${path}<input name="${path}" value="${value}"></label>`)}
            <button type="submit" class="primary">${t("重新提交")}</button>
          </form></details>` : ""}
        <button type="button" class="danger" data-action="discard" data-entry="${e.id}">${t("放弃这条")}</button>
      </li>`)}</ul>
    </section>
    <section>
      <h2>${t("冲突（%(n)s）", { n: open.length })}</h2>
      <p class="muted small">${t("您在离线时修改的内容，别人也改过。两个值都保留着，请选一个；社区也可以在办公页面处理。")}</p>
      <ul class="list plain" id="conflicts">${conflictRows}</ul>
    </section>`;
  },
  actions: {
    async discard(app, button) {
      const id = Number(button.dataset.entry);
      if (!window.confirm(t("放弃后，这条记录不会再上传。确定放弃吗？"))) return;
      if (!window.confirm(t("再确认一次：真的放弃这条记录吗？此操作不能撤销。"))) return;
      await discard(app.db, app.me, id);
      await app.refreshStatus();
      app.render();
    },
    async resolve(app, button) {
      await app.write("conflict.resolve", { conflict_id: button.dataset.conflict, choice: button.dataset.choice });
      app.render();
    },
  },
  forms: {
    async fix(app, form, data) {
      const id = Number(form.dataset.entry);
      const entry = (await outboxEntries(app.db)).find((e) => e.id === id);
      if (!entry) return;
      let args = entry.args;
      for (const [path, value] of data.entries()) args = setPath(args, path, String(value));
      const own = OWN_ID[entry.name];
      if (entry.result.code === "id_reused" && own) args = { ...args, [own]: uuid() }; // the old id is taken
      await app.write(entry.name, args);
      await discard(app.db, app.me, id);
      app.say(t("已重新提交。"));
      app.render();
    },
  },
};
