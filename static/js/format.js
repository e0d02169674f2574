// Formatting of durations, sizes, times and ids for display.

/** "1:02:03" or "4:05" for seconds; "—" when unknown. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "—";
  const total = Math.max(0, Math.round(Number(seconds)));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

/** "1.4 GB" for a byte count. */
export function bytes(count) {
  if (count === null || count === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = Number(count);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value >= 10 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** Parse an ISO timestamp to milliseconds, or null. */
export function parseTime(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** The local date and time of an ISO timestamp, short. */
export function dateTime(iso) {
  const ms = parseTime(iso);
  if (ms === null) return "—";
  return new Date(ms).toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

/** The local time of day (with seconds) of an ISO timestamp. */
export function timeOfDay(iso) {
  const ms = parseTime(iso);
  if (ms === null) return "";
  return new Date(ms).toLocaleTimeString(undefined, { hour12: false });
}

/** "5 min ago" for an ISO timestamp. */
export function ago(iso) {
  const ms = parseTime(iso);
  if (ms === null) return "—";
  const seconds = Math.round((Date.now() - ms) / 1000);
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return dateTime(iso);
}

/** The first characters of a long id. */
export function shortId(id) {
  return String(id || "").slice(0, 8);
}

/** "42%" for a 0..100 number. */
export function percent(value) {
  return `${Math.floor(Math.max(0, Math.min(100, Number(value) || 0)))}%`;
}

/** The seconds between two ISO timestamps (or until now), or null. */
export function secondsBetween(startIso, endIso) {
  const start = parseTime(startIso);
  if (start === null) return null;
  const end = endIso ? parseTime(endIso) : Date.now();
  return end === null ? null : Math.max(0, (end - start) / 1000);
}
