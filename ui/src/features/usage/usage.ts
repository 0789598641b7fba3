// What the Usage screen and the Schedule show of a booking's actual use (recorded in Rust).

import type { Usage } from '../../lib/ipc';
import { formatDateTime, formatTime } from '../../lib/time';

/** "10:05–10:50 (unlocked by uma, locked by auto-lock)", "in use since 10:05 (uma)", or "—". */
export function usageText(usage: Usage | null): string {
  if (!usage || (!usage.started_at && !usage.ended_at)) return '—';
  const start = usage.started_at;
  const end = usage.ended_at;
  if (start && (!end || end < start)) {
    return `in use since ${formatTime(start)} (${usage.started_by ?? '?'})`;
  }
  if (start && end) {
    return `${formatTime(start)}–${formatTime(end)} (unlocked by ${usage.started_by ?? '?'}, locked by ${usage.ended_by ?? '?'})`;
  }
  return `locked at ${formatTime(end ?? '')} by ${usage.ended_by ?? '?'} (never unlocked)`;
}

/** "was booked until Mon 30 Nov, 11:00" when a lock moved the end, else null. */
export function movedEndText(usage: Usage | null): string | null {
  return usage?.booked_ends_at ? `booked until ${formatDateTime(usage.booked_ends_at)}` : null;
}

/** 125 → "2 h 05 min"; 40 → "40 min". */
export function formatMinutes(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A local day as YYYY-MM-DD (the value of an `<input type="date">`). */
export function localDay(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The default range: the first of this month to today. */
export function defaultRange(today: Date = new Date()): { from: string; to: string } {
  return { from: localDay(new Date(today.getFullYear(), today.getMonth(), 1)), to: localDay(today) };
}
