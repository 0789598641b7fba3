import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import Settings from './Settings.svelte';
import { fail, fakeBackend } from '../../test/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

const base = {
  get_settings: () => ({ idle_timeout_minutes: 15 }),
  update_settings: (args: Record<string, unknown>) => args.settings,
  list_services: () => [],
  get_interlock_poll_secs: () => 45,
  get_retention_days: () => 400,
};

describe('Settings', () => {
  it('shows the stored status watch interval and what the watch does', async () => {
    fakeBackend({ ...base });
    render(Settings, { props: { onError: vi.fn(), onSaved: vi.fn() } });
    const input = (await screen.findByTestId('settings-poll-secs')) as HTMLInputElement;
    await waitFor(() => expect(input.value).toBe('45'));
    expect(screen.getByText('Interlock status watch interval, seconds')).toBeTruthy();
    expect(screen.getByTestId('settings-poll-hint').textContent).toBe(
      'Status watch: every 45 s, whether or not the window is open; 0 = off.',
    );
    await waitFor(() => expect(input.disabled).toBe(false));
    await fireEvent.input(input, { target: { value: '0' } });
    expect(screen.getByTestId('settings-poll-hint').textContent).toMatch(/^Status watch: off \(0\)\./);
  });

  it('saves the status polling interval with the save button', async () => {
    const backend = fakeBackend({ ...base, set_interlock_poll_secs: () => null });
    render(Settings, { props: { onError: vi.fn(), onSaved: vi.fn() } });
    const input = (await screen.findByTestId('settings-poll-secs')) as HTMLInputElement;
    await waitFor(() => expect(input.disabled).toBe(false));
    await fireEvent.input(input, { target: { value: '10' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    await screen.findByTestId('settings-saved');
    expect(backend.callsTo('set_interlock_poll_secs')).toEqual([{ secs: 10 }]);
  });

  it('saves the history retention only when it changed, and checks its range', async () => {
    const backend = fakeBackend({ ...base, set_interlock_poll_secs: () => null, set_retention_days: () => null });
    render(Settings, { props: { onError: vi.fn(), onSaved: vi.fn() } });
    const input = (await screen.findByTestId('settings-retention-days')) as HTMLInputElement;
    await waitFor(() => expect(input.value).toBe('400'));
    await waitFor(() => expect(input.disabled).toBe(false));
    await fireEvent.click(screen.getByTestId('settings-save'));
    await screen.findByTestId('settings-saved');
    expect(backend.callsTo('set_retention_days')).toHaveLength(0);

    await fireEvent.input(input, { target: { value: '10' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    expect(screen.getByTestId('form-error').textContent).toMatch(/from 30 to 3650/);
    expect(backend.callsTo('set_retention_days')).toHaveLength(0);

    await fireEvent.input(input, { target: { value: '90' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    await screen.findByTestId('settings-saved');
    expect(backend.callsTo('set_retention_days')).toEqual([{ days: 90 }]);
  });

  it('rejects 1–4 seconds on the client and shows backend errors', async () => {
    const backend = fakeBackend({
      ...base,
      set_interlock_poll_secs: () => fail('VALIDATION', 'Polling must be 0 or 5 to 3600 seconds.'),
    });
    render(Settings, { props: { onError: vi.fn(), onSaved: vi.fn() } });
    const input = (await screen.findByTestId('settings-poll-secs')) as HTMLInputElement;
    await waitFor(() => expect(input.disabled).toBe(false));
    await fireEvent.input(input, { target: { value: '3' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    expect(screen.getByTestId('form-error').textContent).toMatch(/0 \(off\)/);
    expect(backend.callsTo('set_interlock_poll_secs')).toHaveLength(0);

    await fireEvent.input(input, { target: { value: '0' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    await waitFor(() =>
      expect(screen.getByTestId('form-error').textContent).toBe('Polling must be 0 or 5 to 3600 seconds.'),
    );
    expect(backend.callsTo('set_interlock_poll_secs')).toEqual([{ secs: 0 }]);
  });
});
