// Pure mapping between the webhook editor's form state and the backend's types, plus the
// client-side mirrors of the Rust validation rules (the backend stays the authority).
import type {
  Action,
  ActionSubtype,
  ActionType,
  AuthKind,
  HeaderInput,
  JsonValue,
  SecretChange,
  Verb,
  Webhook,
  WebhookInput,
} from '../../lib/ipc';
import { LIMITS } from '../../lib/ipc';

// ---------------------------------------------------------------------------------------------
// Actions

const ACTION_TYPE_LABELS: Record<ActionType, string> = {
  order: 'Order',
  event: 'Event',
  interlock: 'Interlock',
};

/** The nine valid type/subtype pairs, in the order the editor lists them. */
export const ACTION_GROUPS: readonly { type: ActionType; label: string; subtypes: readonly ActionSubtype[] }[] = [
  { type: 'order', label: ACTION_TYPE_LABELS.order, subtypes: ['create', 'update', 'delete'] },
  { type: 'event', label: ACTION_TYPE_LABELS.event, subtypes: ['create', 'update', 'delete'] },
  { type: 'interlock', label: ACTION_TYPE_LABELS.interlock, subtypes: ['unlock', 'status', 'lock'] },
];

export interface ActionOption {
  value: string;
  label: string;
  action: Action;
}

export const ACTION_OPTIONS: readonly ActionOption[] = ACTION_GROUPS.flatMap((group) =>
  group.subtypes.map((subtype) => ({
    value: `${group.type}/${subtype}`,
    label: `${group.label} – ${subtype}`,
    action: { type: group.type, subtype },
  })),
);

/** "event/create" */
export function actionValue(action: Action): string {
  return `${action.type}/${action.subtype}`;
}

/** The Action for an option value such as "event/create"; null unless it is one of the nine. */
export function parseActionValue(value: string): Action | null {
  const option = ACTION_OPTIONS.find((o) => o.value === value);
  return option ? { ...option.action } : null;
}

/** "Event – create" (falls back to the raw value for anything unknown). */
export function actionLabel(value: string): string {
  return ACTION_OPTIONS.find((o) => o.value === value)?.label ?? value;
}

// ---------------------------------------------------------------------------------------------
// Verbs

export const VERBS: readonly Verb[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

const INSECURE_SUFFIX = ':insecure';

/** "POST" or "POST:insecure" */
export function verbOptionValue(verb: Verb, insecure: boolean): string {
  return insecure ? `${verb}${INSECURE_SUFFIX}` : verb;
}

export function parseVerbOption(value: string): { verb: Verb; insecure: boolean } | null {
  const insecure = value.endsWith(INSECURE_SUFFIX);
  const verb = insecure ? value.slice(0, -INSECURE_SUFFIX.length) : value;
  return (VERBS as readonly string[]).includes(verb) ? { verb: verb as Verb, insecure } : null;
}

/** "POST" or "POST (insecure)" */
export function verbLabel(verb: Verb, insecure: boolean): string {
  return insecure ? `${verb} (insecure)` : verb;
}

export const VERB_OPTIONS: readonly { value: string; label: string; insecure: boolean }[] = [
  ...VERBS.map((verb) => ({ value: verbOptionValue(verb, false), label: verbLabel(verb, false), insecure: false })),
  ...VERBS.map((verb) => ({ value: verbOptionValue(verb, true), label: verbLabel(verb, true), insecure: true })),
];

// ---------------------------------------------------------------------------------------------
// Form state

export interface HeaderRow {
  /** Local key for the list; not sent. */
  key: number;
  name: string;
  /** A plain header's value, or a new value for a secret one. */
  value: string;
  secret: boolean;
  /** Whether the backend holds a value for this (secret) header. */
  secretSet: boolean;
  /** Remove the stored secret value. */
  clear: boolean;
}

export interface WebhookForm {
  name: string;
  enabled: boolean;
  /** "event/create" */
  action: string;
  /** "" for every service of the station. */
  scope: string;
  /** "POST" or "POST:insecure" */
  verb: string;
  url: string;
  headers: HeaderRow[];
  auth: AuthKind;
  authUsername: string;
  /** A new basic password or bearer token; empty keeps the stored one. */
  authSecret: string;
  authClear: boolean;
  body: string;
  /** Seconds; an emptied number input yields null/undefined. */
  timeout: number | null | undefined;
  signing: boolean;
  caPem: string;
  /** interlock/status: JSON pointer to the state; empty means `/status`. */
  statusPointer: string;
  /** interlock/status: the value meaning locked (JSON or plain text); empty means "locked". */
  statusLocked: string;
  /** interlock/status: the value meaning unlocked (JSON or plain text); empty means "unlocked". */
  statusUnlocked: string;
}

/** What the form was seeded from, needed to decide keep/clear for secrets. */
export interface FormOrigin {
  auth: AuthKind;
  authSecretSet: boolean;
}

export const DEFAULT_TIMEOUT_SECS = LIMITS.default_timeout_secs;
/** Suggested for new interlock webhooks: a person is waiting at the instrument. */
export const INTERLOCK_TIMEOUT_SECS = 5;
export const MIN_TIMEOUT_SECS = LIMITS.min_timeout_secs;
export const MAX_TIMEOUT_SECS = LIMITS.max_timeout_secs;

let nextKey = 1;
export function newHeaderKey(): number {
  return nextKey++;
}

export function emptyHeader(): HeaderRow {
  return { key: newHeaderKey(), name: '', value: '', secret: false, secretSet: false, clear: false };
}

export function emptyForm(): WebhookForm {
  return {
    name: '',
    enabled: true,
    action: 'event/create',
    scope: '',
    verb: 'POST',
    url: '',
    headers: [],
    auth: 'none',
    authUsername: '',
    authSecret: '',
    authClear: false,
    body: '{}',
    timeout: DEFAULT_TIMEOUT_SECS,
    signing: false,
    caPem: '',
    statusPointer: '',
    statusLocked: '',
    statusUnlocked: '',
  };
}

export function formFromWebhook(webhook: Webhook): WebhookForm {
  return {
    name: webhook.name,
    enabled: webhook.enabled,
    action: actionValue(webhook.action),
    scope: webhook.service_id ?? '',
    verb: verbOptionValue(webhook.verb, webhook.insecure),
    url: webhook.url,
    headers: webhook.headers.map((h) => ({
      key: newHeaderKey(),
      name: h.name,
      value: h.secret ? '' : h.value,
      secret: h.secret,
      secretSet: h.secret && h.secret_set,
      clear: false,
    })),
    auth: webhook.auth,
    authUsername: webhook.auth_username,
    authSecret: '',
    authClear: false,
    body: JSON.stringify(webhook.body ?? {}, null, 2),
    timeout: webhook.timeout_secs,
    signing: webhook.signing,
    caPem: webhook.ca_pem ?? '',
    statusPointer: webhook.status_mapping?.pointer ?? '',
    statusLocked: statusValueText(webhook.status_mapping?.locked),
    statusUnlocked: statusValueText(webhook.status_mapping?.unlocked),
  };
}

export function originOf(webhook: Webhook | null): FormOrigin {
  return webhook ? { auth: webhook.auth, authSecretSet: webhook.auth_secret_set } : { auth: 'none', authSecretSet: false };
}

/** Clear wins, then a typed value is set; an empty value keeps what is stored. */
export function secretChange(value: string, clear: boolean): SecretChange {
  if (clear) return { change: 'clear' };
  if (value !== '') return { change: 'set', value };
  return { change: 'keep' };
}

export function headerInput(row: HeaderRow): HeaderInput {
  if (!row.secret) return { name: row.name.trim(), value: row.value, secret: false, secret_value: { change: 'keep' } };
  return { name: row.name.trim(), value: '', secret: true, secret_value: secretChange(row.value, row.clear) };
}

/** The fields of a form that hold a basic password or bearer token (webhooks and calendar feeds). */
export type AuthSecretFields = Pick<WebhookForm, 'auth' | 'authSecret' | 'authClear'>;

/** The basic password / bearer token change. A different (or no) auth kind drops the stored secret. */
export function authSecretChange(form: AuthSecretFields, origin: FormOrigin): SecretChange {
  if (form.auth === 'none') return origin.authSecretSet ? { change: 'clear' } : { change: 'keep' };
  if (form.authClear) return { change: 'clear' };
  if (form.authSecret !== '') return { change: 'set', value: form.authSecret };
  if (origin.authSecretSet && form.auth !== origin.auth) return { change: 'clear' };
  return { change: 'keep' };
}

/** Whether the "•••• set — leave empty to keep" state applies to the auth secret field. */
export function authSecretKept(form: Pick<WebhookForm, 'auth'>, origin: FormOrigin): boolean {
  return origin.authSecretSet && form.auth !== 'none' && form.auth === origin.auth;
}

export function toWebhookInput(form: WebhookForm, origin: FormOrigin): WebhookInput {
  const action = parseActionValue(form.action);
  if (!action) throw new Error(`Unknown action ${form.action}`);
  const verb = parseVerbOption(form.verb);
  if (!verb) throw new Error(`Unknown method ${form.verb}`);
  const body = form.body.trim();
  const ca = form.caPem.trim();
  const status = form.action === 'interlock/status';
  return {
    name: form.name.trim(),
    enabled: form.enabled,
    action,
    service_id: form.scope === '' ? null : form.scope,
    url: form.url.trim(),
    verb: verb.verb,
    insecure: verb.insecure,
    headers: form.headers.map(headerInput),
    auth: form.auth,
    auth_username: form.auth === 'basic' ? form.authUsername.trim() : '',
    auth_secret: authSecretChange(form, origin),
    body: body === '' ? '{}' : form.body,
    timeout_secs: typeof form.timeout === 'number' ? form.timeout : DEFAULT_TIMEOUT_SECS,
    signing: form.signing,
    ca_pem: ca === '' ? null : form.caPem,
    // Only a status webhook reads a reply; for the others the defaults ("") are sent.
    status_pointer: status ? form.statusPointer.trim() : '',
    status_locked: status ? form.statusLocked.trim() : '',
    status_unlocked: status ? form.statusUnlocked.trim() : '',
  };
}

// ---------------------------------------------------------------------------------------------
// Interlock status mapping

/** Whether the action value is one of the interlock actions. */
export function isInterlockAction(value: string): boolean {
  return value.startsWith('interlock/');
}

/** The timeout to suggest for a new webhook with this action. */
export function suggestedTimeout(action: string): number {
  return isInterlockAction(action) ? INTERLOCK_TIMEOUT_SECS : DEFAULT_TIMEOUT_SECS;
}

/** A stored mapping value as the user would type it: strings without quotes, others as JSON. */
export function statusValueText(value: JsonValue | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export interface StatusPreset {
  id: 'default' | 'shelly' | 'tasmota';
  label: string;
  pointer: string;
  locked: string;
  unlocked: string;
}

export const STATUS_PRESETS: readonly StatusPreset[] = [
  { id: 'default', label: 'Default (/status: locked / unlocked)', pointer: '/status', locked: 'locked', unlocked: 'unlocked' },
  { id: 'shelly', label: 'Shelly (/ison: false / true)', pointer: '/ison', locked: 'false', unlocked: 'true' },
  { id: 'tasmota', label: 'Tasmota (/POWER: OFF / ON)', pointer: '/POWER', locked: 'OFF', unlocked: 'ON' },
];

/** The form with a preset's status mapping filled in. */
export function applyStatusPreset(form: WebhookForm, id: StatusPreset['id']): WebhookForm {
  const preset = STATUS_PRESETS.find((p) => p.id === id);
  if (!preset) return form;
  return { ...form, statusPointer: preset.pointer, statusLocked: preset.locked, statusUnlocked: preset.unlocked };
}

// ---------------------------------------------------------------------------------------------
// Validators (mirrors of the Rust rules; each returns a message or null)

/** Headers the app sets itself and refuses from the user. */
export const RESERVED_HEADERS: readonly string[] = LIMITS.reserved_headers;

export function validateUrl(url: string): string | null {
  const u = url.trim();
  if (!/^https?:\/\/\S+$/i.test(u)) return 'The URL must start with http:// or https://.';
  return null;
}

export function validateBody(body: string): string | null {
  if (body.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'Body data must be valid JSON.';
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return 'Body data must be a JSON object, e.g. {"key": "value"}.';
  }
  return null;
}

export function validateTimeout(timeout: number | null | undefined): string | null {
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < MIN_TIMEOUT_SECS || timeout > MAX_TIMEOUT_SECS) {
    return `Timeout must be a whole number of seconds between ${MIN_TIMEOUT_SECS} and ${MAX_TIMEOUT_SECS}.`;
  }
  return null;
}

export function validateHeaderName(name: string): string | null {
  const n = name.trim();
  if (n === '') return 'Header name is required.';
  if (/\s/.test(n)) return 'Header names cannot contain spaces.';
  if (RESERVED_HEADERS.includes(n.toLowerCase())) return `${n} is set by the app and cannot be added.`;
  return null;
}

export interface FormErrors {
  url: string | null;
  body: string | null;
  timeout: string | null;
  /** By header row key. */
  headers: Record<number, string>;
}

export function validateForm(form: WebhookForm): FormErrors {
  const headers: Record<number, string> = {};
  for (const row of form.headers) {
    const problem = validateHeaderName(row.name);
    if (problem) headers[row.key] = problem;
  }
  return {
    url: validateUrl(form.url),
    body: validateBody(form.body),
    timeout: validateTimeout(form.timeout),
    headers,
  };
}

export function hasErrors(errors: FormErrors): boolean {
  return Boolean(errors.url || errors.body || errors.timeout || Object.keys(errors.headers).length > 0);
}
