// Numbers as people read them. The API speaks KiB, bytes, nanoseconds and seconds; the page
// shows "2 GiB", "3 h 12 min", "4 minutes and 30 seconds". Every function takes null (a figure
// the host's driver does not report) and answers UNKNOWN, so callers need no checks of their own.

export const UNKNOWN = "—";

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

function known(value) {
  return value !== null && value !== undefined && Number.isFinite(value);
}

// Up to three significant digits, without trailing zeros: "2", "1.5", "12.4", "512".
function short(value) {
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return String(Math.round(value * 10) / 10);
  return String(Math.round(value * 100) / 100);
}

export function bytes(value) {
  if (!known(value)) return UNKNOWN;
  let unit = 0;
  let scaled = Math.abs(value);
  while (scaled >= 1024 && unit < BYTE_UNITS.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return `${value < 0 ? "-" : ""}${short(scaled)} ${BYTE_UNITS[unit]}`;
}

export function kibibytes(value) {
  return known(value) ? bytes(value * 1024) : UNKNOWN;
}

export function rate(value) {
  return known(value) ? `${bytes(value)}/s` : UNKNOWN;
}

export function percent(value) {
  return known(value) ? `${short(value)} %` : UNKNOWN;
}

// A span of time, to the two largest units: "45.2 s", "3 min 5 s", "2 d 4 h", "56 y 12 d".
export function duration(seconds) {
  if (!known(seconds)) return UNKNOWN;
  if (seconds < 60) return `${short(seconds)} s`;
  const units = [["y", 365 * 86400], ["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  let rest = Math.floor(seconds);
  const parts = [];
  for (const [name, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0 || parts.length > 0) parts.push(`${count} ${name}`);
    rest -= count * size;
    if (parts.length === 2) break;
  }
  return parts.filter((part) => !part.startsWith("0 ")).join(" ");
}

export function nanoseconds(value) {
  return known(value) ? duration(value / 1e9) : UNKNOWN;
}

// No guest keeps every one of its CPUs busy for years on end, so more CPU time than that is a
// driver's made-up figure (libvirt's test driver reports the Unix time, "56 y"): unknown.
const PLAUSIBLE_CPU_SECONDS = 3 * 365 * 86400;

/** A VM's CPU time (seconds) used by `vcpus` CPUs, or UNKNOWN when it cannot be true. */
export function cpuTime(seconds, vcpus) {
  if (!known(seconds) || seconds < 0) return UNKNOWN;
  if (seconds > PLAUSIBLE_CPU_SECONDS * Math.max(1, vcpus || 1)) return UNKNOWN;
  return duration(seconds);
}

// Seconds in words, for messages: "1 second", "45 seconds", "4 minutes and 30 seconds".
export function inWords(seconds) {
  if (!known(seconds)) return "a while";
  const total = Math.max(1, Math.ceil(seconds));
  const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  const parts = [];
  if (hours) parts.push(plural(hours, "hour"));
  if (minutes) parts.push(plural(minutes, "minute"));
  if (rest) parts.push(plural(rest, "second"));
  return parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts[0];
}

export function yesNo(value) {
  if (value === null || value === undefined) return UNKNOWN;
  return value ? "yes" : "no";
}

// A Unix time as a time of day, with its date unless it is today: "14:02", "3 Mar, 09:15".
export function clock(unixSeconds) {
  if (!known(unixSeconds)) return "";
  const when = new Date(unixSeconds * 1000);
  const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (when.toDateString() === new Date().toDateString()) return time;
  return `${when.toLocaleDateString([], { day: "numeric", month: "short" })}, ${time}`;
}

// A message as a sentence: the API's messages have no full stop, some of ours have one.
export function sentence(text) {
  const trimmed = String(text ?? "").trim();
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

// A Unix time as a day, with its year: "31 Jan 2027" (for times months away, as expiries).
export function day(unixSeconds) {
  if (!known(unixSeconds)) return "";
  return new Date(unixSeconds * 1000).toLocaleDateString([], {
    day: "numeric", month: "short", year: "numeric" });
}
