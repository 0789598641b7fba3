import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import WebhookEditor from './WebhookEditor.svelte';
import { fail, fakeBackend } from '../../test/ipc';
import type { Service, Webhook, WebhookInput, WebhookSaved } from '../../lib/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

const services: Service[] = [
  { id: 'svc-a', name: 'Confocal', description: '', tags: [], interlock: null, auto_lock: false, end_on_lock: null, post_lock_url: null },
  { id: 'svc-b', name: 'FACS', description: '', tags: [], interlock: null, auto_lock: false, end_on_lock: null, post_lock_url: null },
];

function stored(overrides: Partial<Webhook> = {}): Webhook {
  return {
    id: 'wh-1',
    name: 'LIMS',
    enabled: true,
    action: { type: 'event', subtype: 'create' },
    service_id: null,
    url: 'https://lims.example.org/hook',
    verb: 'POST',
    insecure: false,
    headers: [{ name: 'X-Key', value: '', secret: true, secret_set: true }],
    auth: 'bearer',
    auth_username: '',
    auth_secret_set: true,
    body: {},
    timeout_secs: 15,
    signing: true,
    signing_secret_set: true,
    ca_pem: null,
    disabled_reason: null,
    status_mapping: { pointer: '/status', locked: 'locked', unlocked: 'unlocked' },
    ...overrides,
  };
}

function saved(
  args: Record<string, unknown>,
  secret: string | null = null,
  credentialWarnings: string[] = [],
): WebhookSaved {
  const input = args.input as WebhookInput;
  return {
    webhook: {
      ...stored(),
      id: (args.id as string | null) ?? 'wh-new',
      name: input.name,
      signing: input.signing,
    },
    new_signing_secret: secret,
    credential_warnings: credentialWarnings,
  };
}

async function setValue(testid: string, value: string, index = 0) {
  await fireEvent.input(screen.getAllByTestId(testid)[index], { target: { value } });
}

async function choose(testid: string, value: string) {
  await fireEvent.change(screen.getByTestId(testid), { target: { value } });
}

describe('WebhookEditor', () => {
  it('sends the right payload for a basic-auth webhook with a secret header', async () => {
    const backend = fakeBackend({ save_webhook: (args) => saved(args) });
    const onDone = vi.fn();
    render(WebhookEditor, { props: { webhook: null, services, onDone, onCancel: vi.fn() } });

    expect((screen.getByTestId('webhook-enabled') as HTMLInputElement).checked).toBe(true);
    expect(screen.getByTestId('webhook-verb').querySelectorAll('option')).toHaveLength(10);

    await setValue('webhook-name', 'Billing');
    await choose('webhook-action', 'order/create');
    await choose('webhook-scope', 'svc-b');
    await choose('webhook-verb', 'PATCH:insecure');
    expect(screen.getByTestId('webhook-insecure-warning').textContent).toContain(
      'Insecure: ignores every TLS certificate error.',
    );
    await setValue('webhook-url', 'https://billing.example.org/in');

    await fireEvent.click(screen.getByTestId('webhook-header-add'));
    await fireEvent.click(screen.getByTestId('webhook-header-add'));
    await setValue('webhook-header-name', 'X-Tenant', 0);
    await setValue('webhook-header-value', 'lab-7', 0);
    await setValue('webhook-header-name', 'X-Api-Key', 1);
    await fireEvent.click(screen.getAllByTestId('webhook-header-secret')[1]);
    const secretValue = screen.getAllByTestId('webhook-header-value')[1] as HTMLInputElement;
    expect(secretValue.type).toBe('password');
    await setValue('webhook-header-value', 'k-123', 1);

    await choose('webhook-auth', 'basic');
    await setValue('webhook-auth-username', 'station');
    expect((screen.getByTestId('webhook-auth-secret') as HTMLInputElement).type).toBe('password');
    await setValue('webhook-auth-secret', 'pw');

    await setValue('webhook-body', '{"site": "B2"}');
    await setValue('webhook-timeout', '20');
    await setValue('webhook-ca-pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----');

    await fireEvent.click(screen.getByTestId('webhook-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());

    expect(backend.callsTo('save_webhook')).toEqual([
      {
        id: null,
        input: {
          name: 'Billing',
          enabled: true,
          action: { type: 'order', subtype: 'create' },
          service_id: 'svc-b',
          url: 'https://billing.example.org/in',
          verb: 'PATCH',
          insecure: true,
          headers: [
            { name: 'X-Tenant', value: 'lab-7', secret: false, secret_value: { change: 'keep' } },
            { name: 'X-Api-Key', value: '', secret: true, secret_value: { change: 'set', value: 'k-123' } },
          ],
          auth: 'basic',
          auth_username: 'station',
          auth_secret: { change: 'set', value: 'pw' },
          body: '{"site": "B2"}',
          timeout_secs: 20,
          signing: false,
          ca_pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
          status_pointer: '',
          status_locked: '',
          status_unlocked: '',
        },
      },
    ]);
  });

  it('shows the status mapping for interlock/status, with presets, and suggests 5 s', async () => {
    const backend = fakeBackend({ save_webhook: (args) => saved(args) });
    const onDone = vi.fn();
    render(WebhookEditor, { props: { webhook: null, services, onDone, onCancel: vi.fn() } });

    expect(screen.queryByTestId('webhook-status-pointer')).toBeNull();
    expect((screen.getByTestId('webhook-timeout') as HTMLInputElement).value).toBe('15');
    await choose('webhook-action', 'interlock/status');
    expect((screen.getByTestId('webhook-timeout') as HTMLInputElement).value).toBe('5');
    const pointer = screen.getByTestId('webhook-status-pointer') as HTMLInputElement;
    expect(pointer.placeholder).toBe('/status');
    expect((screen.getByTestId('webhook-status-locked') as HTMLInputElement).placeholder).toBe('locked');
    expect((screen.getByTestId('webhook-status-unlocked') as HTMLInputElement).placeholder).toBe('unlocked');

    await fireEvent.click(screen.getByTestId('webhook-status-preset-tasmota'));
    expect(pointer.value).toBe('/POWER');
    await fireEvent.click(screen.getByTestId('webhook-status-preset-shelly'));
    expect(pointer.value).toBe('/ison');
    expect((screen.getByTestId('webhook-status-locked') as HTMLInputElement).value).toBe('false');
    expect((screen.getByTestId('webhook-status-unlocked') as HTMLInputElement).value).toBe('true');

    await setValue('webhook-name', 'Relay status');
    await setValue('webhook-url', 'http://10.0.0.9/rpc');
    await fireEvent.click(screen.getByTestId('webhook-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(backend.callsTo('save_webhook')[0].input).toMatchObject({
      action: { type: 'interlock', subtype: 'status' },
      timeout_secs: 5,
      status_pointer: '/ison',
      status_locked: 'false',
      status_unlocked: 'true',
    });
  });

  it('prefills the status mapping of a stored status webhook', async () => {
    fakeBackend({});
    render(WebhookEditor, {
      props: {
        webhook: stored({
          action: { type: 'interlock', subtype: 'status' },
          status_mapping: { pointer: '/ison', locked: false, unlocked: true },
        }),
        services,
        onDone: vi.fn(),
        onCancel: vi.fn(),
      },
    });
    expect((screen.getByTestId('webhook-status-pointer') as HTMLInputElement).value).toBe('/ison');
    expect((screen.getByTestId('webhook-status-locked') as HTMLInputElement).value).toBe('false');
    expect((screen.getByTestId('webhook-status-unlocked') as HTMLInputElement).value).toBe('true');
    expect((screen.getByTestId('webhook-timeout') as HTMLInputElement).value).toBe('15');
  });

  it('editing keeps stored secrets unless cleared', async () => {
    const backend = fakeBackend({ save_webhook: (args) => saved(args) });
    render(WebhookEditor, { props: { webhook: stored(), services, onDone: vi.fn(), onCancel: vi.fn() } });

    const headerValue = screen.getByTestId('webhook-header-value') as HTMLInputElement;
    expect(headerValue.value).toBe('');
    expect(headerValue.placeholder).toBe('•••• set — leave empty to keep');
    expect((screen.getByTestId('webhook-auth-secret') as HTMLInputElement).placeholder).toBe(
      '•••• set — leave empty to keep',
    );
    await fireEvent.click(screen.getByTestId('webhook-header-clear'));
    await fireEvent.click(screen.getByTestId('webhook-save'));

    await waitFor(() => expect(backend.callsTo('save_webhook')).toHaveLength(1));
    const { id, input } = backend.callsTo('save_webhook')[0] as { id: string; input: WebhookInput };
    expect(id).toBe('wh-1');
    expect(input.headers).toEqual([{ name: 'X-Key', value: '', secret: true, secret_value: { change: 'clear' } }]);
    expect(input.auth_secret).toEqual({ change: 'keep' });
    expect(input.body).toBe('{}');
  });

  it('shows the backend VALIDATION message verbatim in form-error', async () => {
    fakeBackend({
      save_webhook: () => fail('VALIDATION', 'Header "X-Key" is set twice.'),
    });
    const onDone = vi.fn();
    render(WebhookEditor, { props: { webhook: null, services, onDone, onCancel: vi.fn() } });
    await setValue('webhook-name', 'Dup');
    await setValue('webhook-url', 'https://x.example.org');
    await fireEvent.click(screen.getByTestId('webhook-save'));
    expect((await screen.findByTestId('form-error')).textContent).toBe('Header "X-Key" is set twice.');
    expect(onDone).not.toHaveBeenCalled();
  });

  it('blocks obviously invalid input on the client', async () => {
    const backend = fakeBackend({});
    render(WebhookEditor, { props: { webhook: null, services, onDone: vi.fn(), onCancel: vi.fn() } });
    await setValue('webhook-url', 'ftp://x');
    await setValue('webhook-body', '[1]');
    await fireEvent.click(screen.getByTestId('webhook-header-add'));
    await setValue('webhook-header-name', 'Content-Type');
    await fireEvent.click(screen.getByTestId('webhook-save'));

    expect(screen.getByTestId('webhook-url-error').textContent).toMatch(/http:\/\/ or https:\/\//);
    expect(screen.getByTestId('webhook-body-error').textContent).toMatch(/JSON object/);
    expect(screen.getByTestId('webhook-header-error').textContent).toMatch(/set by the app/);
    expect(screen.getByTestId('form-error')).toBeTruthy();
    expect(backend.calls).toHaveLength(0);
  });

  it('shows a new signing secret once after saving', async () => {
    fakeBackend({ save_webhook: (args) => saved(args, 'whsec_ONCE') });
    const onDone = vi.fn();
    render(WebhookEditor, { props: { webhook: null, services, onDone, onCancel: vi.fn() } });
    await setValue('webhook-name', 'Signed');
    await setValue('webhook-url', 'https://x.example.org');
    await fireEvent.click(screen.getByTestId('webhook-signing'));
    await fireEvent.click(screen.getByTestId('webhook-save'));

    const panel = await screen.findByTestId('webhook-signing-secret');
    expect(panel.textContent).toContain('whsec_ONCE');
    expect(panel.textContent).toContain('Copy it now: it will not be shown again.');
    expect(onDone).not.toHaveBeenCalled();

    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await fireEvent.click(screen.getByTestId('webhook-signing-secret-copy'));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith('whsec_ONCE'));
    Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });

    await fireEvent.click(screen.getByTestId('webhook-signing-secret-done'));
    expect(onDone).toHaveBeenCalledTimes(1);
  });

  it('shows the credential warnings Rust returns with the save before closing', async () => {
    const warning =
      'The header Authorization looks like a credential but is not marked secret: its value is kept in the database (not the keyring) and shown as *** elsewhere. Mark it secret.';
    fakeBackend({ save_webhook: (args) => saved(args, null, [warning]) });
    const onDone = vi.fn();
    render(WebhookEditor, { props: { webhook: null, services, onDone, onCancel: vi.fn() } });
    await setValue('webhook-name', 'Plain token');
    await setValue('webhook-url', 'https://x.example.org');
    await fireEvent.click(screen.getByTestId('webhook-header-add'));
    await setValue('webhook-header-name', 'Authorization', 0);
    await setValue('webhook-header-value', 'Bearer abc', 0);
    await fireEvent.click(screen.getByTestId('webhook-save'));

    const shown = await screen.findAllByTestId('webhook-credential-warning');
    expect(shown.map((p) => p.textContent)).toEqual([warning]);
    expect(screen.queryByTestId('webhook-signing-secret')).toBeNull();
    expect(onDone).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId('webhook-saved-done'));
    expect(onDone).toHaveBeenCalledTimes(1);
  });

  it('closes at once when Rust finds no credential in a plain place', async () => {
    fakeBackend({ save_webhook: (args) => saved(args) });
    const onDone = vi.fn();
    render(WebhookEditor, { props: { webhook: null, services, onDone, onCancel: vi.fn() } });
    await setValue('webhook-name', 'Clean');
    await setValue('webhook-url', 'https://x.example.org');
    await fireEvent.click(screen.getByTestId('webhook-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalledTimes(1));
    expect(screen.queryByTestId('webhook-credential-warning')).toBeNull();
  });

  it('rotates the signing secret and shows the new one', async () => {
    const backend = fakeBackend({ rotate_signing_secret: () => 'whsec_NEW' });
    render(WebhookEditor, { props: { webhook: stored(), services, onDone: vi.fn(), onCancel: vi.fn() } });
    expect(screen.queryByTestId('webhook-signing-secret')).toBeNull();
    await fireEvent.click(screen.getByTestId('webhook-signing-rotate'));
    expect((await screen.findByTestId('webhook-signing-secret')).textContent).toContain('whsec_NEW');
    expect(backend.callsTo('rotate_signing_secret')).toEqual([{ id: 'wh-1' }]);
  });

  it('deletes after confirmation', async () => {
    const backend = fakeBackend({ delete_webhook: () => null });
    const onDone = vi.fn();
    render(WebhookEditor, { props: { webhook: stored(), services, onDone, onCancel: vi.fn() } });
    await fireEvent.click(screen.getByTestId('webhook-delete'));
    expect(screen.getByTestId('webhook-editor').textContent).toContain('removed from the OS keyring');
    await fireEvent.click(screen.getByTestId('webhook-delete-confirm'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(backend.callsTo('delete_webhook')).toEqual([{ id: 'wh-1' }]);
  });
});
