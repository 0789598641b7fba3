import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import Feeds from './Feeds.svelte';
import { fail, fakeBackend } from '../../test/ipc';
import type { Feed, FeedStatus, Service, SyncReport } from '../../lib/ipc';
import { describeReport, refreshText } from './form';

afterEach(() => {
  cleanup();
  clearMocks();
});

const services: Service[] = [
  { id: 'svc-a', name: 'Confocal', description: '', tags: [], interlock: null, auto_lock: false, end_on_lock: null, post_lock_url: null },
  { id: 'svc-b', name: 'FACS', description: '', tags: [], interlock: null, auto_lock: false, end_on_lock: null, post_lock_url: null },
];

function status(overrides: Partial<FeedStatus> = {}): FeedStatus {
  return {
    last_attempt_at: '2026-11-29T08:00:00Z',
    last_success_at: '2026-11-29T08:00:00Z',
    last_error: null,
    last_error_class: null,
    last_error_at: null,
    failing: false,
    bookings: 5,
    warnings: [],
    ...overrides,
  };
}

function feed(overrides: Partial<Feed> = {}): Feed {
  return {
    id: 'feed-1',
    service_id: 'svc-a',
    service_name: 'Confocal',
    name: 'Facility calendar',
    url: 'https://booking.example.org/confocal.ics',
    auth: 'none',
    auth_username: '',
    auth_secret_set: false,
    insecure: false,
    ca_pem: null,
    refresh_minutes: 5,
    enabled: true,
    fire_webhooks: false,
    user_pattern: '',
    status: status(),
    ...overrides,
  };
}

function report(overrides: Partial<SyncReport> = {}): SyncReport {
  return {
    feed_id: 'feed-1',
    name: 'Facility calendar',
    not_modified: false,
    created: 3,
    updated: 0,
    removed: 0,
    unchanged: 5,
    unmatched: 0,
    warnings: [],
    ...overrides,
  };
}

describe('Calendar feeds screen', () => {
  it('lists feeds; a failing one shows the badge, the error, its class and the last success', async () => {
    fakeBackend({
      list_feeds: () => [
        feed({ status: status({ warnings: ['line 40: event without DTSTART skipped', 'line 77: unknown time zone "Mars/Olympus"'] }) }),
        feed({
          id: 'feed-2',
          name: 'Broken',
          service_id: 'svc-b',
          service_name: 'FACS',
          url: 'http://127.0.0.1:9/broken.ics',
          enabled: false,
          refresh_minutes: 90,
          status: status({
            failing: true,
            last_error: 'HTTP 500 Internal Server Error',
            last_error_class: 'http_status',
            last_error_at: '2026-11-29T09:15:00Z',
            last_success_at: '2026-11-28T17:00:00Z',
            bookings: 2,
          }),
        }),
      ],
      list_services: () => services,
    });
    render(Feeds, { props: { onError: vi.fn() } });

    const rows = await screen.findAllByTestId('feed-row');
    expect(rows.map((r) => r.dataset.name)).toEqual(['Facility calendar', 'Broken']);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Calendar feeds');

    const ok = within(rows[0]);
    expect(ok.queryByTestId('feed-row-failing')).toBeNull();
    expect(ok.getByTestId('feed-row-service').textContent).toBe('Confocal');
    expect(ok.getByTestId('feed-row-refresh').textContent).toBe('every 5 min');
    expect(ok.getByTestId('feed-row-state').textContent?.trim()).toBe('Enabled');
    expect(ok.getByTestId('feed-row-last-success').textContent).toBe('Sun 29 Nov, 09:00');
    expect(ok.getByTestId('feed-row-bookings').textContent).toBe('5');
    expect(ok.getByTestId('feed-row-warnings').textContent).toContain('2 warnings');
    expect(ok.getAllByTestId('feed-row-warning').map((w) => w.textContent)).toEqual([
      'line 40: event without DTSTART skipped',
      'line 77: unknown time zone "Mars/Olympus"',
    ]);

    const broken = within(rows[1]);
    expect(broken.getByTestId('feed-row-failing').textContent).toBe('Failing');
    expect(broken.getByTestId('feed-row-error').textContent).toContain('HTTP 500 Internal Server Error');
    expect(broken.getByTestId('feed-row-error-class').textContent).toBe('(HTTP status)');
    expect(broken.getByTestId('feed-row-sync').textContent).toContain('Failed Sun 29 Nov, 10:15');
    expect(broken.getByTestId('feed-row-last-success').textContent).toBe('Sat 28 Nov, 18:00');
    expect(broken.getByTestId('feed-row-state').textContent?.trim()).toBe('Disabled');
    expect(broken.getByTestId('feed-row-refresh').textContent).toBe('every 1 h 30 min');
    expect(broken.getByTestId('feed-row-warnings').textContent?.trim()).toBe('None');
  });

  it('Sync now shows the report, "not modified", or the error, and reloads the list', async () => {
    let answer: 'report' | 'not_modified' | 'error' = 'report';
    const backend = fakeBackend({
      list_feeds: () => [feed()],
      list_services: () => services,
      sync_feed_now: () => {
        if (answer === 'error') fail('VALIDATION', 'HTTP 500 Internal Server Error from booking.example.org');
        return answer === 'report' ? report() : report({ not_modified: true, created: 0, unchanged: 0 });
      },
    });
    render(Feeds, { props: { onError: vi.fn() } });
    await screen.findAllByTestId('feed-row');

    await fireEvent.click(screen.getByTestId('feed-sync'));
    const banner = await screen.findByTestId('feed-sync-result');
    expect(banner.textContent).toContain('Facility calendar: created 3, updated 0, removed 0, unchanged 5');
    expect(banner.className).toContain('success');
    expect(backend.callsTo('sync_feed_now')).toEqual([{ id: 'feed-1' }]);
    await waitFor(() => expect(backend.callsTo('list_feeds')).toHaveLength(2));

    answer = 'not_modified';
    await fireEvent.click(screen.getByTestId('feed-sync'));
    await waitFor(() => expect(screen.getByTestId('feed-sync-result').textContent).toContain('not modified'));

    answer = 'error';
    await fireEvent.click(screen.getByTestId('feed-sync'));
    await waitFor(() =>
      expect(screen.getByTestId('feed-sync-result').textContent).toContain(
        'Failed: HTTP 500 Internal Server Error from booking.example.org',
      ),
    );
    expect(screen.getByTestId('feed-sync-result').className).toContain('error');
  });

  it('deletes a feed after asking, saying its bookings go too', async () => {
    let feeds = [feed()];
    const backend = fakeBackend({
      list_feeds: () => feeds,
      list_services: () => services,
      delete_feed: () => {
        feeds = [];
        return null;
      },
    });
    render(Feeds, { props: { onError: vi.fn() } });
    await screen.findAllByTestId('feed-row');
    await fireEvent.click(screen.getByTestId('feed-delete'));
    expect(screen.getByTestId('feed-row').textContent).toContain('Its 5 bookings at this station are removed too.');
    await fireEvent.click(screen.getByTestId('feed-delete-confirm'));
    expect(await screen.findByTestId('feeds-empty')).toBeTruthy();
    expect(backend.callsTo('delete_feed')).toEqual([{ id: 'feed-1' }]);
  });

  it('shows the empty state and imports an .ics file', async () => {
    let refuse = false;
    const backend = fakeBackend({
      list_feeds: () => [],
      list_services: () => services,
      import_ics: () => {
        if (refuse) fail('VALIDATION', 'Nothing was taken: "Night run" names no account of this station (x@y.org).');
        return report({ feed_id: null, name: 'week.ics', created: 2, unchanged: 0 });
      },
    });
    render(Feeds, { props: { onError: vi.fn() } });
    expect(await screen.findByTestId('feeds-empty')).toBeTruthy();

    const ics = 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n';
    const file = new File([ics], 'week.ics', { type: 'text/calendar' });
    // jsdom's File has no text(); the web view's has.
    Object.defineProperty(file, 'text', { value: () => Promise.resolve(ics) });
    await fireEvent.change(screen.getByTestId('feed-import-service'), { target: { value: 'svc-b' } });
    const input = screen.getByTestId('feed-import-file') as HTMLInputElement;
    expect(input.accept).toBe('.ics,text/calendar');
    await fireEvent.change(input, { target: { files: [file] } });
    await fireEvent.click(screen.getByTestId('feed-import-submit'));
    const result = await screen.findByTestId('feed-import-result');
    expect(result.textContent).toBe('Imported week.ics: created 2, updated 0, removed 0, unchanged 0');
    expect(backend.callsTo('import_ics')).toEqual([{ serviceId: 'svc-b', fileName: 'week.ics', text: ics }]);

    refuse = true;
    await fireEvent.click(screen.getByTestId('feed-import-submit'));
    await waitFor(() =>
      expect(screen.getByTestId('feed-import-result').textContent).toBe(
        'Nothing was imported: Nothing was taken: "Night run" names no account of this station (x@y.org).',
      ),
    );
  });
});

describe('Calendar feeds screen when the feeds cannot be read', () => {
  it('reports the error and still offers New feed and the import', async () => {
    fakeBackend({
      list_feeds: () => fail('DATABASE', 'Database error: disk I/O error'),
      list_services: () => services,
    });
    const onError = vi.fn();
    render(Feeds, { props: { onError } });
    await waitFor(() => expect(onError).toHaveBeenCalled());
    expect((onError.mock.calls[0][0] as Error).message).toBe('Database error: disk I/O error');
    expect((screen.getByTestId('feed-new') as HTMLButtonElement).disabled).toBe(false);
    expect(screen.getByTestId('feed-import')).toBeTruthy();
    expect(screen.queryByTestId('feeds-empty')).toBeNull();
  });
});

describe('feed sentences', () => {
  it('words reports and refresh intervals', () => {
    expect(describeReport(report({ unmatched: 1, warnings: ['w'] }))).toBe(
      'created 3, updated 0, removed 0, unchanged 5 (1 not matched to an account); 1 warning',
    );
    expect(describeReport(report({ not_modified: true }))).toBe('not modified');
    expect(refreshText(1440)).toBe('every 24 h');
  });
});
