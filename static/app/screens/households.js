// Households of the worker's grids: list with search, detail, edits, residents.
"use strict";

import { checkIdNumber, ageOn, parseIdNumber } from "../idnumber.js";
import { labelsOf, t } from "../i18n.js";
import { allOf, byAddress, childrenOf, getRecord, keptRead, lastVisits, residentsOf, searchHouseholds } from "../store.js";
import { Html, html, label, maskPhone, options, uuid, when } from "../ui.js";
import { UNVISITED_DAYS, buildingIndex, filtersOf, isFiltered, keyTags, lastVisitText, listAddress, passes, places, rememberFilters, rememberedFilters, tagsByHousehold } from "../worklist.js";
import { cardTier, phoneMessage, photoBadges, showErrors, syncBadge, telLink } from "../forms.js";
import { answersByTopic, openTopicsFor } from "../topics.js";

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

// The list as a work list (worklist.js): filters by place, tag, status and days since a
// visit, combined with the search; the address holds them, the phone remembers them.
export const list = {
  name: "households",
  async render(app) {
    const params = new URLSearchParams(location.hash.split("?")[1] || "");
    const query = (params.get("q") || "").trim();
    const shown = Number(params.get("n") || PAGE);
    let filters = filtersOf(params);
    if ([...params.keys()].length) {
      await rememberFilters(app.db, filters);
    } else {
      filters = await rememberedFilters(app.db); // the 住户 tab: the list as the worker left it
      if (isFiltered(filters)) history.replaceState(history.state, "", listAddress(filters));
    }
    const filtered = isFiltered(filters);
    const [households, search, visits, tags, tagged] = await Promise.all([
      keptRead(app.db, "households", ["household"], async () => (await allOf(app.db, "household")).sort(byAddress)),
      query && searchHouseholds(app.db, query, filtered ? Infinity : shown), // filtered: every hit
      keptRead(app.db, "last visits", ["visit"], () => lastVisits(app.db)),
      keptRead(app.db, "tags", ["tag"], async () => (await allOf(app.db, "tag")).sort((a, b) => (a.data.sort || 0) - (b.data.sort || 0))),
      filters.tag ? keptRead(app.db, "tags by household", ["resident"], async () => tagsByHousehold(await allOf(app.db, "resident"))) : new Map(),
    ]);
    const now = new Date();
    let page = search && !filtered ? search.households : null;
    let total = search && !filtered ? search.total : 0;
    if (!page) {
      const hits = search ? new Set(search.households.map((h) => h.id)) : null;
      const found = households.filter((h) => (!hits || hits.has(h.id)) && passes(filters, h, tagged.get(h.id), visits.get(h.id), now));
      [page, total] = [found.slice(0, shown), found.length];
    }
    const byHousehold = await residentsOf(app.db, page.map((h) => h.id));
    const rows = page.map((h) => {
      const people = byHousehold.get(h.id) || [];
      const head = people.find((r) => r.data.relation === "head") || people[0];
      const last = visits.get(h.id);
      return html`<li><a href="#/h/${h.id}" data-household="${h.id}">
        <span class="title">${h.data.address}</span> ${syncBadge(h)}
        <span class="meta">${head ? head.data.name : t("暂无居民")} · ${t("%(n)s 人", { n: people.length })}${h.data.phone ? ` · ${maskPhone(h.data.phone)}` : ""}</span>
        <span class="meta"><span data-last-visit="${last?.any || ""}">${lastVisitText(last, now)}</span><span class="badge">${label("household_kind", h.data.kind)}</span>${h.data.status !== "active" ? html`<span class="badge amber">${label("household_status", h.data.status)}</span>` : ""}${keyTags(people, tags).map((name) => html`<span class="badge tag" data-tag>${name}</span>`)}</span>
      </a></li>`;
    });
    return html`<section>
      <h1 class="visually-hidden">${t("住户")}</h1>
      <form data-form="search" class="worklist" role="search">
        <div class="searchbar">
          <input type="search" name="q" value="${query}" placeholder="${t("搜索地址、姓名或电话后四位")}" aria-label="${t("搜索住户")}">
          <button type="submit">${t("搜索")}</button>
        </div>
        <details class="worklist-filters" ${filtersOpen ? new Html("open") : ""}>
          <summary>${t("筛选")}${filtered ? html` <span class="count">${Object.keys(filters).length}</span> <span class="chosen">${chosenText(filters, tags)}</span>` : ""}</summary>
          ${filterFields(households, filters, tags)}
        </details>
      </form>
      ${buildingChips(households, filters, query)}
      <p class="actions"><a class="button" href="#/h/new" data-new-household>${t("新增住户")}</a>${filtered ? html` <button type="button" data-action="clear-filters">${t("清除筛选")}</button>` : ""}</p>
      <p class="muted small" id="household-count" data-found="${total}">${t("共 %(n)s 户", { n: total })}${households.length ? "" : html` · ${t("还没有数据：联网后会自动下载您网格的住户。")}`}</p>
      <ul class="list" id="households">${rows}</ul>
      ${total > shown ? html`<p><a class="button" href="${listAddress(filters, query, shown + PAGE)}">${t("显示更多")}</a></p>` : ""}
    </section>`;
  },
  forms: {
    async search(app, form, data) {
      const chosen = filtersOf(data);
      const before = filtersOf(new URLSearchParams(location.hash.split("?")[1] || ""));
      // A 楼栋 belongs to its 小区 and a 单元 to its 楼栋: a new place drops the finer ones.
      if (chosen.estate !== before.estate) delete chosen.building;
      if (chosen.estate !== before.estate || chosen.building !== before.building) delete chosen.unit;
      await rememberFilters(app.db, chosen);
      app.go(listAddress(chosen, String(data.get("q") || "").trim()));
    },
  },
  actions: {
    async "clear-filters"(app) {
      const query = new URLSearchParams(location.hash.split("?")[1] || "").get("q") || "";
      await rememberFilters(app.db, {});
      app.go(listAddress({}, query));
    },
  },
};

// The panel stays as the worker left it (open while picking several filters), folded at first.
let filtersOpen = false;
document.addEventListener("toggle", (event) => {
  if (event.target instanceof HTMLDetailsElement && event.target.matches(".worklist-filters")) filtersOpen = event.target.open;
}, true);

// The filters in force, in words: "幸福小区 10栋 · 独居老人 · 未走访超过 30 天".
function chosenText(filters, tags) {
  const tagName = tags.find((tag) => tag.data.code === filters.tag)?.data.name || filters.tag;
  return [
    [filters.estate, filters.building, filters.unit].filter(Boolean).join(" "),
    filters.tag && tagName,
    filters.status && label("household_status", filters.status),
    filters.unvisited && t("未走访超过 %(n)s 天", { n: filters.unvisited }),
  ].filter(Boolean).join(" · ");
}

function choice(name, text, values, selected, { all = t("全部"), disabled = false, labelOf = (v) => v } = {}) {
  return html`<label>${text}<select name="${name}" ${disabled ? new Html("disabled") : ""}>
    <option value="">${all}</option>${values.map((v) => html`<option value="${v}" ${v === selected ? new Html("selected") : ""}>${labelOf(v)}</option>`)}
  </select></label>`;
}

function filterFields(households, filters, tags) {
  const { estates, buildings, units } = places(households, filters);
  const tagNames = new Map(tags.map((tag) => [tag.data.code, tag.data.name]));
  const shownTags = tags.filter((tag) => tag.data.active !== false || tag.data.code === filters.tag).map((tag) => tag.data.code);
  return html`<div class="filter-fields">
    ${choice("estate", t("小区"), estates, filters.estate)}
    ${choice("building", t("楼栋"), buildings, filters.building, { disabled: !filters.estate })}
    ${choice("unit", t("单元"), units, filters.unit, { disabled: !filters.building })}
    ${choice("tag", t("标签"), shownTags, filters.tag, { labelOf: (code) => tagNames.get(code) || code })}
    ${choice("status", t("状态"), Object.keys(labelsOf("household_status")), filters.status, { labelOf: (v) => label("household_status", v) })}
    ${choice("unvisited", t("走访"), UNVISITED_DAYS, filters.unvisited, { all: t("不限"), labelOf: (days) => t("未走访超过 %(n)s 天", { n: days }) })}
    <button type="submit" class="small">${t("筛选")}</button>
  </div>`;
}

// The jump-to-building index: a chip a 楼栋 of the chosen 小区 (or of each), which
// filters the list to it; the chip of the chosen one goes back to the whole 小区.
function buildingChips(households, filters, query) {
  const name = t("按楼栋跳转");
  const groups = buildingIndex(households, filters);
  if (!groups.length) return "";
  const rest = { ...filters };
  delete rest.unit;
  return html`<nav class="building-index" aria-label="${name}">${groups.map((group) => html`<p>
    ${groups.length > 1 || !filters.estate ? html`<span class="estate">${group.estate}</span>` : ""}
    ${group.buildings.map((building) => {
      const current = filters.estate === group.estate && filters.building === building;
      const to = current ? { ...rest, estate: group.estate, building: "" } : { ...rest, estate: group.estate, building };
      return html`<a class="jump" href="${listAddress(to, query)}" data-building="${building}" ${current ? html`aria-current="true"` : ""}>${building}</a>`;
    })}</p>`)}</nav>`;
}

// Selecting a filter applies it at once; the button is there for keyboards and habit.
document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.closest("form[data-form=search]")) select.form.requestSubmit();
});

export const detail = {
  name: "household",
  async render(app, [id]) {
    const household = await getRecord(app.db, "household", id);
    if (!household) {
      return html`<section class="card"><h1>${t("找不到这一户")}</h1><p>${t("可能已调整到其他网格，或还没有同步到这台手机。")}</p><p><a href="#/households">${t("回到住户列表")}</a></p></section>`;
    }
    const [residents, visits, demands, cards, applications, tags, topics, opinions] = await Promise.all([
      childrenOf(app.db, "resident", id),
      childrenOf(app.db, "visit", id),
      childrenOf(app.db, "demand", id),
      childrenOf(app.db, "travel_card", id),
      childrenOf(app.db, "assisted_application", id),
      allOf(app.db, "tag"),
      allOf(app.db, "topic"),
      childrenOf(app.db, "opinion", id),
    ]);
    const answers = answersByTopic(opinions);
    // 议事: the open topics, those not asked yet first.
    const open = openTopicsFor(topics, household).sort((a, b) => Number(answers.has(a.id)) - Number(answers.has(b.id)));
    const topicRows = open.map((topic) => {
      const answer = answers.get(topic.id);
      return html`<li data-topic="${topic.id}"><a href="#/h/${id}/topic/${topic.id}"><span class="title">${topic.data.title}</span>
        <span class="meta">${answer ? html`<span class="badge">${label("stance", answer.data.stance)}</span> ${syncBadge(answer)}${answer.data.comment ? html` ${answer.data.comment}` : ""}` : html`<span class="badge amber">${t("未征求")}</span>`}</span></a></li>`;
    });
    const tagName = new Map(tags.map((tag) => [tag.data.code, tag.data.name]));
    const h = household.data;
    residents.sort((a, b) => (a.data.relation === "head" ? -1 : b.data.relation === "head" ? 1 : 0));
    visits.sort((a, b) => String(b.data.at).localeCompare(String(a.data.at)));
    const openCards = new Map(cards.filter((c) => !["rejected", "cancelled"].includes(c.data.status)).map((c) => [c.data.resident_id, c]));
    const residentRows = residents.map((r) => {
      const age = ageOn(r.data.birth_date);
      const card = openCards.get(r.id);
      const tier = card ? null : cardTier(r.data);
      return html`<li class="resident" data-resident="${r.id}">
        <div><span class="title">${r.data.name}</span> ${syncBadge(r)}
          <span class="meta">${label("relation", r.data.relation)} · ${label("sex", r.data.sex)}${age !== null ? html` · ${t("%(n)s 岁", { n: age })}` : ""} · ${r.data.id_masked}${r.data.phone ? html` · ${telLink(r.data.phone)}` : ""}</span>
          ${(r.data.tags || []).length ? html`<span class="meta">${r.data.tags.map((tag) => html`<span class="badge">${tagName.get(tag) || tag}</span>`)}</span>` : ""}
        </div>
        <div class="actions">
          <a class="button small" href="#/r/${r.id}/edit">${t("修改")}</a>
          ${card
            ? html`<a class="button small" href="#/card/${card.id}">${t("出行卡：%(s)s", { s: label("card_status", card.data.status) })}</a>`
            : tier
              ? html`<a class="button small primary" href="#/r/${r.id}/card" data-start-card="${r.id}" data-tier="${tier}">${tier === "discount" ? t("办理老年出行卡（优惠）") : t("办理老年出行卡")}</a>`
              : ""}
        </div>
      </li>`;
    });
    const visitRows = [];
    for (const v of visits) {
      visitRows.push(html`<li data-visit="${v.id}"><span class="title">${when(v.data.at)} · ${label("visit_purpose", v.data.purpose)} · ${label("visit_outcome", v.data.outcome)}</span> ${syncBadge(v)}
        ${v.data.notes ? html`<span class="meta">${v.data.notes}</span>` : ""}
        ${(v.data.explained_items || []).length ? html`<span class="meta" data-explained="${v.data.explained_items.length}">${t("讲解办事事项 %(n)s 项", { n: v.data.explained_items.length })}</span>` : ""} ${await photoBadges(app, v.data.photos)}</li>`);
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
        <dt>${t("电话")}</dt><dd>${h.phone ? telLink(h.phone) : t("未登记")}</dd>
        ${h.notes ? html`<dt>${t("备注")}</dt><dd>${h.notes}</dd>` : ""}
      </dl>
      <div class="actions">
        <a class="button primary" href="#/h/${id}/visit">${t("记录走访")}</a>
        <a class="button" href="#/h/${id}/demand">${t("登记诉求")}</a>
        <a class="button" href="#/h/${id}/topic/new">${t("提交议事")}</a>
        <a class="button" href="#/h/${id}/resident">${t("添加居民")}</a>
        <a class="button" href="#/h/${id}/edit">${t("修改户信息")}</a>
        <a class="button" href="#/guide?h=${id}" data-guide-for="${id}">${t("办事指南 · 帮代办")}</a>
      </div>
    </section>
    ${topicRows.length ? html`<section data-topics><h2>${t("议事：征求意见")}</h2><ul class="list">${topicRows}</ul></section>` : ""}
    <section><h2>${t("居民（%(n)s）", { n: residents.length })}</h2><ul class="list plain">${residentRows}</ul></section>
    ${demandRows.length ? html`<section><h2>${t("诉求")}</h2><ul class="list">${demandRows}</ul></section>` : ""}
    ${applications.length ? html`<section><h2>${t("代办件")}</h2><ul class="list" id="household-assisted">${applications.map((a) => html`<li><a href="#/a/${a.id}" data-application="${a.id}"><span class="title">${a.data.item_name} · ${label("assisted_status", a.data.status)}</span> ${syncBadge(a)}</a></li>`)}</ul></section>` : ""}
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

// A new resident of a household that has a head is most likely the spouse, else a child.
function likelyRelation(residents) {
  if (!residents.some((r) => r.data.relation === "head")) return "head";
  return residents.some((r) => r.data.relation === "spouse") ? "child" : "spouse";
}

// Who on this phone already has the ID number typed. The server's keyed hash cannot be
// made here (its key stays on the server), but a resident record carries the masked number
// and the birth date: together they leave only two digits of the area code unknown, which
// the check character nearly fixes. A match is, in practice, the same person.
async function holderOf(app, number, selfId) {
  const parsed = parseIdNumber(number);
  if (!parsed) return null;
  const residents = await allOf(app.db, "resident");
  const same = residents.find((r) => r.id !== selfId && r.data.id_masked === parsed.masked && r.data.birth_date === parsed.birthDate);
  if (!same) return null;
  const household = await getRecord(app.db, "household", same.data.household_id);
  return { masked: parsed.masked, name: same.data.name, address: household ? household.data.address : t("另一户"), household: same.data.household_id };
}

function holderMessage(holder) {
  return t("身份证号 %(id)s 已登记在 %(address)s（%(name)s）。请核对是否同一人；若确实不是，勾选下面一项再保存。", { id: holder.masked, address: holder.address, name: holder.name });
}

// Warned at entry, as soon as the number is whole: the form's own note, and the box
// that lets a worker who has checked save anyway.
async function warnHolder(app, form) {
  const input = form.querySelector("input[name=id_number]");
  const note = form.querySelector("[data-id-holder]");
  const confirm = form.querySelector("[data-id-confirm]");
  const holder = await holderOf(app, input.value, form.dataset.id);
  note.hidden = confirm.hidden = !holder;
  note.textContent = holder ? holderMessage(holder) : "";
  note.dataset.household = holder ? holder.household : "";
  if (!holder) confirm.querySelector("input").checked = false;
  return holder;
}

let shownTo = null;
document.addEventListener("input", (event) => {
  const input = event.target;
  if (!shownTo || !(input instanceof HTMLInputElement) || input.name !== "id_number") return;
  const form = input.closest("form[data-form=resident]");
  if (form) warnHolder(shownTo, form);
});

export const residentForm = {
  name: "resident-form",
  async render(app, [id]) {
    shownTo = app;
    const editing = location.hash.startsWith("#/r/");
    const resident = editing ? await getRecord(app.db, "resident", id) : null;
    if (editing && !resident) return html`<p class="error">${t("找不到这位居民。")}</p>`;
    const householdId = resident ? resident.data.household_id : id;
    const r = resident ? resident.data : { name: "", relation: likelyRelation(await childrenOf(app.db, "resident", id)), phone: "", notes: "", tags: [] };
    const tags = (await allOf(app.db, "tag")).filter((tag) => tag.data.active !== false).sort((a, b) => (a.data.sort || 0) - (b.data.sort || 0));
    const tagBoxes = tags.map((tag) => html`<label class="inline chip"><input type="checkbox" name="tags" value="${tag.data.code}" ${(r.tags || []).includes(tag.data.code) ? new Html("checked") : ""}>${tag.data.name}</label>`);
    return html`<section class="card"><h1>${editing ? t("修改居民") : t("添加居民")}</h1>
      <form data-form="resident" class="stack" data-household="${householdId}" data-id="${editing ? id : ""}" data-version="${resident ? resident.version : 0}">
        <label>${t("姓名")}<input name="name" value="${r.name}" required maxlength="40"></label>
        <label>${t("与户主关系")}<select name="relation">${options("relation", r.relation)}</select></label>
        <label>${t("身份证号")}${editing ? html` <span class="muted small">${t("现存：%(m)s；不改请留空", { m: r.id_masked || t("未登记") })}</span>` : ""}
          <input name="id_number" inputmode="text" autocomplete="off" maxlength="18" autocapitalize="characters"></label>
        <p class="error" role="alert" data-id-holder hidden></p>
        <label class="inline" data-id-confirm hidden><input type="checkbox" name="id_checked" value="1">${t("已核对，不是同一人")}</label>
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
      // Nothing is queued for a number someone here already has, until the worker has checked.
      const holder = idNumber ? await warnHolder(app, form) : null;
      if (holder && data.get("id_checked") !== "1") {
        form.querySelector("input[name=id_number]").focus();
        return;
      }
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

// A household the worker finds at the door and the office does not know yet.
export const createForm = {
  name: "household-new",
  async render(app) {
    const [grids, households] = await Promise.all([allOf(app.db, "grid"), allOf(app.db, "household")]);
    const mine = grids.filter((g) => app.me.grid_ids.includes(g.id)).sort((a, b) => a.data.name.localeCompare(b.data.name, "zh-CN"));
    const estates = [...new Set(households.map((h) => h.data.estate).filter(Boolean))].sort((a, b) => a.localeCompare(b, "zh-CN"));
    const gridChoice = mine.length > 1
      ? html`<label>${t("网格")}<select name="grid_id">${mine.map((g) => html`<option value="${g.id}">${g.data.name}</option>`)}</select></label>`
      : html`<input type="hidden" name="grid_id" value="${mine[0] ? mine[0].id : app.me.grid_ids[0] || ""}">`;
    return html`<section class="card"><h1>${t("新增住户")}</h1>
      <form data-form="household-new" class="stack" data-id="${uuid()}">
        ${gridChoice}
        <label>${t("小区")}<input name="estate" required maxlength="60" list="estates" autocomplete="off"></label>
        <datalist id="estates">${estates.map((e) => html`<option value="${e}"></option>`)}</datalist>
        <label>${t("楼栋")}<input name="building" maxlength="20"></label>
        <label>${t("单元")}<input name="unit" maxlength="20"></label>
        <label>${t("门牌")}<input name="room" maxlength="20"></label>
        <label>${t("类型")}<select name="kind">${options("household_kind", "registered")}</select></label>
        <label>${t("电话")}<input name="phone" inputmode="tel" autocomplete="off"></label>
        <label>${t("备注")}<textarea name="notes" maxlength="2000"></textarea></label>
        <button type="submit" class="primary">${t("保存")}</button>
      </form></section>`;
  },
  forms: {
    async "household-new"(app, form, data) {
      const value = (name) => String(data.get(name) || "").trim();
      const estate = value("estate");
      if (showErrors(form, { estate: estate ? "" : t("小区：必须填写。"), phone: phoneMessage(value("phone")), grid_id: value("grid_id") ? "" : t("您还没有负责的网格。") })) return;
      const id = form.dataset.id;
      await app.write("household.create", {
        household_id: id, grid_id: value("grid_id"), estate, building: value("building"), unit: value("unit"),
        room: value("room"), kind: value("kind") || "registered", phone: value("phone"), notes: value("notes"),
      });
      app.say(t("住户已保存，联网后同步。"));
      app.returnTo(`#/h/${id}`, `section[data-household="${id}"]`);
    },
  },
};
