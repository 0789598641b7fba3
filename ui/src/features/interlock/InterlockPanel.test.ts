import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import InterlockPanel from './InterlockPanel.svelte';
import InterlockErrors from './InterlockErrors.svelte';
import { interlockErrors } from './errors.svelte';
import { fakeBackend } from '../../test/ipc';
import type { Access, InterlockPanel as Panel, InterlockResult, Service, StatusReading } from '../../lib/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
  interlockErrors.clear();
  vi.useRealTimers();
});

const service: Service = {
  id: 'svc-a',
  name: 'Confocal',
  description: '',
  tags: ['has_interlock'],
  interlock: { lead_minutes: 5, post_minutes: 30 },
  auto_lock: false,
};

function panel(access: Access, overrides: Partial<Panel> = {}): Panel {
  return {
    service,
    access,
    event: {
      id: 'ev-1',
      service_id: 'svc-a',
      service_name: 'Confocal',
      user_id: 'acc-1',
      user_display_name: 'Ivan User',
      title: 'Imaging',
      starts_at: '2026-11-29T08:00:00Z',
      ends_at: '2026-11-29T10:00:00Z',
      order_id: null,
      line_id: null,
    },
    reading: null,
    has_lock: true,
    has_unlock: true,
    has_status: true,
    poll_secs: 0,
    ...overrides,
  };
}

function inMinutes(minutes: number): string {
  return new Date(Date.now() + minutes * 60_000).toISOString();
}

function hhmm(iso: string): string {
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

describe('InterlockPanel', () => {
  it('staff see the buttons and the reason field; no reading is Unknown, not read yet', async () => {
    fakeBackend({ interlock_panel: () => panel({ kind: 'staff' }) });
    render(InterlockPanel, { props: { service } });

    expect(await screen.findByTestId('interlock-unlock')).toBeTruthy();
    expect(screen.getByTestId('interlock-lock').textContent?.trim()).toBe('Lock');
    expect(screen.getByTestId('interlock-status').textContent?.trim()).toBe('Check status');
    expect(screen.getByTestId('interlock-reason')).toBeTruthy();
    expect(screen.getByText('Reason (optional, goes into the audit log)')).toBeTruthy();
    expect(screen.getByTestId('interlock-panel').dataset.serviceName).toBe('Confocal');
    expect(screen.getByTestId('interlock-state').dataset.state).toBe('unknown');
    expect(screen.getByTestId('interlock-state').textContent).toBe('Unknown');
    expect(screen.getByTestId('interlock-read-at').textContent?.trim()).toBe('not read yet');
    expect(screen.queryByTestId('interlock-closed-message')).toBeNull();
  });

  it('open access shows the countdown and the buttons, without a reason field', async () => {
    const closes = inMinutes(47);
    fakeBackend({ interlock_panel: () => panel({ kind: 'open', opens_at: inMinutes(-60), closes_at: closes }) });
    render(InterlockPanel, { props: { service } });

    const countdown = await screen.findByTestId('interlock-countdown');
    expect(countdown.textContent).toBe(`Controls close at ${hhmm(closes)}, in 47 min`);
    expect(screen.getByTestId('interlock-unlock')).toBeTruthy();
    expect(screen.queryByTestId('interlock-reason')).toBeNull();
  });

  it('not_yet shows when the controls open and no buttons', async () => {
    const opens = inMinutes(12);
    fakeBackend({ interlock_panel: () => panel({ kind: 'not_yet', opens_at: opens }) });
    render(InterlockPanel, { props: { service } });

    const message = await screen.findByTestId('interlock-closed-message');
    expect(message.textContent).toBe(`Controls open at ${hhmm(opens)}, in 12 min`);
    expect(screen.queryByTestId('interlock-unlock')).toBeNull();
    expect(screen.queryByTestId('interlock-lock')).toBeNull();
    expect(screen.queryByTestId('interlock-status')).toBeNull();
  });

  it('closed and no_booking explain why there are no buttons', async () => {
    fakeBackend({ interlock_panel: () => panel({ kind: 'closed', closed_at: '2026-11-29T10:30:00Z' }) });
    render(InterlockPanel, { props: { service } });
    expect((await screen.findByTestId('interlock-closed-message')).textContent).toContain('Controls closed at');
    expect(screen.queryByTestId('interlock-unlock')).toBeNull();
    cleanup();

    fakeBackend({ interlock_panel: () => panel({ kind: 'no_booking' }, { event: null }) });
    render(InterlockPanel, { props: { service } });
    expect((await screen.findByTestId('interlock-closed-message')).textContent).toBe(
      'You have no booking on this instrument now',
    );
  });

  it('clicking Unlock sends the command, shows busy, then the read-back state', async () => {
    const reading: StatusReading = { state: 'unlocked', read_at: '2026-11-29T09:42:05Z', detail: '' };
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const backend = fakeBackend({
      interlock_panel: () => panel({ kind: 'open', opens_at: inMinutes(-10), closes_at: inMinutes(50) }),
      interlock_command: async (): Promise<InterlockResult> => {
        await gate;
        return { action: 'unlock', ok: true, results: [{ webhook_name: 'Relay', ok: true, message: 'HTTP 200' }], reading, error: null };
      },
    });
    render(InterlockPanel, { props: { service } });

    await fireEvent.click(await screen.findByTestId('interlock-unlock'));
    expect((await screen.findByTestId('interlock-busy')).textContent).toBe('Unlocking…');
    expect((screen.getByTestId('interlock-lock') as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId('interlock-unlock') as HTMLButtonElement).disabled).toBe(true);
    release();

    await waitFor(() => expect(screen.getByTestId('interlock-state').dataset.state).toBe('unlocked'));
    expect(backend.callsTo('interlock_command')).toEqual([
      { serviceId: 'svc-a', eventId: 'ev-1', action: 'unlock', reason: null },
    ]);
    expect(screen.getByTestId('interlock-state').textContent).toBe('Unlocked');
    expect(screen.getByTestId('interlock-read-at').textContent?.trim()).toBe('read at 10:42:05');
    expect(screen.queryByTestId('interlock-busy')).toBeNull();
    await waitFor(() => expect(backend.callsTo('interlock_panel').length).toBeGreaterThanOrEqual(2));
    expect(screen.queryAllByTestId('interlock-result')).toHaveLength(0);
  });

  it('staff send their reason', async () => {
    const backend = fakeBackend({
      interlock_panel: () => panel({ kind: 'staff' }, { event: null }),
      interlock_command: (): InterlockResult => ({ action: 'lock', ok: true, results: [], reading: null, error: null }),
    });
    render(InterlockPanel, { props: { service } });
    await fireEvent.input(await screen.findByTestId('interlock-reason'), { target: { value: ' Left running ' } });
    await fireEvent.click(screen.getByTestId('interlock-lock'));
    await waitFor(() => expect(backend.callsTo('interlock_command')).toHaveLength(1));
    expect(backend.callsTo('interlock_command')[0]).toEqual({
      serviceId: 'svc-a',
      eventId: null,
      action: 'lock',
      reason: 'Left running',
    });
  });

  it('a failed result shows a banner that stays until dismissed, and the failed webhooks', async () => {
    fakeBackend({
      interlock_panel: () => panel({ kind: 'staff' }),
      interlock_command: (): InterlockResult => ({
        action: 'unlock',
        ok: false,
        results: [{ webhook_name: 'Relay A', ok: false, message: 'Connection refused by 127.0.0.1:9 (Relay A)' }],
        reading: null,
        error: 'Relay A did not unlock.',
      }),
    });
    render(InterlockErrors);
    const first = render(InterlockPanel, { props: { service } });

    await fireEvent.click(await screen.findByTestId('interlock-unlock'));
    const banner = await screen.findByTestId('interlock-error-banner');
    expect(banner.textContent).toContain('Interlock error — Confocal: Relay A did not unlock.');
    expect(screen.getByTestId('interlock-result').textContent).toContain('Connection refused by 127.0.0.1:9 (Relay A)');

    // Leaving the screen and coming back keeps the banner.
    first.unmount();
    render(InterlockPanel, { props: { service } });
    await screen.findByTestId('interlock-unlock');
    expect(screen.getAllByTestId('interlock-error-banner')).toHaveLength(1);

    await fireEvent.click(screen.getByTestId('interlock-error-dismiss'));
    expect(screen.queryByTestId('interlock-error-banner')).toBeNull();
  });

  it('a thrown command error also lands in the banner', async () => {
    fakeBackend({
      interlock_panel: () => panel({ kind: 'staff' }),
      interlock_command: () => {
        throw { code: 'FORBIDDEN', message: 'Your booking window has closed.' };
      },
    });
    render(InterlockErrors);
    render(InterlockPanel, { props: { service } });
    await fireEvent.click(await screen.findByTestId('interlock-lock'));
    expect((await screen.findByTestId('interlock-error-banner')).textContent).toContain(
      'Interlock error — Confocal: Your booking window has closed.',
    );
  });

  it('an unknown reading shows its detail', async () => {
    fakeBackend({
      interlock_panel: () =>
        panel(
          { kind: 'staff' },
          { reading: { state: 'unknown', read_at: '2026-11-29T09:00:00Z', detail: 'Relay A says on, Relay B says off' } },
        ),
    });
    render(InterlockPanel, { props: { service } });
    expect((await screen.findByTestId('interlock-state-detail')).textContent).toBe('Relay A says on, Relay B says off');
    expect(screen.getByTestId('interlock-state').dataset.state).toBe('unknown');
    expect(screen.getByTestId('interlock-read-at').textContent?.trim()).toBe('read at 10:00:00');
  });

  it('shows only the buttons with webhooks, and a hint when lock/unlock are missing', async () => {
    fakeBackend({ interlock_panel: () => panel({ kind: 'staff' }, { has_lock: false, has_unlock: false }) });
    render(InterlockPanel, { props: { service } });
    expect((await screen.findByTestId('interlock-no-webhooks')).textContent).toBe(
      'No interlock webhooks configured — ask facility staff.',
    );
    expect(screen.queryByTestId('interlock-unlock')).toBeNull();
    expect(screen.queryByTestId('interlock-lock')).toBeNull();
    expect(screen.getByTestId('interlock-status')).toBeTruthy();
  });

  it('polls the status at poll_secs while visible', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const backend = fakeBackend({
      interlock_panel: () => panel({ kind: 'staff' }, { poll_secs: 5 }),
      interlock_command: (): InterlockResult => ({
        action: 'status',
        ok: true,
        results: [],
        reading: { state: 'locked', read_at: '2026-11-29T09:00:00Z', detail: '' },
        error: null,
      }),
    });
    const view = render(InterlockPanel, { props: { service } });
    await screen.findByTestId('interlock-unlock');
    vi.advanceTimersByTime(5_000);
    await waitFor(() => expect(backend.callsTo('interlock_command')).toHaveLength(1));
    expect(backend.callsTo('interlock_command')[0]).toEqual({ serviceId: 'svc-a', eventId: 'ev-1', action: 'status', reason: null });
    await waitFor(() => expect(screen.getByTestId('interlock-state').dataset.state).toBe('locked'));
    view.unmount();
    vi.advanceTimersByTime(20_000);
    expect(backend.callsTo('interlock_command')).toHaveLength(1);
  });
});
