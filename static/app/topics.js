// 议事 at the door: which open topics a household is asked about, and its answers so far.
// The server's rule is server/workflows/topics.py (OPEN) and docs/sync.md ("Deliberation").
"use strict";

import { allOf } from "./store.js";

const OPEN = new Set(["collecting", "deliberating"]);

// Topics open for opinions that this household may be asked about: the community's, or its grid's.
export function openTopicsFor(topics, household) {
  return topics
    .filter((topic) => OPEN.has(topic.data.status) && (!topic.data.grid_id || topic.data.grid_id === household.data.grid_id))
    .sort((a, b) => String(a.data.created_at).localeCompare(String(b.data.created_at)));
}

// The latest answer per topic among one household's opinions: one recorded on this phone and
// not yet synced (pending, the latest outbox entry) wins over the server's.
export function answersByTopic(opinions) {
  const found = new Map();
  const rank = (o) => (o.pending ? o.pending : 0);
  for (const opinion of opinions) {
    const current = found.get(opinion.data.topic_id);
    if (!current || rank(opinion) >= rank(current)) found.set(opinion.data.topic_id, opinion);
  }
  return found;
}

// household id → (topic id → answer), over every opinion the phone holds.
export async function answersByHousehold(db) {
  const byHousehold = new Map();
  for (const opinion of await allOf(db, "opinion")) {
    const id = opinion.data.household_id;
    if (!byHousehold.has(id)) byHousehold.set(id, []);
    byHousehold.get(id).push(opinion);
  }
  return new Map([...byHousehold].map(([id, list]) => [id, answersByTopic(list)]));
}
