import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import Audit from './Audit.svelte';
import { fakeBackend } from '../../test/ipc';
import { LIMITS, type AuditEntry } from '../../lib/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: 'au-1',
    at: '2026-11-29T09:42:05Z',
    account_id: 'acc-2',
    username: 'ivan',
    role: 'instrument_user',
    service_id: 'svc-a',
    service_name: 'Confocal',
    event_id: 'ev-1',
    booking: { title: 'Imaging', user_display_name: 'Ivan User', starts_at: '2026-11-29T09:00:00Z', ends_at: '2026-11-29T11:00:00Z' },
    action: 'unlock',
    result: 'ok',
    reason: '',
    ...overrides,
  };
}

describe('Audit', () => {
  it('renders one row per entry with local time, user, role, service, action, result and reason', async () => {
    fakeBackend({
      interlock_audit: () => [
        entry(),
        entry({ id: 'au-2', username: 'sam', role: 'facility_staff', action: 'lock', result: 'failed', reason: 'HTTP 503 from Relay A' }),
        entry({ id: 'au-3', action: 'auto_lock', result: 'refused', reason: 'Window closed' }),
      ],
    });
    render(Audit, { props: { onError: vi.fn() } });

    const rows = await screen.findAllByTestId('audit-row');
    expect(rows.map((r) => r.dataset.result)).toEqual(['ok', 'failed', 'refused']);
    expect(rows[0].textContent).toContain('Sun 29 Nov, 10:42:05');
    expect(rows[0].textContent).toContain('ivan');
    expect(rows[0].textContent).toContain('Instrument user');
    expect(rows[0].textContent).toContain('Confocal');
    expect(rows[0].textContent).toContain('Unlock');
    expect(rows[1].textContent).toContain('Facility staff');
    expect(rows[1].textContent).toContain('Failed');
    expect(rows[1].textContent).toContain('HTTP 503 from Relay A');
    expect(rows[2].textContent).toContain('Auto-lock');
    expect(screen.queryByTestId('audit-empty')).toBeNull();
  });

  it('names the booking of each entry in local time, or a dash when there was none', async () => {
    fakeBackend({
      interlock_audit: () => [
        entry(),
        entry({ id: 'au-2', event_id: null, booking: null, username: 'sam', role: 'facility_staff', action: 'lock' }),
        entry({
          id: 'au-3',
          booking: { title: 'Night run', user_display_name: 'Uma', starts_at: '2026-11-29T21:00:00Z', ends_at: '2026-11-30T01:00:00Z' },
        }),
      ],
    });
    render(Audit, { props: { onError: vi.fn() } });
    const cells = await screen.findAllByTestId('audit-booking');
    const texts = cells.map((c) => c.textContent?.replace(/\s+/g, ' ').trim());
    expect(texts).toEqual([
      'Imaging Ivan User Sun 29 Nov, 10:00–12:00',
      '—',
      'Night run Uma Sun 29 Nov, 22:00 – Mon 30 Nov, 02:00',
    ]);
    expect(screen.getByRole('columnheader', { name: 'Booking' })).toBeTruthy();
  });

  it('labels the auto-lock steps', async () => {
    const steps = ['ok', 'failed', 'handed_over', 'retimed', 'cancelled', 'dismissed'];
    fakeBackend({
      interlock_audit: () =>
        steps.map((result, i) =>
          entry({ id: `au-${i}`, username: 'auto-lock', role: 'system', action: 'auto_lock', result, reason: '' }),
        ),
    });
    render(Audit, { props: { onError: vi.fn() } });
    const rows = await screen.findAllByTestId('audit-row');
    expect(rows.map((r) => r.dataset.result)).toEqual(steps);
    expect(screen.getAllByTestId('audit-action').map((c) => c.textContent?.trim())).toEqual(Array(6).fill('Auto-lock'));
    expect(screen.getAllByTestId('audit-result').map((c) => c.textContent?.trim())).toEqual([
      'OK',
      'Failed',
      'Handed over',
      'Re-timed',
      'Cancelled',
      'Dismissed',
    ]);
  });

  it('says what it lists: every command by a person and every auto-lock step', async () => {
    fakeBackend({ interlock_audit: () => [] });
    render(Audit, { props: { onError: vi.fn() } });
    const intro = (await screen.findByTestId('audit-intro')).textContent?.replace(/\s+/g, ' ') ?? '';
    expect(intro).toContain('Every lock, unlock and status command given by a person');
    expect(intro).toContain('every auto-lock step');
  });

  it('shows the empty state and refreshes on demand', async () => {
    let entries: AuditEntry[] = [];
    const backend = fakeBackend({ interlock_audit: () => entries });
    render(Audit, { props: { onError: vi.fn() } });
    expect(await screen.findByTestId('audit-empty')).toBeTruthy();

    entries = [entry()];
    await fireEvent.click(screen.getByTestId('audit-refresh'));
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(1));
    expect(backend.callsTo('interlock_audit')).toHaveLength(2);
  });

  it('reads older entries a page at a time, from the last one shown', async () => {
    const page = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => entry({ id: String(from - i) }));
    const backend = fakeBackend({
      interlock_audit: (args: Record<string, unknown>) =>
        args.before === null ? page(1000, LIMITS.history_page) : page(Number(args.before) - 1, 3),
    });
    render(Audit, { props: { onError: vi.fn() } });
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(LIMITS.history_page));
    await fireEvent.click(screen.getByTestId('audit-older'));
    await waitFor(() => expect(screen.getAllByTestId('audit-row')).toHaveLength(LIMITS.history_page + 3));
    expect(backend.callsTo('interlock_audit')).toEqual([
      { before: null },
      { before: String(1000 - LIMITS.history_page + 1) },
    ]);
    // A short page was the last: no more to show.
    expect(screen.queryByTestId('audit-older')).toBeNull();
  });
});
