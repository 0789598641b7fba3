import { afterEach, describe, expect, it } from 'vitest';
import {
  currentLocale,
  formatDate,
  formatDateTime,
  formatRange,
  formatTime,
  fromLocalInput,
  nextFullHourLocal,
  plural,
  setLocale,
  toLocalInput,
} from './time';

// The vitest config pins TZ to Europe/Berlin (UTC+1 in winter, UTC+2 in summer).
describe('time conversions (local = Europe/Berlin)', () => {
  it('shows a UTC instant in local time', () => {
    expect(formatTime('2026-11-29T08:00:00Z')).toBe('09:00');
    expect(formatDateTime('2026-11-29T08:00:00Z')).toBe('Sun 29 Nov, 09:00');
  });

  it('formats a same-day range compactly', () => {
    expect(formatRange('2026-11-29T08:00:00Z', '2026-11-29T10:00:00Z')).toBe('Sun 29 Nov, 09:00–11:00');
  });

  it('formats a range that crosses local midnight with both days', () => {
    expect(formatRange('2026-11-29T21:00:00Z', '2026-11-30T01:00:00Z')).toBe('Sun 29 Nov, 22:00 – Mon 30 Nov, 02:00');
  });

  it('uses the local day, not the UTC day', () => {
    // 23:30 UTC on Saturday is already Sunday 00:30 in Berlin.
    expect(formatDateTime('2026-11-28T23:30:00Z')).toBe('Sun 29 Nov, 00:30');
  });

  it('respects daylight saving time', () => {
    expect(formatTime('2026-07-01T08:00:00Z')).toBe('10:00');
  });

  it('converts UTC to a datetime-local value', () => {
    expect(toLocalInput('2026-11-29T08:00:00Z')).toBe('2026-11-29T09:00');
    expect(toLocalInput('2026-07-01T22:15:00+00:00')).toBe('2026-07-02T00:15');
    expect(toLocalInput('not a date')).toBe('');
  });

  it('converts a datetime-local value to a UTC ISO string', () => {
    expect(fromLocalInput('2026-11-29T09:00')).toBe('2026-11-29T08:00:00.000Z');
    expect(fromLocalInput('2026-07-02T00:15')).toBe('2026-07-01T22:15:00.000Z');
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('garbage')).toBeNull();
  });

  it('round-trips local input through UTC', () => {
    const local = '2026-03-29T03:30'; // just after the spring-forward gap
    expect(toLocalInput(fromLocalInput(local) ?? '')).toBe(local);
  });

  it('proposes the next full hour', () => {
    expect(nextFullHourLocal(new Date('2026-11-29T08:20:00Z'))).toBe('2026-11-29T10:00');
    expect(nextFullHourLocal(new Date('2026-11-29T08:20:00Z'), 1)).toBe('2026-11-29T11:00');
  });
});

describe('times in the station locale', () => {
  afterEach(() => setLocale('en-GB'));

  it('en-US: 12-hour clock, month before day', () => {
    setLocale('en-US');
    expect(currentLocale()).toBe('en-US');
    expect(formatTime('2026-11-29T16:37:00Z')).toBe('5:37 PM');
    expect(formatDateTime('2026-11-29T08:37:00Z')).toBe('Sun, Nov 29, 9:37 AM');
    expect(formatRange('2026-11-29T08:00:00Z', '2026-11-29T10:00:00Z')).toBe('Sun, Nov 29, 9:00 AM–11:00 AM');
    expect(formatDate('2026-11-29T08:00:00Z')).toBe('Nov 29, 2026');
  });

  it('de-DE: 24-hour clock, German day and month names', () => {
    setLocale('de-DE');
    expect(currentLocale()).toBe('de-DE');
    expect(formatTime('2026-11-29T16:37:00Z')).toBe('17:37');
    expect(formatDateTime('2026-11-29T08:37:00Z')).toBe('So., 29. Nov., 09:37');
    expect(formatDate('2026-03-01T08:00:00Z')).toBe('1. März 2026');
  });

  it('a malformed tag keeps the runtime default instead of throwing', () => {
    setLocale('not a locale!!');
    expect(() => formatTime('2026-11-29T16:37:00Z')).not.toThrow();
  });
});

describe('plural', () => {
  it('says 1 minute and 2 minutes', () => {
    expect(plural(1, 'minute')).toBe('1 minute');
    expect(plural(2, 'minute')).toBe('2 minutes');
    expect(plural(0, 'delivery', 'deliveries')).toBe('0 deliveries');
  });
});
