// Conversions between the backend's RFC 3339 UTC strings and what people see and type (local time),
// formatted with `Intl.DateTimeFormat` in the station's locale: the OS locale the backend reports
// in `app_status` (12/24-hour clock, day and month names, date order), so a Utah facility reads
// `9:37 AM` and a Berlin one `09:37`. Until that arrives, the web view's own locale is used.

let locale: string | undefined;
let cache = new Map<string, Intl.DateTimeFormat>();

/** Sets the locale every formatter uses (a BCP 47 tag such as `en-US`); undefined = the web view's. */
export function setLocale(tag: string | null | undefined): void {
  let next: string | undefined = tag ?? undefined;
  if (next) {
    try {
      next = Intl.DateTimeFormat.supportedLocalesOf([next])[0];
    } catch {
      next = undefined; // not a well-formed tag: keep the web view's
    }
  }
  if (next === locale) return;
  locale = next;
  cache = new Map();
}

/** The locale the formatters resolve to (for tests and `lang` attributes). */
export function currentLocale(): string {
  return format('time').resolvedOptions().locale;
}

type Style = 'day' | 'time' | 'timeSeconds' | 'date';

/** A 24-hour locale writes `09:05`, a 12-hour one `9:05 AM` (not `09:05 AM`). */
function hourDigits(): '2-digit' | 'numeric' {
  const cycle = new Intl.DateTimeFormat(locale, { hour: 'numeric' }).resolvedOptions().hourCycle;
  return cycle === 'h11' || cycle === 'h12' ? 'numeric' : '2-digit';
}

function options(style: Style): Intl.DateTimeFormatOptions {
  switch (style) {
    case 'day':
      return { weekday: 'short', day: 'numeric', month: 'short' };
    case 'time':
      return { hour: hourDigits(), minute: '2-digit' };
    case 'timeSeconds':
      return { hour: hourDigits(), minute: '2-digit', second: '2-digit' };
    case 'date':
      return { year: 'numeric', month: 'short', day: 'numeric' };
  }
}

function format(style: Style): Intl.DateTimeFormat {
  let f = cache.get(style);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options(style));
    cache.set(style, f);
  }
  return f;
}

function parse(iso: string | Date): Date | null {
  const d = iso instanceof Date ? iso : new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "Sun 29 Nov" (en-GB), "Sun, Nov 29" (en-US), "So., 29. Nov." (de-DE), in local time. */
export function formatDay(iso: string | Date): string {
  const d = parse(iso);
  return d ? format('day').format(d) : String(iso);
}

/** "09:00" (en-GB, de-DE) or "9:00 AM" (en-US), in local time. */
export function formatTime(iso: string | Date): string {
  const d = parse(iso);
  return d ? format('time').format(d) : String(iso);
}

/** The time with seconds ("09:00:05" or "9:00:05 AM"). */
export function formatTimeSeconds(iso: string | Date): string {
  const d = parse(iso);
  return d ? format('timeSeconds').format(d) : String(iso);
}

/** "29 Nov 2026" / "Nov 29, 2026" / "29. Nov. 2026". */
export function formatDate(iso: string | Date): string {
  const d = parse(iso);
  return d ? format('date').format(d) : String(iso);
}

/** "Sun 29 Nov, 09:00" in local time. */
export function formatDateTime(iso: string | Date): string {
  const d = parse(iso);
  if (!d) return String(iso);
  return `${formatDay(d)}, ${formatTime(d)}`;
}

function sameLocalDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/**
 * "Sun 29 Nov, 09:00–11:00" in local time; when the range crosses midnight
 * "Sun 29 Nov, 22:00 – Mon 30 Nov, 02:00".
 */
export function formatRange(startIso: string | Date, endIso: string | Date): string {
  const start = parse(startIso);
  const end = parse(endIso);
  if (!start || !end) return `${String(startIso)} – ${String(endIso)}`;
  if (sameLocalDay(start, end)) {
    return `${formatDay(start)}, ${formatTime(start)}–${formatTime(end)}`;
  }
  return `${formatDateTime(start)} – ${formatDateTime(end)}`;
}

/** "09:00–11:00" without the day (for a day's timeline or "Booked 09:00–11:00"). */
export function formatTimeRange(startIso: string | Date, endIso: string | Date): string {
  const start = parse(startIso);
  const end = parse(endIso);
  if (!start || !end) return `${String(startIso)} – ${String(endIso)}`;
  if (sameLocalDay(start, end)) return `${formatTime(start)}–${formatTime(end)}`;
  return formatRange(start, end);
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

/** "1 minute" / "5 minutes" — English plurals for the few counted sentences. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
