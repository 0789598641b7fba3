// Conversions between the backend's RFC 3339 UTC strings and what people see and type (local time).

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function parse(iso: string): Date | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "Sun 29 Nov" in local time. */
export function formatDay(iso: string): string {
  const d = parse(iso);
  if (!d) return iso;
  return `${WEEKDAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]}`;
}

/** "09:00" in local time (24 h). */
export function formatTime(iso: string): string {
  const d = parse(iso);
  if (!d) return iso;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "Sun 29 Nov, 09:00" in local time. */
export function formatDateTime(iso: string): string {
  const d = parse(iso);
  if (!d) return iso;
  return `${formatDay(iso)}, ${formatTime(iso)}`;
}

function sameLocalDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/**
 * "Sun 29 Nov, 09:00–11:00" in local time; when the range crosses midnight
 * "Sun 29 Nov, 22:00 – Mon 30 Nov, 02:00".
 */
export function formatRange(startIso: string, endIso: string): string {
  const start = parse(startIso);
  const end = parse(endIso);
  if (!start || !end) return `${startIso} – ${endIso}`;
  if (sameLocalDay(start, end)) {
    return `${formatDay(startIso)}, ${formatTime(startIso)}–${formatTime(endIso)}`;
  }
  return `${formatDateTime(startIso)} – ${formatDateTime(endIso)}`;
}

/** A UTC instant as the value of an `<input type="datetime-local">` ("2026-11-29T09:00", local time). */
export function toLocalInput(iso: string): string {
  const d = parse(iso);
  if (!d) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * The value of an `<input type="datetime-local">` (local time) as a UTC ISO string for the backend.
 * Returns null when the value is empty or not a date.
 */
export function fromLocalInput(localValue: string): string | null {
  if (!localValue.trim()) return null;
  const d = new Date(localValue);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString();
}

/** A local datetime-local value `hours` from now, rounded up to the next full hour. */
export function nextFullHourLocal(now: Date = new Date(), hoursAhead = 0): string {
  const d = new Date(now.getTime());
  d.setMinutes(0, 0, 0);
  d.setHours(d.getHours() + 1 + hoursAhead);
  return toLocalInput(d.toISOString());
}
