import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import App from './App.svelte';
import { fail, fakeBackend, session } from './test/ipc';
import type { AppStatus, StationOverview } from './lib/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

const ready: AppStatus = { state: 'ready', error: null, database_path: '/data/station.db', version: '0.1.0', locale: 'en-GB' };
const emptyOverview: StationOverview = { now: '2026-11-29T08:00:00Z', instruments: [] };

describe('App startup', () => {
  it('shows the startup error screen when appStatus is failed', async () => {
    const backend = fakeBackend({
      app_status: () => ({
        state: 'failed',
        error: { code: 'DATABASE_TOO_NEW', message: 'The database was written by a newer version of the app.' },
        database_path: 'C:\\ProgramData\\Interlock Station\\station.db',
        version: '0.1.0',
      }),
    });
    render(App);

    await screen.findByTestId('startup-error');
    expect(screen.getByTestId('startup-error-code').textContent).toBe('DATABASE_TOO_NEW');
    expect(screen.getByTestId('startup-error-message').textContent?.trim()).toBe(
      'The database was written by a newer version of the app.',
    );
    expect(screen.getByTestId('startup-error-path').textContent).toBe('C:\\ProgramData\\Interlock Station\\station.db');
    expect(backend.calls.map((c) => c.cmd)).toEqual(['app_status', 'window_agent']);
  });

  it('shows the setup screen when no account exists', async () => {
    fakeBackend({ app_status: () => ({ ...ready, state: 'needs_setup' }) });
    render(App);
    await screen.findByTestId('setup-screen');
  });

  it('shows sign-in when ready and nobody is signed in', async () => {
    fakeBackend({ app_status: () => ready, current_session: () => null });
    render(App);
    await screen.findByTestId('signin-screen');
    expect(screen.queryByTestId('signin-notice')).toBeNull();
  });

  it('goes to the station with role-appropriate navigation for a signed-in instrument user', async () => {
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ display_name: 'Ivan User', role: 'instrument_user' }),
      station_overview: () => emptyOverview,
    });
    render(App);

    await screen.findByTestId('station-screen');
    expect(screen.getByTestId('session-user').textContent).toContain('Ivan User');
    expect(screen.getByTestId('session-user').textContent).toContain('Instrument user');
    expect(screen.getByTestId('nav-station')).toBeTruthy();
    expect(screen.getByTestId('nav-schedule')).toBeTruthy();
    for (const hidden of ['nav-orders', 'nav-services', 'nav-accounts', 'nav-settings']) {
      expect(screen.queryByTestId(hidden)).toBeNull();
    }
    expect((await screen.findByTestId('station-empty')).textContent).toContain('No instruments configured yet');
  });

  it('shows every screen to an administrator', async () => {
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role: 'administrator' }),
      station_overview: () => emptyOverview,
    });
    render(App);
    await screen.findByTestId('station-screen');
    for (const id of ['nav-orders', 'nav-services', 'nav-accounts', 'nav-settings']) {
      expect(screen.getByTestId(id)).toBeTruthy();
    }
  });

  it('returns to sign-in with the message when a command reports SESSION_EXPIRED', async () => {
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role: 'instrument_user' }),
      station_overview: () => emptyOverview,
      list_events: () => fail('SESSION_EXPIRED', 'You were signed out after 15 minutes without activity.'),
    });
    render(App);
    await screen.findByTestId('station-screen');

    await fireEvent.click(screen.getByTestId('nav-schedule'));

    const notice = await screen.findByTestId('signin-notice');
    expect(notice.textContent).toBe('You were signed out after 15 minutes without activity.');
    // At a shared station the form does not show who was last signed in.
    expect((screen.getByTestId('signin-username') as HTMLInputElement).value).toBe('');
    expect(screen.queryByTestId('schedule-screen')).toBeNull();
    expect(screen.queryByTestId('global-error')).toBeNull();
  });

  it('shows other failures in the dismissable global banner', async () => {
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role: 'instrument_user' }),
      station_overview: () => fail('DATABASE', 'The disk is full.'),
    });
    render(App);
    const banner = await screen.findByTestId('global-error');
    // An instrument user is told whom to ask.
    expect(banner.textContent).toContain('The disk is full. Ask facility staff.');
    await fireEvent.click(screen.getByTestId('global-error-dismiss'));
    expect(screen.queryByTestId('global-error')).toBeNull();
  });

  it('tells staff where to look when the keyring is locked', async () => {
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role: 'facility_staff' }),
      station_overview: () => fail('KEYRING_LOCKED', 'The OS keyring is locked.'),
    });
    render(App);
    expect((await screen.findByTestId('global-error')).textContent).toContain(
      'The OS keyring is locked. Unlock the OS keyring (the login keyring of this PC) and try again.',
    );
  });
});
