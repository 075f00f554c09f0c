// Every screen of the field app and the address it answers to.
"use strict";

import * as account from "./account.js";
import * as cards from "./cards.js";
import * as demands from "./demands.js";
import * as households from "./households.js";
import * as outbox from "./outbox.js";
import * as visits from "./visits.js";
import { N_ } from "../ui.js";

export const ROUTES = [
  [/^\/$/, households.list],
  [/^\/h\/new$/, households.createForm],
  [/^\/h\/([^/]+)$/, households.detail],
  [/^\/h\/([^/]+)\/edit$/, households.edit],
  [/^\/h\/([^/]+)\/visit$/, visits.form],
  [/^\/h\/([^/]+)\/resident$/, households.residentForm],
  [/^\/r\/([^/]+)\/edit$/, households.residentForm],
  [/^\/h\/([^/]+)\/demand$/, demands.captureForm],
  [/^\/demands$/, demands.list],
  [/^\/d\/([^/]+)$/, demands.detail],
  [/^\/r\/([^/]+)\/card$/, cards.startForm],
  [/^\/card\/([^/]+)$/, cards.detail],
  [/^\/outbox$/, outbox.screen],
  [/^\/me$/, account.me],
  [/^\/login$/, account.login],
];

export const LOGIN = account.login;

export const TABS = [
  ["#/", N_("住户")],
  ["#/demands", N_("诉求")],
  ["#/outbox", N_("待同步")],
  ["#/me", N_("我的")],
];
