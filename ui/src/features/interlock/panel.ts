// Pure helpers for the interlock panel: what to say about the access window and the reading.
// The rules themselves live in Rust; these only phrase what the backend decided.
import type { Access, InterlockAction, LockState, StatusReading } from '../../lib/ipc';
import { formatDateTime, formatTime } from '../../lib/time';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "10:42:05" in local time. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
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
