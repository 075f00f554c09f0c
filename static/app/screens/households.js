// Households of the worker's grids: list with search, detail, edits, residents.
"use strict";

import { checkIdNumber, ageOn } from "../idnumber.js";
import { t } from "../i18n.js";
import { allOf, childrenOf, getRecord } from "../store.js";
import { Html, html, label, maskPhone, options, uuid, when } from "../ui.js";
import { CARD_AGE, phoneMessage, photoBadges, showErrors, syncBadge } from "../forms.js";

const PAGE = 50;

function idMessage(value) {
  if (!value) return "";
  const result = checkIdNumber(value);
  return {
    shape: t("身份证号应为 18 位（最后一位可以是 X），或 15 位旧号码。"),
    checksum: t("身份证号校验位不对，请核对后重新输入。"),
    birth_date: t("身份证号中的出生日期无效。"),
  }[result.error] || "";
}

function matches(query, household, residents) {
  if (!query) return true;
  const q = query.trim().toLowerCase();
  if (household.data.address.toLowerCase().includes(q)) return true;
  const digits = q.replace(/\D/g, "");
  if (digits.length >= 4 && (household.data.phone || "").endsWith(digits)) return true;
  return residents.some((r) => r.data.name.includes(q) || (digits.length >= 4 && (r.data.phone || "").endsWith(digits)));
}

export const list = {
  name: "households",
  async render(app) {
    const params = new URLSearchParams(location.hash.split("?")[1] || "");
    const query = params.get("q") || "";
    const shown = Number(params.get("n") || PAGE);
    const [households, residents] = await Promise.all([allOf(app.db, "household"), allOf(app.db, "resident")]);
    const byHousehold = new Map();
    for (const r of residents) {
      if (!byHousehold.has(r.data.household_id)) byHousehold.set(r.data.household_id, []);
      byHousehold.get(r.data.household_id).push(r);
    }
    const found = households
      .filter((h) => matches(query, h, byHousehold.get(h.id) || []))
      .sort((a, b) => a.data.address.localeCompare(b.data.address, "zh-CN", { numeric: true }));
    const rows = found.slice(0, shown).map((h) => {
      const people = byHousehold.get(h.id) || [];
      const head = people.find((r) => r.data.relation === "head") || people[0];
      return html`<li><a href="#/h/${h.id}" data-household="${h.id}">
        <span class="title">${h.data.address}</span> ${syncBadge(h)}
        <span class="meta">${head ? head.data.name : t("暂无居民")} · ${t("%(n)s 人", { n: people.length })} · ${maskPhone(h.data.phone)}</span>
        <span class="meta"><span class="badge">${label("household_kind", h.data.kind)}</span>${h.data.status !== "active" ? html`<span class="badge amber">${label("household_status", h.data.status)}</span>` : ""}</span>
      </a></li>`;
    });
    return html`<section>
      <form data-form="search" class="searchbar" role="search">
        <input type="search" name="q" value="${query}" placeholder="${t("搜索地址、姓名或电话后四位")}" aria-label="${t("搜索住户")}">
        <button type="submit">${t("搜索")}</button>
      </form>
      <p class="muted small" id="household-count">${t("共 %(n)s 户", { n: found.length })}${households.length ? "" : html` · ${t("还没有数据：联网后会自动下载您网格的住户。")}`}</p>
      <ul class="list" id="households">${rows}</ul>
      ${found.length > shown ? html`<p><a class="button" href="#/?q=${encodeURIComponent(query)}&n=${shown + PAGE}">${t("显示更多")}</a></p>` : ""}
    </section>`;
  },
  forms: {
    async search(app, form, data) {
      app.go(`#/?q=${encodeURIComponent(String(data.get("q") || ""))}`);
    },
  },
};

export const detail = {
  name: "household",
  async render(app, [id]) {
    const household = await getRecord(app.db, "household", id);
    if (!household) {
      return html`<section class="card"><h1>${t("找不到这一户")}</h1><p>${t("可能已调整到其他网格，或还没有同步到这台手机。")}</p><p><a href="#/">${t("回到住户列表")}</a></p></section>`;
    }
    const [residents, visits, demands, cards, tags] = await Promise.all([
      childrenOf(app.db, "resident", id),
      childrenOf(app.db, "visit", id),
      childrenOf(app.db, "demand", id),
      childrenOf(app.db, "travel_card", id),
      allOf(app.db, "tag"),
    ]);
    const tagName = new Map(tags.map((tag) => [tag.data.code, tag.data.name]));
    const h = household.data;
    residents.sort((a, b) => (a.data.relation === "head" ? -1 : b.data.relation === "head" ? 1 : 0));
    visits.sort((a, b) => String(b.data.at).localeCompare(String(a.data.at)));
    const openCards = new Map(cards.filter((c) => !["rejected", "cancelled"].includes(c.data.status)).map((c) => [c.data.resident_id, c]));
    const residentRows = residents.map((r) => {
      const age = ageOn(r.data.birth_date);
      const card = openCards.get(r.id);
      return html`<li class="resident" data-resident="${r.id}">
        <div><span class="title">${r.data.name}</span> ${syncBadge(r)}
          <span class="meta">${label("relation", r.data.relation)} · ${label("sex", r.data.sex)}${age !== null ? html` · ${t("%(n)s 岁", { n: age })}` : ""} · ${r.data.id_masked}${r.data.phone ? html` · ${maskPhone(r.data.phone)}` : ""}</span>
          ${(r.data.tags || []).length ? html`<span class="meta">${r.data.tags.map((tag) => html`<span class="badge">${tagName.get(tag) || tag}</span>`)}</span>` : ""}
        </div>
        <div class="actions">
          <a class="button small" href="#/r/${r.id}/edit">${t("修改")}</a>
          ${card
            ? html`<a class="button small" href="#/card/${card.id}">${t("出行卡：%(s)s", { s: label("card_status", card.data.status) })}</a>`
            : age !== null && age >= CARD_AGE
              ? html`<a class="button small primary" href="#/r/${r.id}/card" data-start-card="${r.id}">${t("办理老年出行卡")}</a>`
              : ""}
        </div>
      </li>`;
    });
    const visitRows = [];
    for (const v of visits) {
      visitRows.push(html`<li data-visit="${v.id}"><span class="title">${when(v.data.at)} · ${label("visit_purpose", v.data.purpose)} · ${label("visit_outcome", v.data.outcome)}</span> ${syncBadge(v)}
        ${v.data.notes ? html`<span class="meta">${v.data.notes}</span>` : ""} ${await photoBadges(app, v.data.photos)}</li>`);
    }
    const demandRows = [];
    for (const d of demands) {
      demandRows.push(html`<li data-demand="${d.id}"><a href="#/d/${d.id}"><span class="title">${label("demand_field", d.data.field)} · ${label("demand_status", d.data.status)}</span> ${syncBadge(d)}
        <span class="meta">${d.data.description}</span> ${await photoBadges(app, d.data.photos, { inLink: true })}</a></li>`);
    }
    return html`<section class="card" data-household="${id}">
      <h1>${h.address} ${syncBadge(household)}</h1>
      <dl class="facts">
        <dt>${t("类型")}</dt><dd>${label("household_kind", h.kind)}</dd>
        <dt>${t("状态")}</dt><dd>${label("household_status", h.status)}</dd>
        <dt>${t("电话")}</dt><dd>${maskPhone(h.phone) || t("未登记")}</dd>
        ${h.notes ? html`<dt>${t("备注")}</dt><dd>${h.notes}</dd>` : ""}
      </dl>
      <div class="actions">
        <a class="button primary" href="#/h/${id}/visit">${t("记录走访")}</a>
        <a class="button" href="#/h/${id}/demand">${t("登记诉求")}</a>
        <a class="button" href="#/h/${id}/resident">${t("添加居民")}</a>
        <a class="button" href="#/h/${id}/edit">${t("修改户信息")}</a>
      </div>
    </section>
    <section><h2>${t("居民（%(n)s）", { n: residents.length })}</h2><ul class="list plain">${residentRows}</ul></section>
    ${demandRows.length ? html`<section><h2>${t("诉求")}</h2><ul class="list">${demandRows}</ul></section>` : ""}
    <section><h2>${t("走访记录（%(n)s）", { n: visits.length })}</h2>
      ${visits.length ? html`<ul class="list plain" id="visits">${visitRows}</ul>` : html`<p class="muted">${t("还没有走访记录。")}</p>`}
    </section>`;
  },
};

export const edit = {
  name: "household-edit",
  async render(app, [id]) {
    const household = await getRecord(app.db, "household", id);
    if (!household) return html`<p class="error">${t("找不到这一户。")}</p>`;
    const h = household.data;
    return html`<section class="card"><h1>${t("修改户信息")}</h1><p class="muted">${h.address}</p>
      <form data-form="household" class="stack" data-id="${id}" data-version="${household.version}">
        <label>${t("电话")}<input name="phone" value="${h.phone}" inputmode="tel" autocomplete="off"></label>
        <label>${t("状态")}<select name="status">${options("household_status", h.status)}</select></label>
        <label>${t("类型")}<select name="kind">${options("household_kind", h.kind)}</select></label>
        <label>${t("备注")}<textarea name="notes" maxlength="2000">${h.notes}</textarea></label>
        <button type="submit" class="primary">${t("保存")}</button>
      </form></section>`;
  },
  forms: {
    async household(app, form, data) {
      const id = form.dataset.id;
      const current = (await getRecord(app.db, "household", id)).data;
      const set = {};
      for (const name of ["phone", "status", "kind", "notes"]) {
        const value = String(data.get(name) || "").trim();
        if (value !== (current[name] || "")) set[name] = value;
      }
      if (showErrors(form, { phone: phoneMessage(set.phone) })) return;
      if (Object.keys(set).length) {
        await app.write("household.update", { household_id: id, base_version: Number(form.dataset.version), set });
        app.say(t("已保存，联网后同步。"));
      }
      app.returnTo(`#/h/${id}`, `[data-household="${id}"]`);
    },
  },
};

export const residentForm = {
  name: "resident-form",
  async render(app, [id]) {
    const editing = location.hash.startsWith("#/r/");
    const resident = editing ? await getRecord(app.db, "resident", id) : null;
    if (editing && !resident) return html`<p class="error">${t("找不到这位居民。")}</p>`;
    const r = resident ? resident.data : { name: "", relation: "head", phone: "", notes: "", tags: [] };
    const householdId = resident ? r.household_id : id;
    const tags = (await allOf(app.db, "tag")).filter((tag) => tag.data.active !== false).sort((a, b) => (a.data.sort || 0) - (b.data.sort || 0));
    const tagBoxes = tags.map((tag) => html`<label class="inline chip"><input type="checkbox" name="tags" value="${tag.data.code}" ${(r.tags || []).includes(tag.data.code) ? new Html("checked") : ""}>${tag.data.name}</label>`);
    return html`<section class="card"><h1>${editing ? t("修改居民") : t("添加居民")}</h1>
      <form data-form="resident" class="stack" data-household="${householdId}" data-id="${editing ? id : ""}" data-version="${resident ? resident.version : 0}">
        <label>${t("姓名")}<input name="name" value="${r.name}" required maxlength="40"></label>
        <label>${t("与户主关系")}<select name="relation">${options("relation", r.relation)}</select></label>
        <label>${t("身份证号")}${editing ? html` <span class="muted small">${t("现存：%(m)s；不改请留空", { m: r.id_masked || t("未登记") })}</span>` : ""}
          <input name="id_number" inputmode="text" autocomplete="off" maxlength="18" autocapitalize="characters"></label>
        <label>${t("电话")}<input name="phone" value="${r.phone}" inputmode="tel" autocomplete="off"></label>
        <fieldset class="chips"><legend>${t("标签")}</legend>${tagBoxes}</fieldset>
        <label>${t("备注")}<textarea name="notes" maxlength="2000">${r.notes}</textarea></label>
        <button type="submit" class="primary">${t("保存")}</button>
      </form></section>`;
  },
  forms: {
    async resident(app, form, data) {
      const idNumber = String(data.get("id_number") || "").trim();
      const phone = String(data.get("phone") || "").trim();
      const name = String(data.get("name") || "").trim();
      const errors = { name: name ? "" : t("姓名：必须填写。"), id_number: idMessage(idNumber), phone: phoneMessage(phone) };
      if (showErrors(form, errors)) return;
      const fields = { name, relation: String(data.get("relation")), phone, notes: String(data.get("notes") || ""), tags: data.getAll("tags").map(String) };
      if (form.dataset.id) {
        const current = (await getRecord(app.db, "resident", form.dataset.id)).data;
        const set = {};
        for (const [key, value] of Object.entries(fields)) {
          if (JSON.stringify(value) !== JSON.stringify(current[key] ?? (key === "tags" ? [] : ""))) set[key] = value;
        }
        if (idNumber) set.id_number = idNumber;
        if (Object.keys(set).length) {
          await app.write("resident.update", { resident_id: form.dataset.id, base_version: Number(form.dataset.version), set });
        }
        app.say(t("已保存，联网后同步。"));
        app.returnTo(`#/h/${form.dataset.household}`, `[data-resident="${form.dataset.id}"]`);
        return;
      }
      const residentId = uuid();
      await app.write("resident.create", { resident_id: residentId, household_id: form.dataset.household, id_number: idNumber, ...fields });
      app.say(t("已保存，联网后同步。"));
      app.returnTo(`#/h/${form.dataset.household}`, `[data-resident="${residentId}"]`);
    },
  },
};
