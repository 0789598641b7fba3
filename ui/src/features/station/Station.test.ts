import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import Station from './Station.svelte';
import { account, fakeBackend } from '../../test/ipc';
import type { StationOverview } from '../../lib/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

const overview: StationOverview = {
  now: '2026-11-29T08:30:00Z',
  instruments: [
    {
      service: {
        id: 'a',
        name: 'Confocal',
        description: '',
        tags: ['has_interlock'],
        interlock: { lead_minutes: 5, post_minutes: 30 },
        auto_lock: false,
        end_on_lock: null,
        post_lock_url: null,
      },
      current: {
        mine: false,
        event_id: null,
        title: null,
        user_display_name: null,
        source: null,
        matched: true,
        starts_at: '2026-11-29T08:00:00Z',
        ends_at: '2026-11-29T10:00:00Z',
      },
      next: {
        mine: true,
        event_id: 'ev-2',
        title: 'My imaging',
        user_display_name: 'Ivan User',
        source: null,
        matched: true,
        starts_at: '2026-11-29T12:00:00Z',
        ends_at: '2026-11-29T13:00:00Z',
      },
    },
    {
      service: { id: 'b', name: 'FACS', description: '', tags: [], interlock: null, auto_lock: false, end_on_lock: null, post_lock_url: null },
      current: null,
      next: null,
    },
  ],
};

describe('Station', () => {
  it('shows one card per instrument with interlock, current and next booking', async () => {
    fakeBackend({
      station_overview: () => overview,
      interlock_panel: () => ({
        service: overview.instruments[0].service,
        access: { kind: 'no_booking' },
        event: null,
        reading: null,
        has_lock: true,
        has_unlock: true,
        has_status: false,
        poll_secs: 0,
      }),
    });
    render(Station, { props: { account: account({ role: 'instrument_user' }), onError: vi.fn() } });

    const cards = await screen.findAllByTestId('instrument-card');
    expect(cards.map((c) => c.dataset.serviceName)).toEqual(['Confocal', 'FACS']);

    const confocal = within(cards[0]);
    expect(confocal.getByTestId('instrument-interlock').textContent?.trim()).toBe(
      'Interlock · opens 5 min before, closes 30 min after',
    );
    expect(confocal.getByTestId('instrument-current').textContent).toContain('Booked by another user');
    expect(confocal.getByTestId('instrument-current').textContent).toContain('Sun 29 Nov, 09:00–11:00');
    expect(confocal.getByTestId('instrument-next').textContent).toContain('Your booking');
    expect(confocal.getByTestId('instrument-next').textContent).toContain('My imaging');

    // Only the instrument with an interlock gets the panel.
    expect((await confocal.findByTestId('interlock-closed-message')).textContent).toBe(
      'You have no booking on this instrument now',
    );
    expect(confocal.getByTestId('interlock-panel').dataset.serviceName).toBe('Confocal');

    const facs = within(cards[1]);
    expect(facs.queryByTestId('interlock-panel')).toBeNull();
    expect(facs.queryByTestId('instrument-interlock')).toBeNull();
    expect(facs.getByTestId('instrument-current').textContent).toContain('Free now');
    expect(facs.getByTestId('instrument-next').textContent).toContain('No upcoming booking');
  });

  it('shows the empty state with a hint for staff', async () => {
    fakeBackend({ station_overview: () => ({ now: overview.now, instruments: [] }) });
    render(Station, { props: { account: account({ role: 'facility_staff' }), onError: vi.fn() } });
    const empty = await screen.findByTestId('station-empty');
    expect(empty.textContent).toContain('No instruments configured yet');
    expect(empty.textContent).toContain('Services');
  });
  it('names where a booking came from, and the calendar\'s name of a booking no account matched', async () => {
    const facs = overview.instruments[1].service;
    fakeBackend({
      station_overview: () => ({
        now: overview.now,
        instruments: [
          {
            service: facs,
            current: {
              mine: true,
              event_id: 'ev-synced',
              title: 'Synced imaging',
              user_display_name: 'Uma User',
              source: 'Facility calendar',
              matched: true,
              starts_at: '2026-11-29T08:00:00Z',
              ends_at: '2026-11-29T09:00:00Z',
            },
            next: {
              mine: false,
              event_id: 'ev-vera',
              title: 'Visitor session',
              user_display_name: 'Vera Visitor',
              source: 'Facility calendar',
              matched: false,
              starts_at: '2026-11-29T10:00:00Z',
              ends_at: '2026-11-29T11:00:00Z',
            },
          },
        ],
      }),
    });
    render(Station, { props: { account: account({ role: 'facility_staff' }), onError: vi.fn() } });
    const card = within((await screen.findAllByTestId('instrument-card'))[0]);
    const current = within(card.getByTestId('instrument-current'));
    expect(current.getByTestId('instrument-mine').textContent).toBe('Your booking');
    expect(current.getByTestId('booking-source').textContent).toBe('· from Facility calendar');
    const next = card.getByTestId('instrument-next');
    expect(next.textContent).toContain('Visitor session · Booked by Vera Visitor');
    expect(within(next).getByTestId('booking-source').textContent).toBe('· from Facility calendar');
  });
});
