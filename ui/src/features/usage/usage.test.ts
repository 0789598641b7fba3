import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import Usage from './Usage.svelte';
import { fail, fakeBackend } from '../../test/ipc';
import type { UsageReport } from '../../lib/ipc';
import { defaultRange, formatMinutes, usageText } from './usage';
import { formatTime } from '../../lib/time';

afterEach(() => {
  cleanup();
  clearMocks();
});

const report: UsageReport = {
  from: '2026-11-01',
  to: '2026-11-30',
  time_zone: 'Europe/Berlin',
  entries: [
    {
      event_id: 'ev-1',
      service_id: 'svc-a',
      service_name: 'Confocal',
      user_id: 'acc-1',
      username: 'uma',
      user_display_name: 'Uma User',
      title: 'Imaging',
      order_id: null,
      line_id: null,
      starts_at: '2026-11-30T10:00:00Z',
      ends_at: '2026-11-30T10:45:00Z',
      usage: {
        started_at: '2026-11-30T10:05:00Z',
        started_by: 'uma',
        ended_at: '2026-11-30T10:45:00Z',
        ended_by: 'uma',
        booked_ends_at: '2026-11-30T11:00:00Z',
      },
      used_minutes: 40,
      booked_minutes: 45,
    },
  ],
  totals: [
    {
      service_id: 'svc-a',
      service_name: 'Confocal',
      user_id: 'acc-1',
      username: 'uma',
      user_display_name: 'Uma User',
      bookings: 2,
      used_bookings: 1,
      booked_minutes: 105,
      used_minutes: 40,
    },
  ],
};

describe('usage helpers', () => {
  it('describe a booking’s actual use', () => {
    expect(usageText(null)).toBe('—');
    expect(
      usageText({ started_at: '2026-11-30T10:05:00Z', started_by: 'uma', ended_at: null, ended_by: null, booked_ends_at: null }),
    ).toBe(`in use since ${formatTime('2026-11-30T10:05:00Z')} (uma)`);
    expect(usageText(report.entries[0].usage)).toBe(
      `${formatTime('2026-11-30T10:05:00Z')}–${formatTime('2026-11-30T10:45:00Z')} (unlocked by uma, locked by uma)`,
    );
    expect(formatMinutes(40)).toBe('40 min');
    expect(formatMinutes(125)).toBe('2 h 05 min');
    expect(defaultRange(new Date(2026, 10, 17))).toEqual({ from: '2026-11-01', to: '2026-11-17' });
  });
});

describe('Usage screen', () => {
  it('shows totals per service and user for the chosen range', async () => {
    const backend = fakeBackend({ usage_report: () => report });
    render(Usage, { props: { onError: () => {} } });
    const row = await screen.findByTestId('usage-total-row');
    expect(row.dataset.service).toBe('Confocal');
    expect(row.dataset.username).toBe('uma');
    expect(screen.getByTestId('usage-total-bookings').textContent).toBe('2');
    expect(screen.getByTestId('usage-total-used').textContent).toBe('40 min');
    expect(screen.getByTestId('usage-total-booked').textContent).toBe('1 h 45 min');
    expect(screen.getByTestId('usage-grand-used').textContent).toBe('40 min');
    expect(screen.getByTestId('usage-row-used').textContent).toBe('40 min');
    expect(screen.getByTestId('usage-row-actual').textContent).toContain('unlocked by uma');
    await fireEvent.input(screen.getByTestId('usage-from'), { target: { value: '2026-10-01' } });
    await fireEvent.input(screen.getByTestId('usage-to'), { target: { value: '2026-10-31' } });
    await fireEvent.click(screen.getByTestId('usage-show'));
    await waitFor(() => expect(backend.callsTo('usage_report')).toHaveLength(2));
    expect(backend.callsTo('usage_report')[1]).toEqual({ from: '2026-10-01', to: '2026-10-31' });
  });

  it('shows the backend’s refusal', async () => {
    fakeBackend({ usage_report: () => fail('VALIDATION', "The 'to' date must be on or after the 'from' date.") });
    render(Usage, { props: { onError: () => {} } });
    expect((await screen.findByTestId('usage-error')).textContent).toContain("'to' date");
  });
});
