// What a mutation changes locally, before the server has seen it.
//
// The server is the truth: after every pull the overlay is thrown away and
// the still-pending mutations are applied again on top of the fresh data
// (SYNC.md rule 13). These functions are the phone's best guess of the
// server's domain commands, so the worker sees their own work at once.
"use strict";

import { parseIdNumber } from "./idnumber.js";

const PARENT = {
  resident: "household_id",
  visit: "household_id",
  travel_card: "household_id",
  demand: "household_id",
  demand_event: "demand_id",
  travel_card_event: "application_id",
  conflict: "record_id",
  assisted_application: "household_id",
  opinion: "household_id",
};

export function stored(type, id, version, data) {
  const parent = data[PARENT[type]];
  return parent ? { type, id, version, parent, data } : { type, id, version, data };
}

async function patch(view, entry, type, id, changes) {
  const current = await view.get(type, id);
  if (!current) return; // not on this phone (yet): the server will decide
  await view.put({ ...stored(type, id, current.version, { ...current.data, ...changes }), pending: entry.id });
}

function create(view, entry, type, id, data) {
  return view.put({ ...stored(type, id, 0, data), pending: entry.id });
}

async function event(view, entry, kind, demand, note, photos, toStatus) {
  const id = `local-${entry.id}`;
  await create(view, entry, "demand_event", id, {
    demand_id: demand, kind, note: note || "", photos: photos || [], actor_id: view.me.id,
    to_status: toStatus, at: entry.at,
  });
}

// A step of an application taken on the phone shows in its history at once, marked
// 待同步, until the server's own event (server/commands/travel_cards.py) replaces it.
function cardEvent(view, entry, kind, applicationId, fromStatus, toStatus, note) {
  return create(view, entry, "travel_card_event", `local-${entry.id}`, {
    application_id: applicationId, kind, from_status: fromStatus, to_status: toStatus,
    note: note || "", actor_id: view.me.id, at: entry.at,
  });
}

async function cardStep(view, entry, kind, applicationId, set, note) {
  const card = await view.get("travel_card", applicationId);
  if (!card) return; // not on this phone (yet): the server will decide
  await patch(view, entry, "travel_card", applicationId, set);
  await cardEvent(view, entry, kind, applicationId, card.data.status, set.status, note);
}

// server/workflows/assisted.py TRANSITIONS: where each step leads.
const ASSISTED_STEPS = { submit: "submitted", complete: "completed", deliver: "delivered", return: "returned", resupply: "received", withdraw: "withdrawn" };

async function assistedStep(view, entry, step, a) {
  const current = await view.get("assisted_application", a.application_id);
  if (!current) return;
  const to = ASSISTED_STEPS[step];
  const note = a.reason || a.note || "";
  const history = [...(current.data.history || []), { kind: step, from: current.data.status, to, at: entry.at, actor_id: view.me.id, note }];
  const photos = step === "resupply" ? [...new Set([...current.data.photos, ...(a.photos || [])])] : current.data.photos;
  await patch(view, entry, "assisted_application", a.application_id, { status: to, history, photos, ...(step === "resupply" ? { missing: "" } : {}) });
}

const MUTATORS = {
  async "assisted.create"(view, entry, a) {
    const [item, resident] = await Promise.all([view.get("service_item", a.item_id), view.get("resident", a.resident_id)]);
    if (!item || !resident) return; // the server will decide
    await create(view, entry, "assisted_application", a.application_id, {
      item_id: a.item_id, item_revision: item.data.revision, item_name: item.data.name, materials: item.data.materials,
      resident_id: a.resident_id, household_id: resident.data.household_id, grid_id: resident.data.grid_id, department_id: null,
      status: "received", collected: [...new Set(a.collected || [])].sort((x, y) => x - y), photos: a.photos || [], notes: a.notes || "",
      consent: { consent_at: entry.at, consent_version: a.consent_version }, missing: "", result: "", reason: "",
      time_limit: String(Math.max(item.data.time_limit_days, 1)), received_at: entry.at, deadline: null,
      history: [{ kind: "create", from: null, to: "received", at: entry.at, actor_id: view.me.id, note: a.notes || "" }],
    });
  },
  ...Object.fromEntries(Object.keys(ASSISTED_STEPS).map((step) => [`assisted.${step}`, (view, entry, a) => assistedStep(view, entry, step, a)])),
  async "visit.record"(view, entry, a) {
    const household = await view.get("household", a.household_id);
    await create(view, entry, "visit", a.visit_id, {
      household_id: a.household_id, grid_id: household?.data.grid_id, worker_id: view.me.id,
      purpose: a.purpose, outcome: a.outcome, notes: a.notes || "", photos: a.photos || [], explained_items: a.explained_items || [], at: a.at || entry.at,
    });
  },
  async "household.create"(view, entry, a) {
    const address = [a.estate, a.building, a.unit, a.room].filter(Boolean).join(" "); // join_address, server/commands/households.py
    await create(view, entry, "household", a.household_id, {
      grid_id: a.grid_id, estate: a.estate, building: a.building || "", unit: a.unit || "", room: a.room || "", address,
      kind: a.kind || "registered", status: "active", phone: a.phone || "", notes: a.notes || "", lat: null, lng: null,
    });
  },
  async "household.update"(view, entry, a) {
    await patch(view, entry, "household", a.household_id, a.set);
  },
  async "resident.create"(view, entry, a) {
    const parsed = a.id_number ? parseIdNumber(a.id_number) : null;
    const household = await view.get("household", a.household_id);
    await create(view, entry, "resident", a.resident_id, {
      household_id: a.household_id, grid_id: household?.data.grid_id, name: a.name, relation: a.relation || "head",
      phone: a.phone || "", notes: a.notes || "", tags: a.tags || [],
      id_masked: parsed ? parsed.masked : "", birth_date: parsed ? parsed.birthDate : null, sex: parsed ? parsed.sex : null,
    });
  },
  async "resident.update"(view, entry, a) {
    const changes = { ...a.set };
    if (changes.id_number) {
      const parsed = parseIdNumber(changes.id_number);
      if (parsed) Object.assign(changes, { id_masked: parsed.masked, birth_date: parsed.birthDate, sex: parsed.sex });
    }
    delete changes.id_number;
    await patch(view, entry, "resident", a.resident_id, changes);
  },
  async "demand.create"(view, entry, a) {
    const household = a.household_id ? await view.get("household", a.household_id) : null;
    await create(view, entry, "demand", a.demand_id, {
      household_id: a.household_id || null, grid_id: household?.data.grid_id || a.grid_id || null,
      field: a.field, description: a.description, source: a.source, photos: a.photos || [],
      contact_name: a.contact_name || "", contact_phone: a.contact_phone || "", status: "submitted",
      created_by: view.me.id, created_at: entry.at, address: household?.data.address || a.address || "",
    });
    await event(view, entry, "created", a.demand_id, a.description, [], "submitted");
  },
  async "demand.accept"(view, entry, a) {
    await patch(view, entry, "demand", a.demand_id, { status: "accepted", assignee_id: view.me.id, accepted_at: entry.at });
    await event(view, entry, "accepted", a.demand_id, "", [], "accepted");
  },
  async "demand.progress"(view, entry, a) {
    await patch(view, entry, "demand", a.demand_id, { status: "in_progress" });
    await event(view, entry, "progress", a.demand_id, a.note, a.photos, "in_progress");
  },
  async "demand.reply"(view, entry, a) {
    await patch(view, entry, "demand", a.demand_id, { status: "replied", answer: a.answer });
    await event(view, entry, "replied", a.demand_id, a.answer, [], "replied");
  },
  async "demand.resolve"(view, entry, a) {
    await patch(view, entry, "demand", a.demand_id, { status: "resolved", resolved_at: entry.at });
    await event(view, entry, "resolved", a.demand_id, a.note, a.photos, "resolved");
  },
  async "demand.suspend"(view, entry, a) {
    await patch(view, entry, "demand", a.demand_id, { suspended_at: entry.at });
    const demand = await view.get("demand", a.demand_id);
    await event(view, entry, "suspended", a.demand_id, a.note, [], demand?.data.status || null);
  },
  async "demand.resume"(view, entry, a) {
    // The server moves the deadline by the time it stood; the next pull brings it.
    await patch(view, entry, "demand", a.demand_id, { suspended_at: null });
    const demand = await view.get("demand", a.demand_id);
    await event(view, entry, "resumed", a.demand_id, a.note, [], demand?.data.status || null);
  },
  async "demand.rate"(view, entry, a) {
    // A 差评 reopens it for rectification (a new accept); any other rating closes it.
    const reopened = a.rating === "dissatisfied";
    const status = reopened ? "rectifying" : "closed";
    await patch(view, entry, "demand", a.demand_id, {
      rating: a.rating, rating_comment: a.comment || "", status, ...(reopened ? { assignee_id: null, resolved_at: null } : {}),
    });
    await event(view, entry, "rated", a.demand_id, a.comment, [], status);
  },
  async "travel_card.create"(view, entry, a) {
    const resident = await view.get("resident", a.resident_id);
    await create(view, entry, "travel_card", a.application_id, {
      resident_id: a.resident_id, household_id: resident?.data.household_id, grid_id: resident?.data.grid_id,
      status: "draft", delivery: a.delivery || "collect", residence: a.residence || "",
      checklist: a.checklist || {}, photo: a.photo || null, proxy: a.proxy || null, reason: "", created_by: view.me.id,
      created_at: entry.at,
    });
    await cardEvent(view, entry, "created", a.application_id, null, "draft");
  },
  async "travel_card.update"(view, entry, a) {
    await patch(view, entry, "travel_card", a.application_id, a.set);
  },
  async "travel_card.submit"(view, entry, a) {
    await cardStep(view, entry, "submit", a.application_id, { status: "submitted", reason: "" });
  },
  async "travel_card.cancel"(view, entry, a) {
    await cardStep(view, entry, "cancel", a.application_id, { status: "cancelled", reason: a.reason || "" }, a.reason);
  },
  async "travel_card.advance"(view, entry, a) {
    await cardStep(view, entry, a.to, a.application_id, { status: a.to }, a.note);
  },
  async "travel_card.plan_review"(view, entry, a) {
    const card = await view.get("travel_card", a.application_id);
    if (!card || !a.visit_id) return;
    await create(view, entry, "visit", a.visit_id, {
      household_id: card.data.household_id, grid_id: card.data.grid_id, worker_id: view.me.id,
      purpose: "service", outcome: "planned", planned_for: a.planned_for, notes: "", photos: [], at: entry.at,
    });
    await patch(view, entry, "travel_card", a.application_id, { review_visit_id: a.visit_id }); // the review is planned: its task goes
  },
  async "notice.read"(view, entry, a) {
    const notice = await view.get("notice", a.notice_id);
    if (notice && !notice.data.read_at) await patch(view, entry, "notice", a.notice_id, { read_at: entry.at });
  },
  // A topic raised at the door: a topic of the household's grid, collecting opinions.
  async "topic.create"(view, entry, a) {
    const household = a.household_id ? await view.get("household", a.household_id) : null;
    await create(view, entry, "topic", a.topic_id, {
      community_id: household?.data.community_id || null, grid_id: household?.data.grid_id || a.grid_id || null,
      title: a.title, description: a.description || "", status: "collecting", source: a.source || "visit",
      visit_id: a.visit_id || null, demand_id: null, created_by: view.me.id, created_at: entry.at,
      decision: "", reason: "", owners: [], due_at: null, verdict: "",
    });
  },
  // One answer per household per topic: the screens show the latest (topics.js: answersByTopic).
  async "topic.opinion"(view, entry, a) {
    const household = await view.get("household", a.household_id);
    await create(view, entry, "opinion", `local-${entry.id}`, {
      topic_id: a.topic_id, household_id: a.household_id, grid_id: household?.data.grid_id || null,
      stance: a.stance, comment: a.comment || "", channel: "door", recorded_by: view.me.id, at: entry.at,
    });
  },
  async "conflict.resolve"(view, entry, a) {
    const conflict = await view.get("conflict", a.conflict_id);
    if (!conflict) return;
    await patch(view, entry, "conflict", a.conflict_id, { status: "resolved", resolution: a.choice });
    if (a.choice === "client") {
      await patch(view, entry, conflict.data.record_type, conflict.data.record_id, { [conflict.data.field]: conflict.data.client_value });
    }
  },
};

export async function applyLocal(view, entry) {
  const mutator = MUTATORS[entry.name];
  if (mutator) await mutator(view, entry, entry.args);
}
