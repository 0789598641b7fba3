// Pure helpers for the interlock panel: what to say about the access window and the reading.
// The rules themselves live in Rust; these only phrase what the backend decided.
import type { Access, AutoLockInfo, Event, InterlockAction, InterlockPanel, LockState, StatusReading } from '../../lib/ipc';
import { formatDateTime, formatRange, formatTime, formatTimeSeconds } from '../../lib/time';

/** "10:42:05" (or "10:42:05 AM") in local time. */
export function formatClock(iso: string): string {
  return formatTimeSeconds(iso);
}

/** "09:55" when on the same local day as `now`, else "Mon 30 Nov, 09:55". */
export function formatWhen(iso: string, now: Date): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const sameDay =
    d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? formatTime(iso) : formatDateTime(iso);
}

/** "in 47 min", "in 2 h 5 min", "in less than a minute". */
export function formatIn(iso: string, now: Date): string {
  const target = new Date(iso).getTime();
  if (Number.isNaN(target)) return '';
  const minutes = Math.round((target - now.getTime()) / 60_000);
  if (minutes <= 0) return 'in less than a minute';
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `in ${hours} h` : `in ${hours} h ${rest} min`;
}

/** Whether the backend lets the signed-in person use the controls now. */
export function controlsAllowed(access: Access): boolean {
  return access.kind === 'staff' || access.kind === 'open';
}

/** The countdown shown while the user's window is open; null otherwise. */
export function countdownText(access: Access, now: Date): string | null {
  if (access.kind !== 'open') return null;
  return `Controls close at ${formatWhen(access.closes_at, now)}, ${formatIn(access.closes_at, now)}`;
}

/** Why there are no controls; null when there are. */
export function closedText(access: Access, now: Date): string | null {
  switch (access.kind) {
    case 'staff':
    case 'open':
      return null;
    case 'not_yet':
      return `Controls open at ${formatWhen(access.opens_at, now)}, ${formatIn(access.opens_at, now)}`;
    case 'closed':
      return `Controls closed at ${formatWhen(access.closed_at, now)}`;
    case 'not_yours':
      return 'The current booking belongs to another user.';
    case 'no_booking':
      return 'You have no booking on this instrument now';
    case 'no_interlock':
      return 'This instrument has no interlock.';
  }
}

export const STATE_LABELS: Record<LockState, string> = {
  locked: 'Locked',
  unlocked: 'Unlocked',
  unknown: 'Unknown',
};

export const ACTION_LABELS: Record<InterlockAction, string> = {
  unlock: 'Unlock',
  lock: 'Lock',
  status: 'Check status',
};

export const BUSY_LABELS: Record<InterlockAction, string> = {
  unlock: 'Unlocking…',
  lock: 'Locking…',
  status: 'Checking…',
};

/** The more recent of two readings (either may be missing). */
export function newerReading(a: StatusReading | null, b: StatusReading | null): StatusReading | null {
  if (!a) return b;
  if (!b) return a;
  return new Date(b.read_at).getTime() >= new Date(a.read_at).getTime() ? b : a;
}

function sameLocalDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "10:00–11:00" when the booking is today (local time), else with the day(s). */
export function bookingRange(startsAt: string, endsAt: string, now: Date): string {
  const start = new Date(startsAt);
  const end = new Date(endsAt);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return `${startsAt}–${endsAt}`;
  if (sameLocalDay(start, now) && sameLocalDay(end, now)) return `${formatTime(startsAt)}–${formatTime(endsAt)}`;
  return formatRange(startsAt, endsAt);
}

/**
 * "Imaging — Uma, 10:00–11:00"; a calendar's booking no account matched "Imaging — Booked by Vera,
 * 10:00–11:00"; one from a feed or file adds " · from Facility calendar".
 */
export function bookingLabel(
  event: Pick<Event, 'title' | 'user_display_name' | 'starts_at' | 'ends_at'> &
    Partial<Pick<Event, 'user_id' | 'source'>>,
  now: Date,
): string {
  const title = event.title.trim() || 'Booking';
  const name = event.user_display_name.trim();
  const who = name && event.user_id === null ? `Booked by ${name}` : name;
  const from = event.source ? ` · from ${event.source.name}` : '';
  return `${who ? `${title} — ${who}` : title}, ${bookingRange(event.starts_at, event.ends_at, now)}${from}`;
}

function hasEnded(event: Pick<Event, 'ends_at'>, now: Date): boolean {
  const end = new Date(event.ends_at).getTime();
  return !Number.isNaN(end) && end <= now.getTime();
}

/** When the booking's interlock window closes (end + post), if the service says how long `post` is. */
function windowClosesAt(panel: Pick<InterlockPanel, 'service' | 'event'>): string | null {
  const post = panel.service.interlock?.post_minutes;
  if (!panel.event || post === undefined) return null;
  const end = new Date(panel.event.ends_at).getTime();
  if (Number.isNaN(end)) return null;
  const closes = new Date(end + post * 60_000);
  return Number.isNaN(closes.getTime()) ? null : closes.toISOString();
}

/**
 * Which booking the controls act on, in one line; null when there is nothing to name
 * (someone else's booking, no booking for an instrument user, no interlock).
 */
export function bookingText(panel: Pick<InterlockPanel, 'access' | 'event' | 'service'>, now: Date): string | null {
  const { access, event } = panel;
  switch (access.kind) {
    case 'staff': {
      if (!event) return 'No booking is open now — commands act on the instrument itself';
      const label = `For: ${bookingLabel(event, now)}`;
      if (!hasEnded(event, now)) return label;
      const closes = windowClosesAt(panel);
      return closes ? `${label} (ended, window open until ${formatWhen(closes, now)})` : `${label} (ended)`;
    }
    case 'open':
      if (!event) return null;
      if (hasEnded(event, now)) {
        return `Your booking ended at ${formatWhen(event.ends_at, now)} — controls stay open until ${formatWhen(access.closes_at, now)}`;
      }
      return `For: ${bookingLabel(event, now)}`;
    case 'not_yet':
    case 'closed':
      return event ? `For: ${bookingLabel(event, now)}` : null;
    case 'not_yours':
    case 'no_booking':
    case 'no_interlock':
      return null;
  }
}

/** "Auto-lock at 11:30", or while it keeps failing "Auto-lock failing (2 attempts): … Next try at 11:35". */
export function autoLockText(info: AutoLockInfo, now: Date): string {
  if (info.attempts <= 0) return `Auto-lock at ${formatWhen(info.due_at, now)}`;
  const attempts = info.attempts === 1 ? '1 attempt' : `${info.attempts} attempts`;
  const error = info.last_error.trim();
  let text = `Auto-lock failing (${attempts})`;
  text += error ? `: ${error}` : '';
  if (!/[.!?]$/.test(text)) text += '.';
  if (info.next_attempt_at) text += ` Next try at ${formatWhen(info.next_attempt_at, now)}`;
  return text;
}

/** Whether a pending auto-lock is failing (staff may then dismiss it). */
export function autoLockFailing(info: AutoLockInfo | null): boolean {
  return info !== null && info.attempts > 0;
}
