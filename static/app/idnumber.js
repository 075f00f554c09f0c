// Resident ID numbers (GB 11643-1999) on the phone: the same checks as
// server/idnumber.py, so a worker hears about a typo at the door, offline.
"use strict";

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";

function checkCharacter(first17) {
  let total = 0;
  for (let i = 0; i < 17; i += 1) total += Number(first17[i]) * WEIGHTS[i];
  return CHECK[total % 11];
}

function mask(number) {
  return number.length < 8 ? "*".repeat(number.length) : number.slice(0, 4) + "*".repeat(number.length - 8) + number.slice(-4);
}

// { number, birthDate: "YYYY-MM-DD", sex, masked } or { error: "shape" | "checksum" | "birth_date" }
export function checkIdNumber(text, today = new Date()) {
  let number = String(text || "").replace(/\s+/g, "").toUpperCase();
  if (/^\d{15}$/.test(number)) {
    const first17 = number.slice(0, 6) + "19" + number.slice(6);
    number = first17 + checkCharacter(first17);
  } else if (!/^\d{17}[\dX]$/.test(number)) {
    return { error: "shape" };
  } else if (checkCharacter(number.slice(0, 17)) !== number[17]) {
    return { error: "checksum" };
  }
  const y = Number(number.slice(6, 10)), m = Number(number.slice(10, 12)), d = Number(number.slice(12, 14));
  const born = new Date(Date.UTC(y, m - 1, d));
  if (born.getUTCFullYear() !== y || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d || y < 1890 || born > today) {
    return { error: "birth_date" };
  }
  const birthDate = `${number.slice(6, 10)}-${number.slice(10, 12)}-${number.slice(12, 14)}`;
  return { number, birthDate, sex: Number(number[16]) % 2 ? "male" : "female", masked: mask(number) };
}

export function parseIdNumber(text) {
  const result = checkIdNumber(text);
  return result.error ? null : result;
}

// Full years on `day` (a Date); someone born on 29 February turns a year older on 1 March.
export function ageOn(birthDate, day = new Date()) {
  if (!birthDate) return null;
  const [y, m, d] = birthDate.split("-").map(Number);
  let years = day.getFullYear() - y;
  const month = day.getMonth() + 1, date = day.getDate();
  if (month < m || (month === m && date < d)) years -= 1;
  return years;
}
