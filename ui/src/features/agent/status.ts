// What the lock screen says about an instrument: its reading and whether it is free, with times
// only (the backend never sends names or titles for the lock screen).
import type { PublicInstrument, StatusReading } from '../../lib/ipc';
import { formatTime } from '../../lib/time';

export function readingLabel(reading: StatusReading | null): string {
  if (!reading) return 'Unknown (not read yet)';
  const state = { locked: 'Locked', unlocked: 'Unlocked', unknown: 'Unknown' }[reading.state];
  return `${state} at ${formatTime(reading.read_at)}`;
}

export function bookingLabel(instrument: PublicInstrument): string {
  const now = instrument.current
    ? `Booked ${formatTime(instrument.current.starts_at)}–${formatTime(instrument.current.ends_at)}`
    : 'Free now';
  const next = instrument.next
    ? `next booked ${formatTime(instrument.next.starts_at)}–${formatTime(instrument.next.ends_at)}`
    : 'no further booking';
  return `${now}; ${next}`;
}
