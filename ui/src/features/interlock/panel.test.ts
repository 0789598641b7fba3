import { describe, expect, it } from 'vitest';
import { autoLockFailing, autoLockText, bookingLabel, bookingRange, bookingText, newerReading } from './panel';
import type { Access, AutoLockInfo, Event, InterlockPanel, Service } from '../../lib/ipc';

// Vitest pins TZ=Europe/Berlin: 09:00Z is 10:00 local in winter.
const NOW = new Date('2026-11-29T09:20:00Z');

const service: Service = {
  id: 'svc-a',
  name: 'Confocal',
  description: '',
  tags: ['has_interlock:5:30'],
  interlock: { lead_minutes: 5, post_minutes: 30 },
  auto_lock: true,
  end_on_lock: null,
  post_lock_url: null,
};

const imaging: Event = {
  id: 'ev-1',
  service_id: 'svc-a',
  service_name: 'Confocal',
  user_id: 'acc-1',
  user_display_name: 'Uma',
  title: 'Imaging',
  starts_at: '2026-11-29T09:00:00Z',
  ends_at: '2026-11-29T10:00:00Z',
  order_id: null,
  line_id: null,
  usage: null,
  booked_by: '',
  source: null,
  conflict: false,
};

function panel(access: Access, event: Event | null = imaging): Pick<InterlockPanel, 'access' | 'event' | 'service'> {
  return { access, event, service };
}

describe('bookingRange / bookingLabel', () => {
  it('shows only the times for a booking today, the days otherwise', () => {
    expect(bookingRange('2026-11-29T09:00:00Z', '2026-11-29T10:00:00Z', NOW)).toBe('10:00–11:00');
    expect(bookingRange('2026-11-30T09:00:00Z', '2026-11-30T10:00:00Z', NOW)).toBe('Mon 30 Nov, 10:00–11:00');
    expect(bookingRange('2026-11-29T21:00:00Z', '2026-11-30T01:00:00Z', NOW)).toBe(
      'Sun 29 Nov, 22:00 – Mon 30 Nov, 02:00',
    );
  });

  it('names title, person and time; an untitled booking is a "Booking"', () => {
    expect(bookingLabel(imaging, NOW)).toBe('Imaging — Uma, 10:00–11:00');
    expect(bookingLabel({ ...imaging, title: '  ' }, NOW)).toBe('Booking — Uma, 10:00–11:00');
    // A calendar's booking: its source, and the calendar's name when no account matched.
    const source = { feed_id: 'feed-1', name: 'Facility calendar', uid: 'u@x' };
    expect(bookingLabel({ ...imaging, source }, NOW)).toBe('Imaging — Uma, 10:00–11:00 · from Facility calendar');
    expect(bookingLabel({ ...imaging, user_id: null, user_display_name: 'Vera Visitor', source }, NOW)).toBe(
      'Imaging — Booked by Vera Visitor, 10:00–11:00 · from Facility calendar',
    );
  });
});

describe('bookingText', () => {
  it('staff: the open booking, or the instrument itself', () => {
    expect(bookingText(panel({ kind: 'staff' }), NOW)).toBe('For: Imaging — Uma, 10:00–11:00');
    expect(bookingText(panel({ kind: 'staff' }, null), NOW)).toBe(
      'No booking is open now — commands act on the instrument itself',
    );
  });

  it('staff: a booking that ended but whose window is still open says so', () => {
    const after = new Date('2026-11-29T10:10:00Z');
    expect(bookingText(panel({ kind: 'staff' }), after)).toBe(
      'For: Imaging — Uma, 10:00–11:00 (ended, window open until 11:30)',
    );
  });

  it('instrument user inside the booking: the booking', () => {
    const access: Access = { kind: 'open', opens_at: '2026-11-29T08:55:00Z', closes_at: '2026-11-29T10:30:00Z' };
    expect(bookingText(panel(access), NOW)).toBe('For: Imaging — Uma, 10:00–11:00');
  });

  it('instrument user inside post after the end: when it ended and until when the controls stay', () => {
    const access: Access = { kind: 'open', opens_at: '2026-11-29T08:55:00Z', closes_at: '2026-11-29T10:30:00Z' };
    expect(bookingText(panel(access), new Date('2026-11-29T10:00:00Z'))).toBe(
      'Your booking ended at 11:00 — controls stay open until 11:30',
    );
    expect(bookingText(panel(access), new Date('2026-11-29T10:29:59Z'))).toBe(
      'Your booking ended at 11:00 — controls stay open until 11:30',
    );
  });

  it('own booking before or after its window is named; someone else\'s and none are not', () => {
    expect(bookingText(panel({ kind: 'not_yet', opens_at: '2026-11-29T08:55:00Z' }), new Date('2026-11-29T08:00:00Z'))).toBe(
      'For: Imaging — Uma, 10:00–11:00',
    );
    expect(bookingText(panel({ kind: 'closed', closed_at: '2026-11-29T10:30:00Z' }), new Date('2026-11-29T11:00:00Z'))).toBe(
      'For: Imaging — Uma, 10:00–11:00',
    );
    expect(bookingText(panel({ kind: 'not_yours' }), NOW)).toBeNull();
    expect(bookingText(panel({ kind: 'no_booking' }, null), NOW)).toBeNull();
    expect(bookingText(panel({ kind: 'no_interlock' }, null), NOW)).toBeNull();
  });

  it('a booking near the end of time does not throw', () => {
    const far: Event = { ...imaging, starts_at: '9999-12-31T22:00:00Z', ends_at: '9999-12-31T23:59:00Z' };
    expect(() => bookingText(panel({ kind: 'staff' }, far), NOW)).not.toThrow();
    expect(bookingText(panel({ kind: 'staff' }, far), NOW)).toMatch(/^For: Imaging — Uma, /);
  });
});

describe('autoLockText', () => {
  const info: AutoLockInfo = {
    due_at: '2026-11-29T10:30:00Z',
    event_id: 'ev-1',
    attempts: 0,
    next_attempt_at: null,
    last_error: '',
  };

  it('while waiting: when', () => {
    expect(autoLockText(info, NOW)).toBe('Auto-lock at 11:30');
    expect(autoLockText({ ...info, due_at: '2026-11-30T10:30:00Z' }, NOW)).toBe('Auto-lock at Mon 30 Nov, 11:30');
    expect(autoLockFailing(info)).toBe(false);
    expect(autoLockFailing(null)).toBe(false);
  });

  it('when failing: attempts, the last error and the next try', () => {
    const failing = {
      ...info,
      attempts: 2,
      next_attempt_at: '2026-11-29T10:31:00Z',
      last_error: 'HTTP 503 Service Unavailable from Relay A',
    };
    expect(autoLockText(failing, NOW)).toBe(
      'Auto-lock failing (2 attempts): HTTP 503 Service Unavailable from Relay A. Next try at 11:31',
    );
    expect(autoLockFailing(failing)).toBe(true);
    expect(autoLockText({ ...failing, attempts: 1, last_error: 'Relay A did not lock.' }, NOW)).toBe(
      'Auto-lock failing (1 attempt): Relay A did not lock. Next try at 11:31',
    );
    expect(autoLockText({ ...failing, last_error: '', next_attempt_at: null }, NOW)).toBe('Auto-lock failing (2 attempts).');
  });
});

describe('newerReading', () => {
  it('keeps the later reading; either may be missing', () => {
    const a = { state: 'locked' as const, read_at: '2026-11-29T09:00:00Z', detail: '' };
    const b = { state: 'unlocked' as const, read_at: '2026-11-29T09:00:05Z', detail: '' };
    expect(newerReading(a, b)).toBe(b);
    expect(newerReading(b, a)).toBe(b);
    expect(newerReading(null, a)).toBe(a);
    expect(newerReading(a, null)).toBe(a);
    expect(newerReading(null, null)).toBeNull();
  });
});
