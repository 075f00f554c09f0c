// Push notifications in the field app (PRODUCT.md "Push notifications").
// Permission is asked only after sign-in and only from a tap on the account
// screen's button, which says why. Once granted, the browser's subscription is
// sent to the server on every start and sign-in, because browsers rotate them;
// signing out takes it back, so one person's news never shows for the next.
"use strict";

import { clientId } from "./sync.js";

const SAVED = "doorstep-push-subscription"; // the server's id of this browser's subscription

function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

export function permission() {
  return supported() ? Notification.permission : "unsupported";
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function sameKey(a, b) {
  if (!a || a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a);
  return x.every((value, i) => value === b[i]);
}

async function serverKey() {
  const response = await fetch("/push/vapid-public-key", { credentials: "same-origin", cache: "no-store" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return keyBytes((await response.json()).key);
}

// This browser's subscription, made with the server's current key.
async function currentSubscription() {
  const registration = await navigator.serviceWorker.ready;
  const key = await serverKey();
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options?.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  return subscription || registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
}

async function sendToServer(subscription, db) {
  const body = { ...subscription.toJSON(), client_id: db ? await clientId(db) : undefined };
  const response = await fetch("/push/subscriptions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try { message = (await response.json()).message || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  localStorage.setItem(SAVED, (await response.json()).id);
}

// On every start and sign-in: when notifications are allowed, the server gets the current subscription.
export async function refresh(app) {
  if (permission() !== "granted" || !app.me || !navigator.onLine) return false;
  await sendToServer(await currentSubscription(), app.db);
  return true;
}

// The account screen's button (a tap): ask, then subscribe. Returns the browser's answer.
export async function enable(app) {
  if (!supported()) return "unsupported";
  const answer = await Notification.requestPermission(); // first, while the tap still counts
  if (answer === "granted") await refresh(app);
  return answer;
}

// Signing out: this browser stops receiving the person's news (best effort; offline it waits for 410).
export async function forget() {
  const saved = localStorage.getItem(SAVED);
  localStorage.removeItem(SAVED);
  try {
    if (saved) await fetch(`/push/subscriptions/${saved}`, { method: "DELETE", credentials: "same-origin" });
    const registration = await navigator.serviceWorker?.getRegistration("/app/");
    const subscription = await registration?.pushManager?.getSubscription();
    if (subscription) await subscription.unsubscribe();
  } catch (_) { /* offline: the push service answers 410 later and the server drops it */ }
}
