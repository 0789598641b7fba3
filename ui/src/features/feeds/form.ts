// Pure mapping between the feed editor's form and the backend's `FeedInput`, and the sentences the
// Calendar feeds screen says about a feed and a sync. The rules of a feed live in Rust
// (`interlock_core::feed::check_feed`); only the refresh bounds are mirrored, as input attributes.
import type { AuthKind, Feed, FeedInput, SyncReport } from '../../lib/ipc';
import { authSecretChange, type FormOrigin } from '../webhooks/form';
import { formatDateTime, plural } from '../../lib/time';

export const DEFAULT_REFRESH_MINUTES = 5;
export const MIN_REFRESH_MINUTES = 1;
export const MAX_REFRESH_MINUTES = 1440;

/** How the feed's server certificate is checked. */
export type TlsChoice = 'standard' | 'custom_ca' | 'insecure';

export interface FeedForm {
  serviceId: string;
  name: string;
  url: string;
  auth: AuthKind;
  authUsername: string;
  /** A new basic password or bearer token; empty keeps the stored one. */
  authSecret: string;
  authClear: boolean;
  tls: TlsChoice;
  caPem: string;
  /** Minutes; an emptied number input yields null/undefined. */
  refresh: number | null | undefined;
  enabled: boolean;
  fireWebhooks: boolean;
  userPattern: string;
}

export function emptyFeedForm(serviceId = ''): FeedForm {
  return {
    serviceId,
    name: '',
    url: '',
    auth: 'none',
    authUsername: '',
    authSecret: '',
    authClear: false,
    tls: 'standard',
    caPem: '',
    refresh: DEFAULT_REFRESH_MINUTES,
    enabled: true,
    fireWebhooks: false,
    userPattern: '',
  };
}

export function tlsChoiceOf(feed: Pick<Feed, 'insecure' | 'ca_pem'>): TlsChoice {
  if (feed.insecure) return 'insecure';
  if (feed.ca_pem !== null && feed.ca_pem.trim() !== '') return 'custom_ca';
  return 'standard';
}

export function formFromFeed(feed: Feed): FeedForm {
  return {
    serviceId: feed.service_id,
    name: feed.name,
    url: feed.url,
    auth: feed.auth,
    authUsername: feed.auth_username,
    authSecret: '',
    authClear: false,
    tls: tlsChoiceOf(feed),
    caPem: feed.ca_pem ?? '',
    refresh: feed.refresh_minutes,
    enabled: feed.enabled,
    fireWebhooks: feed.fire_webhooks,
    userPattern: feed.user_pattern,
  };
}

export function feedOrigin(feed: Feed | null): FormOrigin {
  return feed ? { auth: feed.auth, authSecretSet: feed.auth_secret_set } : { auth: 'none', authSecretSet: false };
}

export function toFeedInput(form: FeedForm, origin: FormOrigin): FeedInput {
  const ca = form.caPem.trim();
  return {
    service_id: form.serviceId,
    name: form.name.trim(),
    url: form.url.trim(),
    auth: form.auth,
    auth_username: form.auth === 'basic' ? form.authUsername.trim() : '',
    auth_secret: authSecretChange(form, origin),
    insecure: form.tls === 'insecure',
    ca_pem: form.tls === 'custom_ca' && ca !== '' ? form.caPem : null,
    // Rust checks the range (and says so); an emptied field sends the default.
    refresh_minutes: typeof form.refresh === 'number' && !Number.isNaN(form.refresh) ? form.refresh : DEFAULT_REFRESH_MINUTES,
    enabled: form.enabled,
    fire_webhooks: form.fireWebhooks,
    user_pattern: form.userPattern.trim(),
  };
}

/** "every 5 min", "every 1 h", "every 1 h 30 min". */
export function refreshText(minutes: number): string {
  if (minutes < 60) return `every ${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `every ${h} h` : `every ${h} h ${m} min`;
}

/** "created 3, updated 0, removed 0, unchanged 5" (and what no account matched), or "not modified". */
export function describeReport(report: SyncReport): string {
  if (report.not_modified) return 'not modified';
  let text = `created ${report.created}, updated ${report.updated}, removed ${report.removed}, unchanged ${report.unchanged}`;
  if (report.unmatched > 0) text += ` (${report.unmatched} not matched to an account)`;
  if (report.warnings.length > 0) text += `; ${plural(report.warnings.length, 'warning')}`;
  return text;
}

/** "HTTP status", "TLS"… for the error class a failing feed reports. */
const ERROR_CLASS_LABELS: Record<string, string> = {
  dns: 'DNS',
  refused: 'connection refused',
  tls: 'TLS',
  timeout: 'timeout',
  http_status: 'HTTP status',
  redirect: 'redirect',
  parse: 'parse',
  other: 'other',
};

export function errorClassLabel(cls: string): string {
  return ERROR_CLASS_LABELS[cls] ?? cls;
}

/** "Sun 29 Nov, 09:00", or "never". */
export function whenText(iso: string | null): string {
  return iso ? formatDateTime(iso) : 'never';
}
