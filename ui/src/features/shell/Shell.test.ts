import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import App from '../../App.svelte';
import { fail, fakeBackend, session } from '../../test/ipc';
import type { AppStatus, SessionInfo, StationOverview } from '../../lib/ipc';
import { interlockErrors } from '../interlock/errors.svelte';

afterEach(() => {
  interlockErrors.clear();
  vi.useRealTimers();
  cleanup();
  clearMocks();
});

const ready: AppStatus = { state: 'ready', error: null, database_path: '/data/station.db', version: '0.1.0', locale: 'en-GB' };
const overview: StationOverview = { now: '2026-11-29T08:00:00Z', instruments: [] };

describe('Shell', () => {
  it('signs out on idle: the poll finds no session and shows the notice', async () => {
    vi.useFakeTimers();
    let current: SessionInfo | null = session({ role: 'instrument_user' }, 7);
    const backend = fakeBackend({
      app_status: () => ready,
      current_session: () => current,
      station_overview: () => overview,
      touch_session: () => null,
    });
    render(App);
    await vi.waitFor(() => screen.getByTestId('station-screen'));

    current = null;
    await vi.advanceTimersByTimeAsync(15_000);

    await vi.waitFor(() =>
      expect(screen.getByTestId('signin-notice').textContent).toBe(
        'You were signed out after 7 minutes without activity.',
      ),
    );
    // Polling itself is not activity.
    expect(backend.callsTo('touch_session')).toHaveLength(0);
  });

  it('touches the session on activity at most once every 20 s', async () => {
    vi.useFakeTimers();
    const backend = fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role: 'instrument_user' }),
      station_overview: () => overview,
      touch_session: () => null,
    });
    render(App);
    await vi.waitFor(() => screen.getByTestId('station-screen'));

    await vi.advanceTimersByTimeAsync(21_000);
    await fireEvent.keyDown(window, { key: 'a' });
    await fireEvent.pointerDown(document.body);
    await fireEvent.keyDown(window, { key: 'b' });
    expect(backend.callsTo('touch_session')).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(20_000);
    await fireEvent.pointerDown(document.body);
    expect(backend.callsTo('touch_session')).toHaveLength(2);
  });

  it('switch user: a failure keeps the current user, success replaces the session', async () => {
    const staffSession = session({ id: 'acc-2', username: 'sam', display_name: 'Sam Staff', role: 'facility_staff' });
    const backend = fakeBackend({
      app_status: () => ready,
      current_session: () => session({ display_name: 'Ivan User', role: 'instrument_user' }),
      station_overview: () => overview,
      sign_in: (args) =>
        args.password === 'right-password' ? staffSession : fail('SIGN_IN_FAILED', 'Wrong username or password.'),
    });
    render(App);
    await screen.findByTestId('station-screen');

    await fireEvent.click(screen.getByTestId('switch-user'));
    const dialog = screen.getByTestId('switch-user-dialog');
    expect(dialog.textContent).toContain('Staff can step in at the station; the current user is signed out.');

    await fireEvent.input(screen.getByTestId('switch-username'), { target: { value: 'sam' } });
    await fireEvent.input(screen.getByTestId('switch-password'), { target: { value: 'wrong' } });
    await fireEvent.click(screen.getByTestId('switch-submit'));
    expect((await screen.findByTestId('switch-error')).textContent).toBe('Wrong username or password.');
    expect(screen.getByTestId('session-user').textContent).toContain('Ivan User');

    await fireEvent.input(screen.getByTestId('switch-password'), { target: { value: 'right-password' } });
    await fireEvent.click(screen.getByTestId('switch-submit'));
    await waitFor(() => expect(screen.queryByTestId('switch-user-dialog')).toBeNull());
    expect(screen.getByTestId('session-user').textContent).toContain('Sam Staff');
    expect(screen.getByTestId('session-user').textContent).toContain('Facility staff');
    expect(screen.getByTestId('nav-services')).toBeTruthy();
    expect(screen.queryByTestId('nav-accounts')).toBeNull();
    expect(backend.callsTo('sign_in').at(-1)).toEqual({ username: 'sam', password: 'right-password' });
  });

  it('staff get the interlock audit screen; interlock banners survive navigation until dismissed', async () => {
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role: 'facility_staff' }),
      station_overview: () => overview,
      interlock_audit: () => [],
    });
    render(App);
    await screen.findByTestId('station-screen');
    interlockErrors.push('Confocal', 'Relay A did not answer.');
    expect((await screen.findByTestId('interlock-error-banner')).textContent).toContain(
      'Interlock error — Confocal: Relay A did not answer.',
    );

    expect(screen.getByTestId('nav-audit').textContent?.trim()).toBe('Interlock audit');
    await fireEvent.click(screen.getByTestId('nav-audit'));
    expect(await screen.findByTestId('audit-empty')).toBeTruthy();
    expect(screen.getAllByTestId('interlock-error-banner')).toHaveLength(1);

    await fireEvent.click(screen.getByTestId('interlock-error-dismiss'));
    await waitFor(() => expect(screen.queryByTestId('interlock-error-banner')).toBeNull());
  });

  it('staff get Calendar feeds after Webhooks; instrument users do not', async () => {
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role: 'facility_staff' }),
      station_overview: () => overview,
      list_feeds: () => [],
      list_services: () => [],
    });
    render(App);
    await screen.findByTestId('station-screen');
    const labels = screen.getAllByRole('button').filter((b) => b.dataset.testid?.startsWith('nav-')).map((b) => b.textContent?.trim());
    expect(labels.indexOf('Calendar feeds')).toBe(labels.indexOf('Webhooks') + 1);
    await fireEvent.click(screen.getByTestId('nav-feeds'));
    expect((await screen.findByTestId('feeds-empty')).textContent).toContain('Add a service under Services first');
  });

  it('instrument users have no audit entry', async () => {
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role: 'instrument_user' }),
      station_overview: () => overview,
    });
    render(App);
    await screen.findByTestId('station-screen');
    expect(screen.queryByTestId('nav-audit')).toBeNull();
    expect(screen.queryByTestId('nav-feeds')).toBeNull();
  });

  it('sign-out clears the interlock banners', async () => {
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role: 'facility_staff' }),
      station_overview: () => overview,
      sign_out: () => null,
    });
    render(App);
    await screen.findByTestId('station-screen');
    interlockErrors.push('Confocal', 'Relay A did not answer.');
    await screen.findByTestId('interlock-error-banner');

    await fireEvent.click(screen.getByTestId('sign-out'));
    await screen.findByTestId('signin-screen');
    expect(interlockErrors.list).toHaveLength(0);
    expect(screen.queryByTestId('interlock-error-banner')).toBeNull();
  });

  it('idle sign-out clears the interlock banners', async () => {
    vi.useFakeTimers();
    let current: SessionInfo | null = session({ role: 'facility_staff' });
    fakeBackend({
      app_status: () => ready,
      current_session: () => current,
      station_overview: () => overview,
    });
    render(App);
    await vi.waitFor(() => screen.getByTestId('station-screen'));
    interlockErrors.push('Confocal', 'Relay A did not answer.');
    await vi.waitFor(() => screen.getByTestId('interlock-error-banner'));

    current = null;
    await vi.advanceTimersByTimeAsync(15_000);
    await vi.waitFor(() => screen.getByTestId('signin-notice'));
    expect(interlockErrors.list).toHaveLength(0);
  });

  it('switch user clears the interlock banners; a failed switch keeps them', async () => {
    const staffSession = session({ id: 'acc-2', username: 'sam', display_name: 'Sam Staff', role: 'facility_staff' });
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ display_name: 'Ivan User', role: 'instrument_user' }),
      station_overview: () => overview,
      sign_in: (args) =>
        args.password === 'right-password' ? staffSession : fail('SIGN_IN_FAILED', 'Wrong username or password.'),
    });
    render(App);
    await screen.findByTestId('station-screen');
    interlockErrors.push('Confocal', 'Your booking window has closed.');
    await screen.findByTestId('interlock-error-banner');

    await fireEvent.click(screen.getByTestId('switch-user'));
    await fireEvent.input(screen.getByTestId('switch-username'), { target: { value: 'sam' } });
    await fireEvent.input(screen.getByTestId('switch-password'), { target: { value: 'wrong' } });
    await fireEvent.click(screen.getByTestId('switch-submit'));
    await screen.findByTestId('switch-error');
    expect(screen.getAllByTestId('interlock-error-banner')).toHaveLength(1);

    await fireEvent.input(screen.getByTestId('switch-password'), { target: { value: 'right-password' } });
    await fireEvent.click(screen.getByTestId('switch-submit'));
    await waitFor(() => expect(screen.getByTestId('session-user').textContent).toContain('Sam Staff'));
    expect(screen.queryByTestId('interlock-error-banner')).toBeNull();
    expect(interlockErrors.list).toHaveLength(0);
  });

  it('staff can open Quit from the signed-in screens; instrument users cannot', async () => {
    let role: SessionInfo['account']['role'] = 'instrument_user';
    const backend = fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role }),
      station_overview: () => overview,
      quit_info: () => ({ pending: { auto_locks: 1, deliveries: 0 }, warning: '1 pending auto-lock will not be carried out.' }),
      quit_app: () => fail('SIGN_IN_FAILED', 'Wrong username or password.'),
    });
    render(App);
    await screen.findByTestId('station-screen');
    expect(screen.queryByTestId('shell-quit')).toBeNull();
    cleanup();

    role = 'facility_staff';
    render(App);
    await screen.findByTestId('station-screen');
    await fireEvent.click(screen.getByTestId('shell-quit'));
    await screen.findByTestId('quit-dialog');
    await waitFor(() => expect(screen.getByTestId('quit-warning').textContent).toContain('1 pending auto-lock'));
    await fireEvent.input(screen.getByTestId('quit-username'), { target: { value: 'sam' } });
    await fireEvent.input(screen.getByTestId('quit-password'), { target: { value: 'wrong' } });
    await fireEvent.click(screen.getByTestId('quit-submit'));
    await waitFor(() => expect(screen.getByTestId('quit-error').textContent).toBe('Wrong username or password.'));
    expect(backend.callsTo('quit_app')[0]).toMatchObject({ username: 'sam' });
  });
});
