import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import { tick } from 'svelte';
import InterlockPanel from './InterlockPanel.svelte';
import InterlockErrors from './InterlockErrors.svelte';
import { interlockErrors } from './errors.svelte';
import { fail, fakeBackend } from '../../test/ipc';
import { events } from '../../lib/ipc';
import type { Access, AutoLockInfo, InterlockPanel as Panel, InterlockResult, Service, StatusReading } from '../../lib/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
  interlockErrors.clear();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const service: Service = {
  id: 'svc-a',
  name: 'Confocal',
  description: '',
  tags: ['has_interlock'],
  interlock: { lead_minutes: 5, post_minutes: 30 },
  auto_lock: false,
  end_on_lock: null,
  post_lock_url: null,
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
      usage: null,
      booked_by: '',
      source: null,
      conflict: false,
    },
    reading: null,
    has_lock: true,
    has_unlock: true,
    has_status: true,
    poll_secs: 0,
    auto_lock: null,
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
        return { action: 'unlock', ok: true, results: [{ webhook_name: 'Relay', ok: true, message: 'HTTP 200' }], reading, error: null, post_lock_url: null, booking_ends_at: null };
      },
    });
    render(InterlockPanel, { props: { service } });

    const unlock = await screen.findByTestId('interlock-unlock');
    unlock.focus();
    await fireEvent.click(unlock);
    expect((await screen.findByTestId('interlock-busy')).textContent).toBe('Unlocking…');
    // Busy buttons say so without `disabled`, which would throw the keyboard focus to <body>.
    expect(screen.getByTestId('interlock-lock').getAttribute('aria-disabled')).toBe('true');
    expect(unlock.getAttribute('aria-disabled')).toBe('true');
    expect(document.activeElement).toBe(unlock);
    // A second press while busy sends nothing more.
    await fireEvent.click(screen.getByTestId('interlock-lock'));
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
      interlock_command: (): InterlockResult => ({ action: 'lock', ok: true, results: [], reading: null, error: null, post_lock_url: null, booking_ends_at: null }),
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
        post_lock_url: null,
        booking_ends_at: null,
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
    expect((await screen.findByTestId('interlock-no-webhooks')).textContent?.trim()).toBe(
      'No interlock webhooks configured. Add an interlock lock and unlock webhook for this service in Webhooks.',
    );
    expect(screen.queryByTestId('interlock-unlock')).toBeNull();
    expect(screen.queryByTestId('interlock-lock')).toBeNull();
    expect(screen.getByTestId('interlock-status')).toBeTruthy();
  });

  it('tells an instrument user whom to ask when lock/unlock are missing', async () => {
    fakeBackend({
      interlock_panel: () =>
        panel({ kind: 'open', opens_at: inMinutes(-10), closes_at: inMinutes(50) }, { has_lock: false, has_unlock: false }),
    });
    render(InterlockPanel, { props: { service } });
    expect((await screen.findByTestId('interlock-no-webhooks')).textContent?.trim()).toBe(
      'No interlock webhooks configured. Ask facility staff to set them up.',
    );
  });

  it('takes a reading Rust emits for its service when it is newer, and ignores other services', async () => {
    fakeBackend({
      interlock_panel: () =>
        panel({ kind: 'staff' }, { reading: { state: 'locked', read_at: '2026-11-29T09:00:00Z', detail: '' } }),
    });
    render(InterlockPanel, { props: { service } });
    await waitFor(() => expect(screen.getByTestId('interlock-state').dataset.state).toBe('locked'));

    await events.interlockStatusChanged.emit({
      service_id: 'svc-other',
      reading: { state: 'unlocked', read_at: '2026-11-29T09:05:00Z', detail: '' },
    });
    await tick();
    expect(screen.getByTestId('interlock-state').dataset.state).toBe('locked');

    await events.interlockStatusChanged.emit({
      service_id: 'svc-a',
      reading: { state: 'unlocked', read_at: '2026-11-29T09:05:00Z', detail: '' },
    });
    await waitFor(() => expect(screen.getByTestId('interlock-state').dataset.state).toBe('unlocked'));
    expect(screen.getByTestId('interlock-read-at').textContent?.trim()).toBe('read at 10:05:00');

    // An older reading (arriving late) does not replace a newer one.
    await events.interlockStatusChanged.emit({
      service_id: 'svc-a',
      reading: { state: 'locked', read_at: '2026-11-29T09:01:00Z', detail: '' },
    });
    await tick();
    expect(screen.getByTestId('interlock-state').dataset.state).toBe('unlocked');

    await events.interlockStatusChanged.emit({
      service_id: 'svc-a',
      reading: { state: 'unknown', read_at: '2026-11-29T09:06:00Z', detail: 'HTTP 503 from Relay A' },
    });
    await waitFor(() => expect(screen.getByTestId('interlock-state').dataset.state).toBe('unknown'));
    expect(screen.getByTestId('interlock-state-detail').textContent).toBe('HTTP 503 from Relay A');
  });

  it('stops listening when it goes away', async () => {
    fakeBackend({ interlock_panel: () => panel({ kind: 'staff' }) });
    // The event plugin's calls never reach the fake backend's handlers; watch them at the IPC door.
    const internals = (window as unknown as { __TAURI_INTERNALS__: { invoke: (cmd: string, args?: unknown) => unknown } })
      .__TAURI_INTERNALS__;
    const invoke = vi.spyOn(internals, 'invoke');
    const argsOf = (cmd: string) => invoke.mock.calls.filter((call) => call[0] === cmd).map((call) => call[1]);

    const view = render(InterlockPanel, { props: { service } });
    await screen.findByTestId('interlock-unlock');
    await waitFor(() =>
      expect(argsOf('plugin:event|listen')).toEqual([expect.objectContaining({ event: 'interlock-status-changed' })]),
    );
    view.unmount();
    await waitFor(() =>
      expect(argsOf('plugin:event|unlisten')).toEqual([expect.objectContaining({ event: 'interlock-status-changed' })]),
    );
  });

  it('never asks for the status by a timer: the status watch lives in Rust', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    const backend = fakeBackend({
      interlock_panel: () => panel({ kind: 'staff' }, { poll_secs: 5 }),
      interlock_command: (): InterlockResult => ({ action: 'status', ok: true, results: [], reading: null, error: null, post_lock_url: null, booking_ends_at: null }),
    });
    render(InterlockPanel, { props: { service } });
    await vi.waitFor(() => screen.getByTestId('interlock-unlock'));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(backend.callsTo('interlock_command')).toHaveLength(0);
    // The panel itself is still reloaded (access, booking, auto-lock).
    expect(backend.callsTo('interlock_panel').length).toBeGreaterThanOrEqual(8);
  });

  it('Check status by hand still reads the status and shows it', async () => {
    const backend = fakeBackend({
      interlock_panel: () => panel({ kind: 'staff' }),
      interlock_command: (): InterlockResult => ({
        action: 'status',
        ok: true,
        results: [{ webhook_name: 'Relay', ok: true, message: 'HTTP 200' }],
        reading: { state: 'locked', read_at: '2026-11-29T09:30:00Z', detail: '' },
        error: null,
        post_lock_url: null,
        booking_ends_at: null,
      }),
    });
    render(InterlockPanel, { props: { service } });
    await fireEvent.click(await screen.findByTestId('interlock-status'));
    await waitFor(() => expect(screen.getByTestId('interlock-state').dataset.state).toBe('locked'));
    expect(backend.callsTo('interlock_command')).toEqual([
      { serviceId: 'svc-a', eventId: 'ev-1', action: 'status', reason: null },
    ]);
  });
});

describe('InterlockPanel: which booking', () => {
  // 10:10 local (Europe/Berlin), inside the fixture's booking (09:00–11:00 local).
  const NOW = new Date('2026-11-29T09:10:00Z');

  it('names the booking the controls act on', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    fakeBackend({ interlock_panel: () => panel({ kind: 'staff' }) });
    render(InterlockPanel, { props: { service } });
    expect((await screen.findByTestId('interlock-booking')).textContent).toBe('For: Imaging — Ivan User, 09:00–11:00');
  });

  it('staff without an open booking act on the instrument itself', async () => {
    fakeBackend({ interlock_panel: () => panel({ kind: 'staff' }, { event: null }) });
    render(InterlockPanel, { props: { service } });
    expect((await screen.findByTestId('interlock-booking')).textContent).toBe(
      'No booking is open now — commands act on the instrument itself',
    );
  });

  it('after the end, inside post, a user is told the booking ended and until when the controls stay', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-29T10:10:00Z'));
    fakeBackend({
      interlock_panel: () =>
        panel({ kind: 'open', opens_at: '2026-11-29T07:55:00Z', closes_at: '2026-11-29T10:30:00Z' }),
    });
    render(InterlockPanel, { props: { service } });
    expect((await screen.findByTestId('interlock-booking')).textContent).toBe(
      'Your booking ended at 11:00 — controls stay open until 11:30',
    );
    expect(screen.getByTestId('interlock-unlock')).toBeTruthy();
  });

  it('someone else\'s booking is not named', async () => {
    fakeBackend({ interlock_panel: () => panel({ kind: 'not_yours' }) });
    render(InterlockPanel, { props: { service } });
    await screen.findByTestId('interlock-closed-message');
    expect(screen.queryByTestId('interlock-booking')).toBeNull();
  });
});

describe('InterlockPanel: auto-lock', () => {
  const waiting: AutoLockInfo = {
    due_at: '2026-11-29T10:30:00Z',
    event_id: 'ev-1',
    attempts: 0,
    next_attempt_at: null,
    last_error: '',
  };
  const failing: AutoLockInfo = {
    due_at: '2026-11-29T10:30:00Z',
    event_id: 'ev-1',
    attempts: 3,
    next_attempt_at: '2026-11-29T10:35:00Z',
    last_error: 'HTTP 503 Service Unavailable from Relay A',
  };

  it('staff see when a pending auto-lock is due, without a dismiss button', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-29T09:10:00Z'));
    fakeBackend({ interlock_panel: () => panel({ kind: 'staff' }, { auto_lock: waiting }) });
    render(InterlockPanel, { props: { service } });
    expect((await screen.findByTestId('interlock-auto-lock')).textContent?.trim()).toBe('Auto-lock at 11:30');
    expect(screen.queryByTestId('interlock-auto-lock-dismiss')).toBeNull();
  });

  it('a failing auto-lock says why and when it tries again; Dismiss asks, then dismisses and reloads', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-29T10:32:00Z'));
    let pending: AutoLockInfo | null = failing;
    const backend = fakeBackend({
      interlock_panel: () => panel({ kind: 'staff' }, { auto_lock: pending }),
      dismiss_auto_lock: () => {
        pending = null;
        return null;
      },
    });
    render(InterlockPanel, { props: { service } });
    expect((await screen.findByTestId('interlock-auto-lock-text')).textContent).toBe(
      'Auto-lock failing (3 attempts): HTTP 503 Service Unavailable from Relay A. Next try at 11:35',
    );

    await fireEvent.click(screen.getByTestId('interlock-auto-lock-dismiss'));
    expect(screen.getByTestId('interlock-auto-lock-confirm-question').textContent).toContain(
      'Stop trying to lock automatically?',
    );
    await fireEvent.click(screen.getByTestId('interlock-auto-lock-dismiss-cancel'));
    expect(backend.callsTo('dismiss_auto_lock')).toHaveLength(0);

    const loads = backend.callsTo('interlock_panel').length;
    await fireEvent.click(screen.getByTestId('interlock-auto-lock-dismiss'));
    await fireEvent.click(screen.getByTestId('interlock-auto-lock-dismiss-confirm'));
    await waitFor(() => expect(screen.queryByTestId('interlock-auto-lock')).toBeNull());
    expect(backend.callsTo('dismiss_auto_lock')).toEqual([{ serviceId: 'svc-a' }]);
    expect(backend.callsTo('interlock_panel').length).toBe(loads + 1);
  });

  it('a refused dismiss shows the reason and keeps the auto-lock', async () => {
    fakeBackend({
      interlock_panel: () => panel({ kind: 'staff' }, { auto_lock: failing }),
      dismiss_auto_lock: () => fail('FORBIDDEN', 'Only staff can dismiss an auto-lock.'),
    });
    render(InterlockPanel, { props: { service } });
    await fireEvent.click(await screen.findByTestId('interlock-auto-lock-dismiss'));
    await fireEvent.click(screen.getByTestId('interlock-auto-lock-dismiss-confirm'));
    expect((await screen.findByTestId('interlock-auto-lock-error')).textContent).toBe(
      'Only staff can dismiss an auto-lock.',
    );
    expect(screen.getByTestId('interlock-auto-lock')).toBeTruthy();
  });

  it('instrument users never see the auto-lock', async () => {
    fakeBackend({
      interlock_panel: () =>
        panel({ kind: 'open', opens_at: inMinutes(-10), closes_at: inMinutes(50) }, { auto_lock: waiting }),
    });
    render(InterlockPanel, { props: { service } });
    await screen.findByTestId('interlock-unlock');
    expect(screen.queryByTestId('interlock-auto-lock')).toBeNull();
  });

  it('after a successful lock shows the post-lock link Rust built and the moved end; Rust opens it', async () => {
    const url = 'https://logbook.example.org/use?event=ev-1&who=ivan';
    const ends = '2026-11-29T09:41:00Z';
    const backend = fakeBackend({
      interlock_panel: () => panel({ kind: 'open', opens_at: inMinutes(-60), closes_at: inMinutes(30) }),
      interlock_command: (args): InterlockResult => ({
        action: args.action as InterlockResult['action'],
        ok: true,
        results: [],
        reading: null,
        error: null,
        post_lock_url: args.action === 'lock' ? url : null,
        booking_ends_at: args.action === 'lock' ? ends : null,
      }),
      open_post_lock_link: () => url,
    });
    render(InterlockPanel, { props: { service } });
    await fireEvent.click(await screen.findByTestId('interlock-lock'));
    expect((await screen.findByTestId('interlock-post-lock-url')).textContent).toBe(url);
    expect(screen.getByTestId('interlock-end-moved').textContent).toBe(`The booking now ends at ${hhmm(ends)}:00.`);
    await fireEvent.click(screen.getByTestId('interlock-post-lock-open'));
    await waitFor(() => expect(backend.callsTo('open_post_lock_link')).toEqual([{ serviceId: 'svc-a', eventId: 'ev-1' }]));
    // The next command clears it; an unlock never shows one.
    await fireEvent.click(screen.getByTestId('interlock-unlock'));
    await waitFor(() => expect(screen.queryByTestId('interlock-after-lock')).toBeNull());
  });

  it('shows why the link could not be opened', async () => {
    fakeBackend({
      interlock_panel: () => panel({ kind: 'staff' }),
      interlock_command: (): InterlockResult => ({
        action: 'lock',
        ok: true,
        results: [],
        reading: null,
        error: null,
        post_lock_url: 'https://x.example/',
        booking_ends_at: null,
      }),
      open_post_lock_link: () => fail('VALIDATION', 'The post-lock link opens after a successful lock of this booking.'),
    });
    render(InterlockPanel, { props: { service } });
    await fireEvent.click(await screen.findByTestId('interlock-lock'));
    expect(screen.queryByTestId('interlock-end-moved')).toBeNull();
    await fireEvent.click(await screen.findByTestId('interlock-post-lock-open'));
    expect((await screen.findByTestId('interlock-post-lock-error')).textContent).toContain('after a successful lock');
  });
});
