import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import Schedule from './Schedule.svelte';
import { account, fakeBackend } from '../../test/ipc';
import type { Event } from '../../lib/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

function event(overrides: Partial<Event> = {}): Event {
  return {
    id: 'ev-local',
    service_id: 'svc-a',
    service_name: 'Confocal',
    user_id: 'acc-uma',
    user_display_name: 'Uma User',
    booked_by: '',
    title: 'Local imaging',
    starts_at: '2026-11-29T08:00:00Z',
    ends_at: '2026-11-29T09:00:00Z',
    order_id: null,
    line_id: null,
    usage: null,
    source: null,
    conflict: false,
    ...overrides,
  };
}

const events: Event[] = [
  event(),
  event({
    id: 'ev-synced',
    title: 'Synced imaging',
    starts_at: '2026-11-29T10:00:00Z',
    ends_at: '2026-11-29T11:00:00Z',
    booked_by: 'Uma',
    source: { feed_id: 'feed-1', name: 'Facility calendar', uid: 'abc@booking' },
    conflict: true,
  }),
  event({
    id: 'ev-vera',
    title: 'Visitor run',
    starts_at: '2026-11-29T12:00:00Z',
    ends_at: '2026-11-29T13:00:00Z',
    user_id: null,
    user_display_name: 'Vera Visitor',
    booked_by: 'Vera Visitor',
    source: { feed_id: 'feed-1', name: 'Facility calendar', uid: 'def@booking' },
  }),
  event({
    id: 'ev-file',
    title: 'Imported run',
    starts_at: '2026-11-29T14:00:00Z',
    ends_at: '2026-11-29T15:00:00Z',
    source: { feed_id: null, name: 'week.ics', uid: 'ghi@booking' },
  }),
];

const rowOf = (id: string) => {
  const row = screen.getAllByTestId('event-row').find((r) => r.dataset.eventId === id);
  if (!row) throw new Error(`no row for ${id}`);
  return within(row);
};

describe('Schedule', () => {
  it('for staff: synced bookings show their source, are read-only, and overlaps are flagged', async () => {
    fakeBackend({ list_events: () => events });
    render(Schedule, { props: { account: account({ role: 'facility_staff' }), onError: vi.fn() } });
    const rows = await screen.findAllByTestId('event-row');
    expect(rows.map((r) => r.dataset.eventId)).toEqual(['ev-local', 'ev-synced', 'ev-vera', 'ev-file']);

    const local = rowOf('ev-local');
    expect(local.queryByTestId('event-source')).toBeNull();
    expect(local.queryByTestId('event-read-only')).toBeNull();
    expect(local.getByTestId('event-edit')).toBeTruthy();
    expect(local.queryByTestId('event-conflict')).toBeNull();

    const synced = rowOf('ev-synced');
    expect(synced.getByTestId('event-source').textContent).toBe('From Facility calendar');
    expect(synced.queryByTestId('event-edit')).toBeNull();
    expect(synced.getByTestId('event-read-only').textContent?.trim()).toBe('Read-only: change it in Facility calendar');
    const overlap = synced.getByTestId('event-conflict');
    expect(overlap.textContent).toContain('Overlaps');
    expect(overlap.getAttribute('title')).toBe('Overlaps another booking of Confocal: staff should look at both.');
    expect(synced.getByTestId('event-row-user').textContent?.trim()).toBe('Uma User');

    const vera = rowOf('ev-vera');
    expect(vera.getByTestId('event-row-user').textContent?.trim()).toBe('Booked by Vera Visitor');
    expect(vera.queryByTestId('event-edit')).toBeNull();

    // A file's bookings are ordinary local bookings: editable, with the file named.
    const file = rowOf('ev-file');
    expect(file.getByTestId('event-source').textContent).toBe('From week.ics');
    expect(file.getByTestId('event-edit')).toBeTruthy();
    expect(file.queryByTestId('event-read-only')).toBeNull();
  });

  it('a click on a synced booking opens no editor', async () => {
    const backend = fakeBackend({ list_events: () => events });
    render(Schedule, { props: { account: account({ role: 'facility_staff' }), onError: vi.fn() } });
    await screen.findAllByTestId('event-row');
    const row = screen.getAllByTestId('event-row').find((r) => r.dataset.eventId === 'ev-synced');
    expect(row?.getAttribute('tabindex')).toBeNull();
    await fireEvent.click(row as HTMLElement);
    expect(backend.callsTo('list_services')).toHaveLength(0);
    expect(screen.queryByTestId('event-editor')).toBeNull();
  });

  it('for an instrument user: the source shows, no overlap badge and no staff controls', async () => {
    fakeBackend({ list_events: () => events.slice(0, 2) });
    render(Schedule, { props: { account: account({ role: 'instrument_user' }), onError: vi.fn() } });
    await screen.findAllByTestId('event-row');
    const synced = rowOf('ev-synced');
    expect(synced.getByTestId('event-source').textContent).toBe('From Facility calendar');
    expect(synced.queryByTestId('event-conflict')).toBeNull();
    expect(synced.queryByTestId('event-read-only')).toBeNull();
    expect(screen.queryAllByTestId('event-edit')).toHaveLength(0);
  });
});
