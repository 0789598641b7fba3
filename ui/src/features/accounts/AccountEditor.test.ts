import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import AccountEditor from './AccountEditor.svelte';
import Accounts from './Accounts.svelte';
import { account, fail, fakeBackend } from '../../test/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

async function setValue(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}

describe('Account e-mail', () => {
  it('is optional when creating an account and sent when given', async () => {
    const backend = fakeBackend({ create_account: () => account({ id: 'acc-2' }) });
    const onDone = vi.fn();
    render(AccountEditor, { props: { account: null, onDone, onCancel: vi.fn() } });
    const email = screen.getByTestId('account-email') as HTMLInputElement;
    expect(email.type).toBe('email');
    expect(screen.getByLabelText(/E-mail/)).toBe(email);

    await setValue('account-username', 'uma');
    await setValue('account-display-name', 'Uma User');
    await fireEvent.change(screen.getByTestId('account-role'), { target: { value: 'instrument_user' } });
    await setValue('account-password', 'long-enough');
    await setValue('account-email', ' Uma@Example.org ');
    await fireEvent.click(screen.getByTestId('account-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(backend.callsTo('create_account')).toEqual([
      {
        input: { username: 'uma', display_name: 'Uma User', role: 'instrument_user', email: 'Uma@Example.org', password: 'long-enough' },
      },
    ]);
  });

  it('sends null when creating without one', async () => {
    const backend = fakeBackend({ create_account: () => account({ id: 'acc-2' }) });
    const onDone = vi.fn();
    render(AccountEditor, { props: { account: null, onDone, onCancel: vi.fn() } });
    await setValue('account-username', 'vic');
    await setValue('account-display-name', 'Vic');
    await setValue('account-password', 'long-enough');
    await fireEvent.click(screen.getByTestId('account-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect((backend.callsTo('create_account')[0].input as { email: string | null }).email).toBeNull();
  });

  it('is shown when editing; emptied it clears; a duplicate is refused in the dialog', async () => {
    let duplicate = true;
    const backend = fakeBackend({
      update_account: () => {
        if (duplicate) fail('CONFLICT', 'Another account already has the e-mail sam@example.org.');
        return account();
      },
    });
    const onDone = vi.fn();
    const uma = account({ id: 'acc-uma', username: 'uma', display_name: 'Uma User', role: 'instrument_user', email: 'uma@example.org' });
    render(AccountEditor, { props: { account: uma, onDone, onCancel: vi.fn() } });
    expect((screen.getByTestId('account-email') as HTMLInputElement).value).toBe('uma@example.org');

    await setValue('account-email', 'sam@example.org');
    await fireEvent.click(screen.getByTestId('account-save'));
    expect((await screen.findByTestId('form-error')).textContent).toBe('Another account already has the e-mail sam@example.org.');
    expect(onDone).not.toHaveBeenCalled();

    duplicate = false;
    await setValue('account-email', '');
    await fireEvent.click(screen.getByTestId('account-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(backend.callsTo('update_account')[1]).toEqual({
      id: 'acc-uma',
      update: { display_name: 'Uma User', role: 'instrument_user', active: true, email: '' },
    });
  });

  it('the list has an E-mail column', async () => {
    fakeBackend({
      list_accounts: () => [account(), account({ id: 'acc-uma', username: 'uma', email: 'uma@example.org' })],
    });
    render(Accounts, { props: { account: account(), onError: vi.fn() } });
    const rows = await screen.findAllByTestId('account-row');
    expect(screen.getAllByRole('columnheader').map((h) => h.textContent?.trim())).toContain('E-mail');
    expect(within(rows[0]).getByTestId('account-row-email').textContent).toBe('');
    expect(within(rows[1]).getByTestId('account-row-email').textContent).toBe('uma@example.org');
  });
});
