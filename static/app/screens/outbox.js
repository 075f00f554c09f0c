// What waits to sync, what the server sent back and why, and conflicts with both values.
"use strict";

import { t } from "../i18n.js";
import { allOf, blobsToUpload, dismiss, getRecord, outboxEntries } from "../store.js";
import { N_, html, label, maskPhone, uuid, when } from "../ui.js";

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
  "demand.suspend": N_("暂停计时"),
  "demand.resume": N_("恢复计时"),
  "travel_card.create": N_("出行卡申请"),
  "travel_card.update": N_("修改出行卡申请"),
  "travel_card.submit": N_("提交出行卡申请"),
  "travel_card.advance": N_("出行卡送达"),
  "travel_card.cancel": N_("撤销出行卡申请"),
  "travel_card.plan_review": N_("安排年审走访"),
  "conflict.resolve": N_("处理冲突"),
  "notice.read": N_("已读消息"),
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

// The words for an argument of a mutation ("set.phone" → 电话), never its key.
const ARG_NAMES = {
  name: N_("姓名"), notes: N_("备注"), note: N_("说明"), description: N_("诉求内容"), answer: N_("答复内容"),
  comment: N_("居民意见"), reason: N_("原因"), contact_name: N_("联系人"), contact_phone: N_("联系电话"),
  address: N_("地址"), estate: N_("小区"), building: N_("楼栋"), unit: N_("单元"), room: N_("门牌"),
  purpose: N_("走访目的"), outcome: N_("走访结果"), field: N_("领域"), source: N_("来源"), rating: N_("评价"),
  relation: N_("与户主关系"), planned_for: N_("计划日期"), to: N_("下一步"), choice: N_("选择"),
};

function argName(path) {
  const key = path.split(".").at(-1);
  return ARG_NAMES[key] ? t(ARG_NAMES[key]) : label("conflict_field", key);
}

function shown(value, field) {
  if (value === null || value === undefined || value === "") return t("（空）");
  if (field === "phone" && typeof value === "string") return maskPhone(value); // never a full number on screen
  if (Array.isArray(value)) return value.join("、");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// What the entry changed, in words: the fields an update sets, or the text the worker wrote.
function describe(entry) {
  const a = entry.args;
  if (a.set) return Object.keys(a.set).map((key) => label("conflict_field", key)).join("、");
  return a.notes || a.description || a.note || a.answer || a.comment || a.reason || "";
}

function joinAddress(a) {
  return [a.estate, a.building, a.unit, a.room].filter(Boolean).join(" ");
}

// For whom and where, and the screen that shows the record: "张三 · 5栋2单元1002室".
async function subject(db, entry) {
  const a = entry.args;
  const household = async (id) => (id ? (await getRecord(db, "household", id))?.data : null);
  const resident = async (id) => (id ? (await getRecord(db, "resident", id))?.data : null);
  const kind = entry.name.split(".")[0];
  if (kind === "visit" || kind === "household") {
    const h = await household(a.household_id);
    return { who: "", where: h?.address || joinAddress(a), href: a.household_id ? `#/h/${a.household_id}` : "" };
  }
  if (kind === "resident") {
    const r = await resident(a.resident_id);
    const householdId = a.household_id || r?.household_id;
    const h = await household(householdId);
    return { who: a.name || a.set?.name || r?.name || "", where: h?.address || "", href: householdId ? `#/h/${householdId}` : "" };
  }
  if (kind === "demand") {
    const d = (await getRecord(db, "demand", a.demand_id))?.data;
    const h = await household(a.household_id || d?.household_id);
    return { who: a.contact_name || d?.contact_name || "", where: h?.address || d?.address || a.address || "", href: `#/d/${a.demand_id}` };
  }
  if (kind === "travel_card") {
    const c = (await getRecord(db, "travel_card", a.application_id))?.data;
    const r = await resident(a.resident_id || c?.resident_id);
    const h = await household(r?.household_id || c?.household_id);
    return { who: r?.name || "", where: h?.address || "", href: `#/card/${a.application_id}` };
  }
  if (kind === "conflict") {
    const c = (await getRecord(db, "conflict", a.conflict_id))?.data;
    const record = c ? (await getRecord(db, c.record_type, c.record_id))?.data : null;
    return { who: record?.name || "", where: record?.address || "", href: "" };
  }
  return { who: "", where: "", href: "" };
}

// "添加居民 · 张三 · 5栋2单元1002室", a link to the record when there is one.
function heading(entry, about) {
  const text = [t(NAMES[entry.name] || entry.name), about.who, about.where].filter(Boolean).join(" · ");
  return about.href ? html`<a class="title" href="${about.href}" data-subject>${text}</a>` : html`<span class="title" data-subject>${text}</span>`;
}

export const screen = {
  name: "outbox",
  async render(app) {
    const [entries, photos, conflicts] = await Promise.all([outboxEntries(app.db), blobsToUpload(app.db), allOf(app.db, "conflict")]);
    const byId = (a, b) => a.id - b.id;
    const pending = entries.filter((e) => e.status === "pending").sort(byId);
    const rejected = entries.filter((e) => e.status === "rejected" && !e.dismissed).sort(byId);
    const dismissed = entries.filter((e) => e.status === "rejected" && e.dismissed).sort(byId);
    const handed = entries.filter((e) => e.status === "handed_over").sort(byId);
    const about = new Map();
    for (const e of [...pending, ...rejected, ...dismissed, ...handed]) about.set(e.id, await subject(app.db, e));
    const open = conflicts.filter((c) => c.data.status === "open");
    const s = app.status || {};
    const conflictRows = [];
    for (const c of open) {
      const record = await getRecord(app.db, c.data.record_type, c.data.record_id);
      const where = record ? [record.data.name, record.data.address].filter(Boolean).join(" · ") : "";
      const href = record ? (c.data.record_type === "household" ? `#/h/${record.id}` : record.data.household_id ? `#/h/${record.data.household_id}` : "") : "";
      conflictRows.push(html`<li class="card" data-conflict="${c.id}">
        <p><strong>${label("conflict_field", c.data.field)}</strong> · ${href ? html`<a href="${href}">${where}</a>` : where}</p>
        <dl class="facts">
          <dt>${t("服务器上的")}</dt><dd data-value="server">${shown(c.data.server_value, c.data.field)}</dd>
          <dt>${t("手机上改的")}</dt><dd data-value="client">${shown(c.data.client_value, c.data.field)}</dd>
          ${c.data.created_at ? html`<dt>${t("修改时间")}</dt><dd>${when(c.data.created_at)}</dd>` : ""}
        </dl>
        <div class="actions">
          <button type="button" data-action="resolve" data-conflict="${c.id}" data-choice="server">${t("保留服务器上的")}</button>
          <button type="button" data-action="resolve" data-conflict="${c.id}" data-choice="client">${t("用手机上改的")}</button>
        </div></li>`);
    }
    return html`<section>
      <h1>${t("待同步")}</h1>
      <p class="muted" id="outbox-summary" data-pending="${pending.length}" data-rejected="${rejected.length}" data-photos="${photos.length}" data-conflicts="${open.length}">
        ${pending.length || photos.length ? t("%(n)s 条记录、%(p)s 张照片等待上传。", { n: pending.length, p: photos.length }) : t("没有等待上传的内容。")}
        ${s.lastSync ? t("上次同步：%(w)s", { w: when(s.lastSync) }) : t("尚未同步。")}
      </p>
      <button type="button" data-action="sync-now" class="primary">${t("立即同步")}</button>
      <ul class="list plain" id="pending">${pending.map((e) => html`<li data-entry="${e.id}" data-status="pending">
        ${heading(e, about.get(e.id))} <span class="badge amber">${t("待同步")}</span>
        <span class="meta"><time datetime="${e.at}">${when(e.at)}</time>${describe(e) ? html` · ${describe(e)}` : ""}</span></li>`)}</ul>
    </section>
    <section>
      <h2>${t("被退回（%(n)s）", { n: rejected.length })}</h2>
      ${rejected.length ? "" : html`<p class="muted">${t("没有被退回的内容。")}</p>`}
      <ul class="list plain" id="rejected">${rejected.map((e) => html`<li class="card" data-entry="${e.id}" data-status="rejected" data-code="${e.result.code}">
        <p>${heading(e, about.get(e.id))} <span class="badge red">${t("被退回")}</span></p>
        <p class="meta"><time datetime="${e.at}">${when(e.at)}</time>${describe(e) ? html` · ${describe(e)}` : ""}</p>
        <p class="error" data-reason>${e.result.message}</p>
        ${editable(e.args).length ? html`<details><summary>${t("修改后重新提交")}</summary>
          <form data-form="fix" class="stack" data-entry="${e.id}">
            ${editable(e.args).map(([path, value]) => html`<label>${argName(path)}<input name="${path}" value="${value}"></label>`)}
            <button type="submit" class="primary">${t("重新提交")}</button>
          </form></details>` : ""}
        <div class="actions"><button type="button" class="primary" data-action="dismiss" data-entry="${e.id}">${t("知道了")}</button></div>
      </li>`)}</ul>
      ${dismissed.length ? html`<details id="dismissed-section"><summary>${t("已知悉的退回（%(n)s）", { n: dismissed.length })}</summary>
        <p class="muted small">${t("这些内容没有上传，记录保留在手机上备查。")}</p>
        <ul class="list plain" id="dismissed">${dismissed.map((e) => html`<li data-entry="${e.id}" data-status="dismissed">
          ${heading(e, about.get(e.id))}
          <p class="meta"><time datetime="${e.at}">${when(e.at)}</time> · ${t("知悉于 %(w)s", { w: when(e.dismissed) })}</p>
          <p class="muted small" data-reason>${e.result.message}</p></li>`)}</ul></details>` : ""}
    </section>
    ${handed.length ? html`<section id="handed-over">
      <h2>${t("已转交（%(n)s）", { n: handed.length })}</h2>
      <p class="muted small">${t("这些住户已调整到其他网格；您离线时做的修改没有丢，已交给现在负责的人处理。")}</p>
      <ul class="list plain">${handed.map((e) => html`<li data-entry="${e.id}" data-status="handed_over">
        ${heading(e, about.get(e.id))} <span class="badge">${t("已转交")}</span>
        <p class="meta"><time datetime="${e.at}">${when(e.at)}</time></p>
        <p class="muted small" data-handed-to>${e.result.message}</p></li>`)}</ul>
    </section>` : ""}
    <section>
      <h2>${t("冲突（%(n)s）", { n: open.length })}</h2>
      <p class="muted small">${t("您在离线时修改的内容，别人也改过。两个值都保留着，请选一个；社区也可以在办公页面处理。")}</p>
      <ul class="list plain" id="conflicts">${conflictRows}</ul>
    </section>`;
  },
  actions: {
    async dismiss(app, button) {
      await dismiss(app.db, Number(button.dataset.entry));
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
      await dismiss(app.db, id); // the refused one stays on the phone, replaced by the new entry
      app.say(t("已重新提交。"));
      app.render();
    },
  },
};
