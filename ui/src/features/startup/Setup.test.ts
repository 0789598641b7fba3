import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import Setup from './Setup.svelte';
import { account, fail, fakeBackend } from '../../test/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

async function fill(password: string, confirm: string) {
  await fireEvent.input(screen.getByTestId('setup-username'), { target: { value: 'alice' } });
  await fireEvent.input(screen.getByTestId('setup-display-name'), { target: { value: 'Alice Admin' } });
  await fireEvent.input(screen.getByTestId('setup-password'), { target: { value: password } });
  await fireEvent.input(screen.getByTestId('setup-password-confirm'), { target: { value: confirm } });
}

describe('Setup', () => {
  it('refuses a mismatched confirmation without calling Rust', async () => {
    const backend = fakeBackend({ create_first_administrator: () => account() });
    const onCreated = vi.fn();
    render(Setup, { props: { onCreated } });

    await fill('long-enough-1', 'long-enough-2');
    await fireEvent.click(screen.getByTestId('setup-submit'));

    expect(screen.getByTestId('form-error').textContent).toMatch(/do not match/);
    expect(backend.calls).toHaveLength(0);
    expect(onCreated).not.toHaveBeenCalled();
  });

  it('refuses a short password without calling Rust', async () => {
    const backend = fakeBackend({});
    render(Setup, { props: { onCreated: vi.fn() } });
    await fill('short', 'short');
    await fireEvent.click(screen.getByTestId('setup-submit'));
    expect(screen.getByTestId('form-error').textContent).toMatch(/at least 8/);
    expect(backend.calls).toHaveLength(0);
  });

  it('creates the administrator and reports the username', async () => {
    const backend = fakeBackend({ create_first_administrator: () => account({ username: 'alice' }) });
    const onCreated = vi.fn();
    render(Setup, { props: { onCreated } });

    await fill('long-enough-1', 'long-enough-1');
    await fireEvent.click(screen.getByTestId('setup-submit'));

    await waitFor(() => expect(onCreated).toHaveBeenCalledWith('alice'));
    expect(backend.callsTo('create_first_administrator')).toEqual([
      { input: { username: 'alice', display_name: 'Alice Admin', password: 'long-enough-1' } },
    ]);
  });

  it('shows the backend validation message', async () => {
    fakeBackend({ create_first_administrator: () => fail('VALIDATION', 'A username may only contain letters.') });
    render(Setup, { props: { onCreated: vi.fn() } });
    await fill('long-enough-1', 'long-enough-1');
    await fireEvent.click(screen.getByTestId('setup-submit'));
    expect((await screen.findByTestId('form-error')).textContent).toBe('A username may only contain letters.');
  });
});
