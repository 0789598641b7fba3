import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import FeedEditor from './FeedEditor.svelte';
import { fail, fakeBackend } from '../../test/ipc';
import type { Feed, FeedInput, Service } from '../../lib/ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

const services: Service[] = [
  { id: 'svc-a', name: 'Confocal', description: '', tags: [], interlock: null, auto_lock: false, end_on_lock: null, post_lock_url: null },
  { id: 'svc-b', name: 'FACS', description: '', tags: [], interlock: null, auto_lock: false, end_on_lock: null, post_lock_url: null },
];

function stored(overrides: Partial<Feed> = {}): Feed {
  return {
    id: 'feed-1',
    service_id: 'svc-b',
    service_name: 'FACS',
    name: 'Facility calendar',
    url: 'https://booking.example.org/facs.ics',
    auth: 'bearer',
    auth_username: '',
    auth_secret_set: true,
    insecure: false,
    ca_pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
    refresh_minutes: 15,
    enabled: true,
    fire_webhooks: true,
    user_pattern: 'booked by (\\w+)',
    status: {
      last_attempt_at: null,
      last_success_at: null,
      last_error: null,
      last_error_class: null,
      last_error_at: null,
      failing: false,
      bookings: 0,
      warnings: [],
    },
    ...overrides,
  };
}

async function setValue(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}

async function choose(testid: string, value: string) {
  await fireEvent.change(screen.getByTestId(testid), { target: { value } });
}

function sentInput(backend: ReturnType<typeof fakeBackend>, i = 0): { id: string | null; input: FeedInput } {
  return backend.callsTo('save_feed')[i] as { id: string | null; input: FeedInput };
}

describe('FeedEditor', () => {
  it('creates a feed with basic auth and a custom CA certificate', async () => {
    const backend = fakeBackend({ save_feed: () => stored() });
    const onDone = vi.fn();
    render(FeedEditor, { props: { feed: null, services, onDone, onCancel: vi.fn() } });

    expect(screen.getByRole('heading', { level: 2 }).textContent).toBe('New calendar feed');
    expect((screen.getByTestId('feed-refresh') as HTMLInputElement).value).toBe('5');
    expect((screen.getByTestId('feed-refresh') as HTMLInputElement).min).toBe('1');
    expect((screen.getByTestId('feed-refresh') as HTMLInputElement).max).toBe('1440');
    expect((screen.getByTestId('feed-enabled') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByTestId('feed-fire-webhooks') as HTMLInputElement).checked).toBe(false);
    expect((screen.getByTestId('feed-tls-standard') as HTMLInputElement).checked).toBe(true);
    expect(screen.queryByTestId('feed-ca-pem')).toBeNull();
    expect(screen.getByTestId('feed-editor').textContent?.replace(/\s+/g, ' ')).toContain(
      'A regular expression with one capture group matched against the summary, then the description; the captured text is a username here, e.g. booked by (\\w+)',
    );

    await choose('feed-service', 'svc-b');
    await setValue('feed-name', ' Facility calendar ');
    await setValue('feed-url', 'https://booking.example.org/facs.ics ');
    await choose('feed-auth', 'basic');
    await setValue('feed-auth-username', 'station');
    await setValue('feed-auth-secret', 's3cret');
    await fireEvent.click(screen.getByTestId('feed-tls-custom'));
    await setValue('feed-ca-pem', '-----BEGIN CERTIFICATE-----');
    await setValue('feed-refresh', '30');
    await fireEvent.click(screen.getByTestId('feed-fire-webhooks'));
    await setValue('feed-user-pattern', 'booked by (\\w+)');
    await fireEvent.click(screen.getByTestId('feed-save'));

    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(sentInput(backend)).toEqual({
      id: null,
      input: {
        service_id: 'svc-b',
        name: 'Facility calendar',
        url: 'https://booking.example.org/facs.ics',
        auth: 'basic',
        auth_username: 'station',
        auth_secret: { change: 'set', value: 's3cret' },
        insecure: false,
        ca_pem: '-----BEGIN CERTIFICATE-----',
        refresh_minutes: 30,
        enabled: true,
        fire_webhooks: true,
        user_pattern: 'booked by (\\w+)',
      },
    });
  });

  it('edits: keeps the stored token unless told, then clears it; insecure drops the CA; errors stay in the dialog', async () => {
    let refuse = true;
    const backend = fakeBackend({
      save_feed: () => {
        if (refuse) fail('VALIDATION', 'The user pattern needs exactly one capture group, e.g. booked by (\\w+).');
        return stored();
      },
    });
    const onDone = vi.fn();
    render(FeedEditor, { props: { feed: stored(), services, onDone, onCancel: vi.fn() } });

    // The service is fixed when editing; the stored secret is never shown.
    const service = screen.getByTestId('feed-service') as HTMLInputElement;
    expect(service.readOnly).toBe(true);
    expect(service.value).toBe('FACS');
    expect((screen.getByTestId('feed-tls-custom') as HTMLInputElement).checked).toBe(true);
    expect((screen.getByTestId('feed-auth-secret') as HTMLInputElement).value).toBe('');
    expect((screen.getByTestId('feed-auth-secret') as HTMLInputElement).placeholder).toContain('leave empty to keep');

    await setValue('feed-user-pattern', 'booked by \\w+');
    await fireEvent.click(screen.getByTestId('feed-save'));
    expect((await screen.findByTestId('form-error')).textContent).toBe(
      'The user pattern needs exactly one capture group, e.g. booked by (\\w+).',
    );
    expect(onDone).not.toHaveBeenCalled();
    expect(sentInput(backend, 0).id).toBe('feed-1');
    expect(sentInput(backend, 0).input.auth_secret).toEqual({ change: 'keep' });
    expect(sentInput(backend, 0).input.ca_pem).toBe('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----');

    refuse = false;
    await fireEvent.click(screen.getByTestId('feed-auth-clear'));
    await fireEvent.click(screen.getByTestId('feed-tls-insecure'));
    await fireEvent.click(screen.getByTestId('feed-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    const input = sentInput(backend, 1).input;
    expect(input.service_id).toBe('svc-b');
    expect(input.auth_secret).toEqual({ change: 'clear' });
    expect(input.insecure).toBe(true);
    expect(input.ca_pem).toBeNull();
  });

  it('switching the auth off clears a stored secret; standard TLS sends no CA', async () => {
    const backend = fakeBackend({ save_feed: () => stored() });
    const onDone = vi.fn();
    render(FeedEditor, { props: { feed: stored(), services, onDone, onCancel: vi.fn() } });
    await choose('feed-auth', 'none');
    await fireEvent.click(screen.getByTestId('feed-tls-standard'));
    await fireEvent.click(screen.getByTestId('feed-save'));
    await waitFor(() => expect(onDone).toHaveBeenCalled());
    const input = sentInput(backend).input;
    expect(input.auth).toBe('none');
    expect(input.auth_secret).toEqual({ change: 'clear' });
    expect(input.insecure).toBe(false);
    expect(input.ca_pem).toBeNull();
  });
});
