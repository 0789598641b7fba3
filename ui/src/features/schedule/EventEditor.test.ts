import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import EventEditor from './EventEditor.svelte';
import { account, fail, fakeBackend } from '../../test/ipc';
import type { Event, Order, Service } from '../../lib/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

const services: Service[] = [
  { id: 'svc-a', name: 'Confocal', description: '', tags: ['has_interlock'], interlock: { lead_minutes: 5, post_minutes: 30 }, auto_lock: false, end_on_lock: null, post_lock_url: null },
  { id: 'svc-b', name: 'FACS', description: '', tags: [], interlock: null, auto_lock: false, end_on_lock: null, post_lock_url: null },
];
const me = account({ id: 'staff-1', display_name: 'Sam Staff', username: 'sam', role: 'facility_staff' });
const accounts = [
  me,
  account({ id: 'u-1', display_name: 'Ivan User', username: 'ivan', role: 'instrument_user' }),
  account({ id: 'u-2', display_name: 'Gone User', username: 'gone', role: 'instrument_user', active: false }),
];
const orders: Order[] = [
  {
    id: 'ord-1',
    reference: 'ORD-1',
    customer: 'Lab X',
    status: 'open',
    lines: [
      { id: 'line-a', service_id: 'svc-a', service_name: 'Confocal', description: 'Imaging' },
      { id: 'line-b', service_id: 'svc-b', service_name: 'FACS', description: 'Sorting' },
    ],
  },
];

describe('EventEditor', () => {
  it('sends local datetime inputs as UTC and links the order line', async () => {
    const backend = fakeBackend({ create_event: () => ({}) });
    const onDone = vi.fn();
    render(EventEditor, { props: { event: null, me, services, accounts, orders, onDone, onCancel: vi.fn() } });

    const userOptions = [...(screen.getByTestId('event-user-select') as HTMLSelectElement).options].map((o) => o.text);
    expect(userOptions).toEqual(['Sam Staff (sam)', 'Ivan User (ivan)']);

    await fireEvent.change(screen.getByTestId('event-user-select'), { target: { value: 'u-1' } });
    await fireEvent.input(screen.getByTestId('event-title-input'), { target: { value: 'Live imaging' } });
    await fireEvent.input(screen.getByTestId('event-start'), { target: { value: '2026-11-29T09:00' } });
    await fireEvent.input(screen.getByTestId('event-end'), { target: { value: '2026-11-29T11:00' } });
    await fireEvent.change(screen.getByTestId('event-order-select'), { target: { value: 'ord-1' } });

    // Only the lines of the chosen order for the chosen service are offered.
    const lineOptions = [...(screen.getByTestId('event-line-select') as HTMLSelectElement).options].map((o) => o.value);
    expect(lineOptions).toEqual(['', 'line-a']);
    await fireEvent.change(screen.getByTestId('event-line-select'), { target: { value: 'line-a' } });

    await fireEvent.click(screen.getByTestId('event-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(backend.callsTo('create_event')).toEqual([
      {
        input: {
          service_id: 'svc-a',
          user_id: 'u-1',
          title: 'Live imaging',
          starts_at: '2026-11-29T08:00:00.000Z', // Europe/Berlin is UTC+1 in November
          ends_at: '2026-11-29T10:00:00.000Z',
          order_id: 'ord-1',
          line_id: 'line-a',
        },
      },
    ]);
  });

  it('shows the backend message and deletes only after confirmation', async () => {
    const event: Event = {
      id: 'ev-1',
      service_id: 'svc-b',
      service_name: 'FACS',
      user_id: 'u-1',
      user_display_name: 'Ivan User',
      title: 'Sort',
      starts_at: '2026-11-29T08:00:00Z',
      ends_at: '2026-11-29T10:00:00Z',
      order_id: null,
      line_id: null,
      usage: null,
      booked_by: '',
      source: null,
      conflict: false,
    };
    const backend = fakeBackend({
      update_event: () => fail('CONFLICT', 'The booking overlaps another booking of FACS.'),
      delete_event: () => null,
    });
    const onDone = vi.fn();
    render(EventEditor, { props: { event, me, services, accounts, orders, onDone, onCancel: vi.fn() } });

    expect((screen.getByTestId('event-start') as HTMLInputElement).value).toBe('2026-11-29T09:00');
    await fireEvent.click(screen.getByTestId('event-save'));
    expect((await screen.findByTestId('form-error')).textContent).toBe('The booking overlaps another booking of FACS.');

    await fireEvent.click(screen.getByTestId('event-delete'));
    expect(backend.callsTo('delete_event')).toHaveLength(0);
    await fireEvent.click(screen.getByTestId('event-delete-confirm'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(backend.callsTo('delete_event')).toEqual([{ id: 'ev-1' }]);
  });
});
