import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import StationStatus from './StationStatus.svelte';
import { fakeBackend } from '../../test/ipc';
import { formatTime } from '../../lib/time';
import type { PublicOverview } from '../../lib/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

const overview: PublicOverview = {
  now: '2026-11-30T09:30:00Z',
  instruments: [
    {
      service_id: 's1',
      name: 'Confocal',
      has_interlock: true,
      reading: { state: 'locked', read_at: '2026-11-30T09:29:00Z', detail: '' },
      current: { starts_at: '2026-11-30T09:00:00Z', ends_at: '2026-11-30T11:00:00Z' },
      next: null,
    },
    {
      service_id: 's2',
      name: 'Sequencer',
      has_interlock: false,
      reading: null,
      current: null,
      next: { starts_at: '2026-11-30T10:00:00Z', ends_at: '2026-11-30T12:00:00Z' },
    },
  ],
};

describe('StationStatus (lock screen)', () => {
  it('shows each instrument with its reading and bookings as times only', async () => {
    const backend = fakeBackend({ public_overview: () => overview });
    render(StationStatus);
    const rows = await screen.findAllByTestId('lock-instrument');
    expect(rows).toHaveLength(2);
    const t = (iso: string) => formatTime(iso);
    expect(rows[0].textContent).toContain('Confocal');
    expect(rows[0].textContent).toContain(`Locked at ${t('2026-11-30T09:29:00Z')}`);
    expect(rows[0].textContent).toContain(`Booked ${t('2026-11-30T09:00:00Z')}–${t('2026-11-30T11:00:00Z')}`);
    expect(rows[1].textContent).toContain('Free now');
    expect(rows[1].textContent).toContain(`next booked ${t('2026-11-30T10:00:00Z')}–${t('2026-11-30T12:00:00Z')}`);
    // An instrument without an interlock has no reading line.
    expect(rows[1].querySelector('[data-testid="lock-reading"]')).toBeNull();
    expect(backend.callsTo('public_overview')).toHaveLength(1);
  });

  it('shows nothing (and the sign-in form still works) when the overview fails', async () => {
    fakeBackend({});
    render(StationStatus);
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByTestId('lock-screen')).toBeNull();
  });
});
