// What the lock screen says about an instrument: its reading and whether it is free, with times
// only (the backend never sends names or titles for the lock screen).
import type { PublicInstrument, StatusReading } from '../../lib/ipc';
import { formatRange, formatTime, formatTimeRange } from '../../lib/time';

export function readingLabel(reading: StatusReading | null): string {
  if (!reading) return 'Unknown (not read yet)';
  const state = { locked: 'Locked', unlocked: 'Unlocked', unknown: 'Unknown' }[reading.state];
  return `${state} at ${formatTime(reading.read_at)}`;
}

export function bookingLabel(instrument: PublicInstrument, now: Date = new Date()): string {
  const current = instrument.current
    ? `Booked ${formatTimeRange(instrument.current.starts_at, instrument.current.ends_at)}`
    : 'Free now';
  // A next booking on a later day says which day.
  const next = instrument.next
    ? `next booked ${
        new Date(instrument.next.starts_at).toDateString() === now.toDateString()
          ? formatTimeRange(instrument.next.starts_at, instrument.next.ends_at)
          : formatRange(instrument.next.starts_at, instrument.next.ends_at)
      }`
    : 'no further booking';
  return `${current}; ${next}`;
}
