import { describe, expect, it } from 'vitest';
import type { TimelineInstrument } from '../../lib/ipc';
import { bookingBlocks, localDays, ownWindows, position, stateSegments, ticks } from './timeline';

// TZ is Europe/Berlin (UTC+1 in winter); the locale en-GB (src/test/setup.ts).
const day = localDays(new Date('2026-11-30T12:00:00Z')); // 30 Nov, local midnight to midnight
const at = (hhmm: string) => new Date(`2026-11-30T${hhmm}:00+01:00`).toISOString();

const instrument: TimelineInstrument = {
  service_id: 's1',
  service_name: 'Confocal',
  interlock: { lead_minutes: 15, post_minutes: 30 },
  bookings: [
    { mine: true, event_id: 'e1', title: 'Imaging', user_display_name: 'Uma', source: null, matched: true, starts_at: at('06:00'), ends_at: at('12:00') },
    { mine: false, event_id: null, title: null, user_display_name: null, source: null, matched: true, starts_at: at('18:00'), ends_at: at('21:00') },
  ],
  states: [
    { state: 'locked', at: '2026-11-29T20:00:00Z' },
    { state: 'unlocked', at: at('06:05') },
    { state: 'locked', at: at('12:00') },
  ],
};

describe('timeline layout', () => {
  it('spans one local day', () => {
    expect(day).toEqual({ from: '2026-11-29T23:00:00.000Z', to: '2026-11-30T23:00:00.000Z' });
    expect(position(at('12:00'), day.from, day.to)).toBe(50);
    expect(position('2026-12-01T12:00:00Z', day.from, day.to)).toBeNull();
  });

  it('places bookings and words them for the reader', () => {
    const [mine, other] = bookingBlocks(instrument, day.from, day.to);
    expect(mine).toMatchObject({ left: 25, width: 25, mine: true, label: 'Your booking: Imaging' });
    expect(mine.description).toBe('Your booking: Imaging, 06:00–12:00');
    expect(other).toMatchObject({ left: 75, width: 12.5, mine: false, label: 'Booked', description: 'Booked, 18:00–21:00' });
  });

  it('says where a calendar booking came from, and who booked it when no account matched', () => {
    const synced: TimelineInstrument = {
      ...instrument,
      bookings: [
        { mine: true, event_id: 'e1', title: 'Imaging', user_display_name: 'Uma', source: 'Facility calendar', matched: true, starts_at: at('06:00'), ends_at: at('12:00') },
        { mine: false, event_id: 'e2', title: 'Visit', user_display_name: 'Vera Visitor', source: 'Facility calendar', matched: false, starts_at: at('18:00'), ends_at: at('21:00') },
      ],
    };
    const [mine, vera] = bookingBlocks(synced, day.from, day.to);
    expect(mine.description).toBe('Your booking: Imaging, 06:00–12:00, from Facility calendar');
    expect(vera.label).toBe('Visit · Booked by Vera Visitor');
    expect(vera.description).toBe('Visit · Booked by Vera Visitor, 18:00–21:00, from Facility calendar');
  });

  it('shades the own interlock window, lead before and post after', () => {
    const [w] = ownWindows(instrument, day.from, day.to);
    expect(w.left).toBeCloseTo((5.75 / 24) * 100);
    expect(w.left + w.width).toBeCloseTo((12.5 / 24) * 100);
    expect(ownWindows({ ...instrument, interlock: null }, day.from, day.to)).toEqual([]);
  });

  it('draws the relay state from the change before the day until now, never into the future', () => {
    const segments = stateSegments(instrument.states, day.from, day.to, at('15:00'));
    expect(segments.map((s) => [s.state, Math.round(s.left * 100) / 100, Math.round(s.width * 100) / 100])).toEqual([
      ['locked', 0, 25.35],
      ['unlocked', 25.35, 24.65],
      ['locked', 50, 12.5],
    ]);
    expect(segments[1].description).toBe('Unlocked from 06:05');
  });

  it('marks every third hour of a day and every day of a week', () => {
    expect(ticks(day.from, day.to).map((t) => t.label)).toEqual(['00:00', '03:00', '06:00', '09:00', '12:00', '15:00', '18:00', '21:00', '00:00']);
    const week = localDays(new Date('2026-11-30T12:00:00Z'), 7);
    expect(ticks(week.from, week.to).map((t) => t.label)).toEqual([
      'Mon 30 Nov', 'Tue 1 Dec', 'Wed 2 Dec', 'Thu 3 Dec', 'Fri 4 Dec', 'Sat 5 Dec', 'Sun 6 Dec',
    ]);
  });

  it('keeps a day with a DST change whole (25 hours in October)', () => {
    const autumn = localDays(new Date('2026-10-25T12:00:00Z'));
    expect(new Date(autumn.to).getTime() - new Date(autumn.from).getTime()).toBe(25 * 3600_000);
  });
});
