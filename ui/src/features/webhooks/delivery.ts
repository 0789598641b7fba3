// How delivery attempts read in the UI.
import type { DeliveryAttempt, ErrorClass } from '../../lib/ipc';
import { formatDay, formatTimeSeconds } from '../../lib/time';

export const OUTCOMES = ['delivered', 'retrying', 'failed', 'skipped', 'test'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const OUTCOME_LABELS: Record<Outcome, string> = {
  delivered: 'Delivered',
  retrying: 'Retrying',
  failed: 'Failed',
  skipped: 'Skipped (webhook disabled)',
  test: 'Test',
};

export function outcomeLabel(outcome: string): string {
  return (OUTCOME_LABELS as Record<string, string>)[outcome] ?? outcome;
}

export const ERROR_CLASS_LABELS: Record<ErrorClass, string> = {
  dns: 'DNS lookup failed',
  refused: 'Connection refused',
  tls: 'TLS error',
  timeout: 'Timed out',
  redirect: 'Redirect not followed',
  http_status: 'HTTP error status',
  connect: 'Connection failed',
  config: 'Configuration error',
  other: 'Other error',
};

/** "HTTP 200", or the error class when no response came back. */
export function statusText(attempt: DeliveryAttempt): string {
  if (attempt.status !== null) return `HTTP ${attempt.status}`;
  if (attempt.error_class) return ERROR_CLASS_LABELS[attempt.error_class] ?? attempt.error_class;
  return '—';
}

function succeeded(attempt: DeliveryAttempt): boolean {
  return attempt.error === null && attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
}

/** "Delivered: HTTP 200 in 35 ms" or "Failed: <error>". */
export function describeResult(attempt: DeliveryAttempt): { ok: boolean; text: string } {
  if (succeeded(attempt)) {
    return { ok: true, text: `Delivered: HTTP ${attempt.status} in ${attempt.duration_ms} ms` };
  }
  const reason = attempt.error ?? statusText(attempt);
  return { ok: false, text: `Failed: ${reason}` };
}

/** "Sun 29 Nov, 09:00:05" in local time (the station's locale). */
export function formatLogTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${formatDay(d)}, ${formatTimeSeconds(d)}`;
}
