import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/svelte';
import Timeline from './Timeline.svelte';
import type { Timeline as Day } from '../../lib/ipc';

// TZ Europe/Berlin, locale en-GB.
const day: Day = {
  from: '2026-11-29T23:00:00Z',
  to: '2026-11-30T23:00:00Z',
  now: '2026-11-30T11:00:00Z', // 12:00 local: the middle of the day
  instruments: [
    {
      service_id: 's1',
      service_name: 'Confocal',
      interlock: { lead_minutes: 15, post_minutes: 30 },
      bookings: [
        { mine: true, event_id: 'e1', title: 'Imaging', user_display_name: 'Uma', source: null, matched: true, starts_at: '2026-11-30T09:00:00Z', ends_at: '2026-11-30T10:00:00Z' },
        { mine: false, event_id: null, title: null, user_display_name: null, source: null, matched: true, starts_at: '2026-11-30T13:00:00Z', ends_at: '2026-11-30T14:00:00Z' },
      ],
      states: [{ state: 'locked', at: '2026-11-29T20:00:00Z' }, { state: 'unlocked', at: '2026-11-30T09:05:00Z' }],
    },
    { service_id: 's2', service_name: 'Balance', interlock: null, bookings: [], states: [] },
  ],
};

describe('Timeline', () => {
  it('shows each instrument with its bookings, the now line, the own window and the relay state', () => {
    render(Timeline, { props: { timeline: day, label: 'Today' } });
    const region = screen.getByRole('region', { name: 'Today' });
    const rows = within(region).getAllByTestId('timeline-row');
    expect(rows.map((r) => r.dataset.serviceName)).toEqual(['Confocal', 'Balance']);
    const bookings = within(rows[0]).getAllByRole('listitem').filter((li) => li.dataset.testid === 'timeline-booking');
    expect(bookings.map((b) => b.getAttribute('aria-label'))).toEqual([
      'Your booking: Imaging, 10:00–11:00',
      'Booked, 14:00–15:00',
    ]);
    expect(bookings[0].style.left).toBe('41.667%');
    expect(within(rows[0]).getByTestId('timeline-now').style.left).toBe('50%');
    expect(within(rows[0]).getAllByTestId('timeline-window')).toHaveLength(1);
    const states = within(rows[0]).getAllByTestId('timeline-state');
    expect(states.map((s) => [s.dataset.state, s.getAttribute('aria-label')])).toEqual([
      ['locked', 'Locked from 21:00'],
      ['unlocked', 'Unlocked from 10:05'],
    ]);
    // No interlock: no relay strip.
    expect(within(rows[1]).queryAllByTestId('timeline-state')).toHaveLength(0);
  });
});
