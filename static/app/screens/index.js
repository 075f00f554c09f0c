// Every screen of the field app and the address it answers to.
"use strict";

import * as account from "./account.js";
import * as assisted from "./assisted.js";
import * as cards from "./cards.js";
import * as demands from "./demands.js";
import * as guide from "./guide.js";
import * as households from "./households.js";
import * as inbox from "./inbox.js";
import * as outbox from "./outbox.js";
import * as today from "./today.js";
import * as topics from "./topics.js";
import * as visits from "./visits.js";
import { N_ } from "../ui.js";

export const ROUTES = [
  [/^\/$/, today.screen],
  [/^\/households$/, households.list],
  [/^\/h\/new$/, households.createForm],
  [/^\/h\/([^/]+)$/, households.detail],
  [/^\/h\/([^/]+)\/edit$/, households.edit],
  [/^\/h\/([^/]+)\/visit$/, visits.form],
  [/^\/h\/([^/]+)\/resident$/, households.residentForm],
  [/^\/r\/([^/]+)\/edit$/, households.residentForm],
  [/^\/h\/([^/]+)\/demand$/, demands.captureForm],
  [/^\/h\/([^/]+)\/topic\/new$/, topics.propose],
  [/^\/h\/([^/]+)\/topic\/([^/?]+)$/, topics.form],
  [/^\/topic\/([^/?]+)$/, topics.canvass],
  [/^\/demands$/, demands.list],
  [/^\/d\/([^/]+)$/, demands.detail],
  [/^\/r\/([^/]+)\/card$/, cards.startForm],
  [/^\/card\/([^/]+)$/, cards.detail],
  [/^\/guide$/, guide.list],
  [/^\/guide\/([^/]+)$/, guide.item],
  [/^\/guide\/([^/]+)\/apply$/, assisted.startForm],
  [/^\/assisted$/, assisted.list],
  [/^\/a\/([^/]+)$/, assisted.detail],
  [/^\/inbox$/, inbox.screen],
  [/^\/outbox$/, outbox.screen],
  [/^\/me$/, account.me],
  [/^\/login$/, account.login],
];

export const LOGIN = account.login;
export const FIRST_SYNC = account.firstSync;

// The title in the app bar, and where the back arrow leads when the screen was
// not opened from another one (a reload, a link from a notification). Screens
// without `up` are the tabs' own: no back arrow.
export const FRAME = {
  login: { title: N_("登录") },
  "first-sync": { title: N_("第一次同步") },
  today: { title: N_("工作台") },
  households: { title: N_("住户") },
  household: { title: N_("住户详情"), up: () => "#/households" },
  "household-new": { title: N_("新增住户"), up: () => "#/households" },
  "household-edit": { title: N_("修改户信息"), up: ([id]) => `#/h/${id}` },
  "visit-form": { title: N_("记录走访"), up: ([id]) => `#/h/${id}` },
  "resident-form": { title: N_("居民信息"), up: () => "#/households" },
  "demand-form": { title: N_("登记诉求"), up: ([id]) => `#/h/${id}` },
  "opinion-form": { title: N_("征求意见"), up: ([id]) => `#/h/${id}` },
  "topic-form": { title: N_("提交议事"), up: ([id]) => `#/h/${id}` },
  topic: { title: N_("议事"), up: () => "#/" },
  demands: { title: N_("诉求") },
  demand: { title: N_("诉求详情"), up: () => "#/demands" },
  "card-start": { title: N_("办理老年出行卡"), up: () => "#/households" },
  card: { title: N_("出行卡申请"), up: () => "#/households" },
  guide: { title: N_("办事指南"), up: () => "#/" },
  "guide-item": { title: N_("办事指南"), up: () => "#/guide" },
  "assisted-start": { title: N_("帮代办"), up: ([id]) => `#/guide/${id}` },
  assisted: { title: N_("代办件"), up: () => "#/" },
  "assisted-detail": { title: N_("代办件"), up: () => "#/assisted" },
  inbox: { title: N_("消息") },
  outbox: { title: N_("待同步") },
  me: { title: N_("我的") },
};

export const TABS = [
  ["#/", N_("工作台")],
  ["#/households", N_("住户")],
  ["#/demands", N_("诉求")],
  ["#/inbox", N_("消息")],
  ["#/outbox", N_("待同步")],
  ["#/me", N_("我的")],
];
