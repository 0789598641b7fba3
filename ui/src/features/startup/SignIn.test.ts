import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import SignIn from './SignIn.svelte';
import { fail, fakeBackend, session } from '../../test/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

async function typeCredentials(username: string, password: string) {
  await fireEvent.input(screen.getByTestId('signin-username'), { target: { value: username } });
  await fireEvent.input(screen.getByTestId('signin-password'), { target: { value: password } });
}

describe('SignIn', () => {
  it('sends the typed credentials and shows the backend message on SIGN_IN_FAILED', async () => {
    const backend = fakeBackend({ sign_in: () => fail('SIGN_IN_FAILED', 'Wrong username or password.') });
    const onSignedIn = vi.fn();
    render(SignIn, { props: { onSignedIn } });

    await typeCredentials('alice', 'not-the-password');
    await fireEvent.submit(screen.getByTestId('signin-submit').closest('form')!);

    expect(await screen.findByTestId('signin-error')).toHaveProperty('textContent', 'Wrong username or password.');
    expect(backend.callsTo('sign_in')).toEqual([{ username: 'alice', password: 'not-the-password' }]);
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it('shows the pause message verbatim', async () => {
    fakeBackend({ sign_in: () => fail('SIGN_IN_PAUSED', 'Too many failed sign-ins. Try again in 5 minutes.') });
    render(SignIn, { props: { onSignedIn: vi.fn() } });
    await typeCredentials('bob', 'whatever1');
    await fireEvent.click(screen.getByTestId('signin-submit'));
    expect((await screen.findByTestId('signin-error')).textContent).toBe(
      'Too many failed sign-ins. Try again in 5 minutes.',
    );
  });

  it('hands the session over on success', async () => {
    const info = session({ username: 'alice' });
    fakeBackend({ sign_in: () => info });
    const onSignedIn = vi.fn();
    render(SignIn, { props: { onSignedIn, notice: 'Administrator created. Sign in to continue.', initialUsername: 'alice' } });

    expect(screen.getByTestId('signin-notice').textContent).toBe('Administrator created. Sign in to continue.');
    expect((screen.getByTestId('signin-username') as HTMLInputElement).value).toBe('alice');

    await fireEvent.input(screen.getByTestId('signin-password'), { target: { value: 'correct-horse' } });
    await fireEvent.click(screen.getByTestId('signin-submit'));
    await waitFor(() => expect(onSignedIn).toHaveBeenCalledWith(info));
    expect(screen.queryByTestId('signin-error')).toBeNull();
  });
});
