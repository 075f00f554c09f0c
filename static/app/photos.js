// Photos taken at the door: resized on the phone (long side ≤ 1600 px, JPEG
// quality 0.7), named by their SHA-256 and kept in IndexedDB until uploaded.
"use strict";

import { saveBlob } from "./store.js";

const LONG_SIDE = 1600;
const QUALITY = 0.7;

async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function resize(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  let blob;
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
    blob = await canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY });
  } else {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height);
    blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
  }
  bitmap.close();
  return { blob, width, height };
}

// Resize, hash and keep a photo; returns its name (the SHA-256).
export async function takePhoto(db, file) {
  const { blob } = await resize(file);
  const sha = await sha256Hex(blob);
  await saveBlob(db, sha, blob);
  return sha;
}
