import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import App from '../../App.svelte';
import Webhooks from './Webhooks.svelte';
import Deliveries from './Deliveries.svelte';
import { fakeBackend, session } from '../../test/ipc';
import { LIMITS, type AppStatus, type DeliveryAttempt, type Service, type StationOverview, type Webhook } from '../../lib/ipc';

afterEach(() => {
  vi.useRealTimers();
  cleanup();
  clearMocks();
});

const services: Service[] = [{ id: 'svc-a', name: 'Confocal', description: '', tags: [], interlock: null, auto_lock: false, end_on_lock: null, post_lock_url: null }];

function hook(overrides: Partial<Webhook> = {}): Webhook {
  return {
    id: 'wh-1',
    name: 'LIMS',
    enabled: true,
    action: { type: 'event', subtype: 'create' },
    service_id: 'svc-a',
    url: 'https://lims.example.org/hook',
    verb: 'POST',
    insecure: false,
    headers: [],
    auth: 'none',
    auth_username: '',
    auth_secret_set: false,
    body: {},
    timeout_secs: 15,
    signing: false,
    signing_secret_set: false,
    ca_pem: null,
    disabled_reason: null,
    status_mapping: { pointer: '/status', locked: 'locked', unlocked: 'unlocked' },
    ...overrides,
  };
}

function attempt(overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt {
  return {
    id: 'att-1',
    outbox_id: 'out-1',
    webhook_id: 'wh-1',
    webhook_name: 'LIMS',
    action: 'event/create',
    verb: 'POST',
    url: 'https://lims.example.org/hook',
    attempt: 1,
    attempted_at: '2026-11-29T08:00:05Z',
    duration_ms: 35,
    status: 200,
    error_class: null,
    error: null,
    response_excerpt: '{"ok":true}',
    outcome: 'delivered',
    next_attempt_at: null,
    ...overrides,
  };
}

describe('Webhooks screen', () => {
  it('lists webhooks and shows the test result', async () => {
    const backend = fakeBackend({
      list_webhooks: () => [
        hook(),
        hook({
          id: 'wh-2',
          name: 'Door',
          action: { type: 'interlock', subtype: 'unlock' },
          service_id: null,
          verb: 'PUT',
          insecure: true,
          enabled: false,
          disabled_reason: 'The receiver answered 410 Gone.',
        }),
      ],
      list_services: () => services,
      send_test_webhook: (args) =>
        args.id === 'wh-1'
          ? attempt({ outcome: 'test', outbox_id: null })
          : attempt({ status: null, error_class: 'tls', error: 'certificate has expired', outcome: 'test' }),
    });
    render(Webhooks, { props: { onError: vi.fn() } });

    const rows = await screen.findAllByTestId('webhook-row');
    expect(rows.map((r) => r.dataset.name)).toEqual(['LIMS', 'Door']);
    const door = within(rows[1]);
    expect(door.getByTestId('webhook-row-action').textContent).toBe('interlock/unlock');
    expect(door.getByTestId('webhook-row-scope').textContent).toBe('All services');
    expect(door.getByTestId('webhook-row-verb').textContent?.trim()).toBe('PUT (insecure)');
    expect(door.getByTestId('webhook-row-state').textContent).toContain('The receiver answered 410 Gone.');
    expect(within(rows[0]).getByTestId('webhook-row-scope').textContent).toBe('Confocal');

    await fireEvent.click(within(rows[0]).getByTestId('webhook-test'));
    expect((await screen.findByTestId('webhook-test-result')).textContent).toContain('Delivered: HTTP 200 in 35 ms');

    await fireEvent.click(door.getByTestId('webhook-test'));
    await waitFor(() =>
      expect(screen.getByTestId('webhook-test-result').textContent).toContain('Failed: certificate has expired'),
    );
    expect(backend.callsTo('send_test_webhook')).toEqual([{ id: 'wh-1' }, { id: 'wh-2' }]);
  });

  it('shows the empty state', async () => {
    fakeBackend({ list_webhooks: () => [], list_services: () => services });
    render(Webhooks, { props: { onError: vi.fn() } });
    expect(await screen.findByTestId('webhooks-empty')).toBeTruthy();
  });
});

describe('Delivery log', () => {
  it('renders rows, expands details and resends by attempt id', async () => {
    let resent = false;
    const backend = fakeBackend({
      list_webhooks: () => [hook()],
      list_deliveries: () =>
        [
          attempt({
            id: 'att-9',
            outbox_id: 'out-9',
            status: 503,
            error_class: 'http_status',
            error: 'The receiver answered 503 Service Unavailable.',
            response_excerpt: 'upstream\n  down',
            outcome: 'retrying',
            attempt: 2,
            next_attempt_at: '2026-11-29T08:05:00Z',
          }),
          attempt({ id: 'att-1', outbox_id: null, outcome: 'test' }),
        ].concat(resent ? [attempt({ id: 'att-10', outbox_id: 'out-9', attempt: 3 })] : []),
      resend_delivery: () => {
        resent = true;
        return attempt({ id: 'att-10', outbox_id: 'out-9', attempt: 3 });
      },
    });
    render(Deliveries, { props: { onError: vi.fn() } });

    const rows = await screen.findAllByTestId('delivery-row');
    expect(rows.map((r) => r.dataset.outcome)).toEqual(['retrying', 'test']);
    const first = within(rows[0]);
    expect(first.getByTestId('delivery-status').textContent).toBe('HTTP 503');
    expect(first.getByTestId('delivery-attempt').textContent).toBe('2');
    // 08:00:05Z is 09:00:05 in Berlin.
    expect(first.getByTestId('delivery-time').textContent).toBe('Sun 29 Nov, 09:00:05');
    expect(first.getByTestId('delivery-next').textContent).toContain('09:05:00');
    expect(within(rows[1]).queryByTestId('delivery-resend')).toBeNull();

    await fireEvent.click(rows[0]);
    const detail = screen.getByTestId('delivery-detail');
    expect(within(detail).getByTestId('delivery-error').textContent).toBe(
      'The receiver answered 503 Service Unavailable.',
    );
    expect(within(detail).getByTestId('delivery-excerpt').textContent).toBe('upstream\n  down');

    await fireEvent.click(first.getByTestId('delivery-resend'));
    await waitFor(() => expect(screen.getAllByTestId('delivery-row')).toHaveLength(3));
    expect(backend.callsTo('resend_delivery')).toEqual([{ attemptId: 'att-9' }]);
    expect(screen.getByTestId('delivery-resend-result').textContent).toContain('Delivered: HTTP 200 in 35 ms');
  });

  it('filters by outcome and webhook and auto-refreshes every 5 s', async () => {
    vi.useFakeTimers();
    const backend = fakeBackend({ list_webhooks: () => [hook()], list_deliveries: () => [] });
    render(Deliveries, { props: { onError: vi.fn() } });
    await vi.waitFor(() => screen.getByTestId('deliveries-empty'));
    expect(backend.callsTo('list_deliveries')).toEqual([{ outcome: null, webhookId: null, before: null }]);

    await fireEvent.change(screen.getByTestId('deliveries-filter-outcome'), { target: { value: 'failed' } });
    await vi.waitFor(() => screen.getByRole('option', { name: 'LIMS' }));
    await fireEvent.change(screen.getByTestId('deliveries-filter-webhook'), { target: { value: 'wh-1' } });
    expect(backend.callsTo('list_deliveries').at(-1)).toEqual({ outcome: 'failed', webhookId: 'wh-1', before: null });

    const before = backend.callsTo('list_deliveries').length;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(backend.callsTo('list_deliveries')).toHaveLength(before + 1);
  });

  it('shows older attempts a page at a time and keeps them across the auto-refresh', async () => {
    const page = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => attempt({ id: String(from - i) }));
    const backend = fakeBackend({
      list_webhooks: () => [hook()],
      list_deliveries: (args: Record<string, unknown>) =>
        args.before === null ? page(1000, LIMITS.history_page) : page(Number(args.before) - 1, 2),
    });
    render(Deliveries, { props: { onError: vi.fn() } });
    await waitFor(() => expect(screen.getAllByTestId('delivery-row')).toHaveLength(LIMITS.history_page));
    await fireEvent.click(screen.getByTestId('deliveries-older'));
    await waitFor(() => expect(screen.getAllByTestId('delivery-row')).toHaveLength(LIMITS.history_page + 2));
    expect(backend.callsTo('list_deliveries').at(-1)).toEqual({
      outcome: null,
      webhookId: null,
      before: String(1000 - LIMITS.history_page + 1),
    });
    expect(screen.queryByTestId('deliveries-older')).toBeNull();
    await fireEvent.click(screen.getByTestId('deliveries-refresh'));
    await waitFor(() => expect(backend.callsTo('list_deliveries').at(-1)?.before).toBeNull());
    expect(screen.getAllByTestId('delivery-row')).toHaveLength(LIMITS.history_page + 2);
  });
});

describe('Navigation', () => {
  const ready: AppStatus = { state: 'ready', error: null, database_path: '/data/station.db', version: '0.1.0', locale: 'en-GB' };
  const overview: StationOverview = { now: '2026-11-29T08:00:00Z', instruments: [] };

  it('staff reach both screens; instrument users do not see them', async () => {
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role: 'facility_staff' }),
      station_overview: () => overview,
      list_webhooks: () => [],
      list_services: () => services,
      list_deliveries: () => [],
    });
    render(App);
    await fireEvent.click(await screen.findByTestId('nav-webhooks'));
    expect(await screen.findByTestId('webhooks-screen')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('nav-deliveries'));
    expect(await screen.findByTestId('deliveries-screen')).toBeTruthy();
  });

  it('hides the entries from instrument users', async () => {
    fakeBackend({
      app_status: () => ready,
      current_session: () => session({ role: 'instrument_user' }),
      station_overview: () => overview,
    });
    render(App);
    await screen.findByTestId('station-screen');
    expect(screen.queryByTestId('nav-webhooks')).toBeNull();
    expect(screen.queryByTestId('nav-deliveries')).toBeNull();
  });
});
