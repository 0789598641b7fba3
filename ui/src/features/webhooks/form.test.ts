import { describe, expect, it } from 'vitest';
import type { Webhook } from '../../lib/ipc';
import {
  ACTION_OPTIONS,
  VERB_OPTIONS,
  actionValue,
  authSecretChange,
  emptyForm,
  emptyHeader,
  formFromWebhook,
  headerInput,
  originOf,
  parseActionValue,
  parseVerbOption,
  toWebhookInput,
  validateBody,
  validateForm,
  validateHeaderName,
  validateTimeout,
  validateUrl,
  verbLabel,
  verbOptionValue,
  hasErrors,
  applyStatusPreset,
  statusValueText,
  suggestedTimeout,
} from './form';

function webhook(overrides: Partial<Webhook> = {}): Webhook {
  return {
    id: 'wh-1',
    name: 'LIMS',
    enabled: true,
    action: { type: 'order', subtype: 'update' },
    service_id: 'svc-1',
    url: 'https://lims.example.org/hook',
    verb: 'PUT',
    insecure: true,
    headers: [
      { name: 'X-Plain', value: 'p', secret: false, secret_set: false },
      { name: 'X-Key', value: '', secret: true, secret_set: true },
    ],
    auth: 'bearer',
    auth_username: '',
    auth_secret_set: true,
    body: { site: 'B2', n: 3 },
    timeout_secs: 30,
    signing: true,
    signing_secret_set: true,
    ca_pem: null,
    disabled_reason: null,
    status_mapping: { pointer: '/status', locked: 'locked', unlocked: 'unlocked' },
    ...overrides,
  };
}

describe('actions', () => {
  it('lists the nine valid actions', () => {
    expect(ACTION_OPTIONS.map((o) => o.value)).toEqual([
      'order/create',
      'order/update',
      'order/delete',
      'event/create',
      'event/update',
      'event/delete',
      'interlock/unlock',
      'interlock/status',
      'interlock/lock',
    ]);
    expect(ACTION_OPTIONS[0].label).toBe('Order – create');
  });

  it('round-trips every action value', () => {
    for (const option of ACTION_OPTIONS) {
      const action = parseActionValue(option.value);
      expect(action).toEqual(option.action);
      expect(actionValue(action!)).toBe(option.value);
    }
  });

  it('rejects pairs that are not one of the nine', () => {
    expect(parseActionValue('order/unlock')).toBeNull();
    expect(parseActionValue('interlock/create')).toBeNull();
    expect(parseActionValue('event')).toBeNull();
  });
});

describe('verbs', () => {
  it('has ten options, five of them insecure', () => {
    expect(VERB_OPTIONS.map((o) => o.value)).toEqual([
      'GET',
      'POST',
      'PUT',
      'PATCH',
      'DELETE',
      'GET:insecure',
      'POST:insecure',
      'PUT:insecure',
      'PATCH:insecure',
      'DELETE:insecure',
    ]);
    expect(VERB_OPTIONS.find((o) => o.value === 'POST:insecure')?.label).toBe('POST (insecure)');
  });

  it('maps an insecure option to insecure: true and back', () => {
    expect(parseVerbOption('POST:insecure')).toEqual({ verb: 'POST', insecure: true });
    expect(parseVerbOption('PATCH')).toEqual({ verb: 'PATCH', insecure: false });
    expect(parseVerbOption('TRACE')).toBeNull();
    expect(verbOptionValue('DELETE', true)).toBe('DELETE:insecure');
    expect(verbLabel('GET', false)).toBe('GET');
    expect(verbLabel('GET', true)).toBe('GET (insecure)');

    const form = { ...emptyForm(), url: 'https://x.test', verb: 'PUT:insecure' };
    const input = toWebhookInput(form, originOf(null));
    expect(input.verb).toBe('PUT');
    expect(input.insecure).toBe(true);
  });
});

describe('secret headers', () => {
  it('plain header keeps its value and sends keep', () => {
    const row = { ...emptyHeader(), name: ' X-Tenant ', value: 'lab-7' };
    expect(headerInput(row)).toEqual({ name: 'X-Tenant', value: 'lab-7', secret: false, secret_value: { change: 'keep' } });
  });

  it('secret header: typed value sets, empty keeps, clear clears', () => {
    const base = { ...emptyHeader(), name: 'X-Key', secret: true, secretSet: true };
    expect(headerInput({ ...base, value: 's3cret' })).toEqual({
      name: 'X-Key',
      value: '',
      secret: true,
      secret_value: { change: 'set', value: 's3cret' },
    });
    expect(headerInput({ ...base, value: '' }).secret_value).toEqual({ change: 'keep' });
    expect(headerInput({ ...base, value: 'ignored', clear: true }).secret_value).toEqual({ change: 'clear' });
  });

  it('never pre-fills a secret value from the stored webhook', () => {
    const form = formFromWebhook(webhook());
    expect(form.headers.map((h) => [h.name, h.value, h.secret, h.secretSet])).toEqual([
      ['X-Plain', 'p', false, false],
      ['X-Key', '', true, true],
    ]);
    const input = toWebhookInput(form, originOf(webhook()));
    expect(input.headers[1].secret_value).toEqual({ change: 'keep' });
    expect(input.auth_secret).toEqual({ change: 'keep' });
  });
});

describe('auth secret', () => {
  const origin = originOf(webhook());

  it('keeps, sets or clears the stored token', () => {
    const form = formFromWebhook(webhook());
    expect(authSecretChange(form, origin)).toEqual({ change: 'keep' });
    expect(authSecretChange({ ...form, authSecret: 'tok' }, origin)).toEqual({ change: 'set', value: 'tok' });
    expect(authSecretChange({ ...form, authClear: true }, origin)).toEqual({ change: 'clear' });
  });

  it('drops the stored secret when auth is turned off or changes kind', () => {
    const form = formFromWebhook(webhook());
    expect(authSecretChange({ ...form, auth: 'none' }, origin)).toEqual({ change: 'clear' });
    expect(authSecretChange({ ...form, auth: 'basic' }, origin)).toEqual({ change: 'clear' });
    expect(authSecretChange({ ...emptyForm() }, originOf(null))).toEqual({ change: 'keep' });
  });
});

describe('form mapping', () => {
  it('maps a stored webhook to form state and back', () => {
    const wh = webhook();
    const form = formFromWebhook(wh);
    expect(form.action).toBe('order/update');
    expect(form.verb).toBe('PUT:insecure');
    expect(form.scope).toBe('svc-1');
    expect(JSON.parse(form.body)).toEqual({ site: 'B2', n: 3 });
    expect(form.body).toContain('\n  "site"');

    const input = toWebhookInput(form, originOf(wh));
    expect(input).toMatchObject({
      name: 'LIMS',
      enabled: true,
      action: { type: 'order', subtype: 'update' },
      service_id: 'svc-1',
      verb: 'PUT',
      insecure: true,
      auth: 'bearer',
      auth_username: '',
      timeout_secs: 30,
      signing: true,
      ca_pem: null,
    });
  });

  it('maps "" scope to null, empty CA to null and an empty body to {}', () => {
    const input = toWebhookInput({ ...emptyForm(), url: 'http://a', body: '  ', caPem: '  \n' }, originOf(null));
    expect(input.service_id).toBeNull();
    expect(input.ca_pem).toBeNull();
    expect(input.body).toBe('{}');
    expect(input.timeout_secs).toBe(15);
    expect(input.enabled).toBe(true);
  });
});

describe('validators', () => {
  it('URL must start with http:// or https://', () => {
    expect(validateUrl('https://x.test/a')).toBeNull();
    expect(validateUrl('http://10.0.0.2:8080')).toBeNull();
    expect(validateUrl('ftp://x.test')).toMatch(/http:\/\/ or https:\/\//);
    expect(validateUrl('x.test')).not.toBeNull();
    expect(validateUrl('')).not.toBeNull();
  });

  it('body must parse as a JSON object', () => {
    expect(validateBody('{}')).toBeNull();
    expect(validateBody('{"a": [1, 2]}')).toBeNull();
    expect(validateBody('')).toBeNull();
    expect(validateBody('{"a": ')).toMatch(/valid JSON/);
    expect(validateBody('[1, 2]')).toMatch(/JSON object/);
    expect(validateBody('null')).toMatch(/JSON object/);
    expect(validateBody('"text"')).toMatch(/JSON object/);
  });

  it('timeout is 1–120 whole seconds', () => {
    expect(validateTimeout(1)).toBeNull();
    expect(validateTimeout(120)).toBeNull();
    expect(validateTimeout(0)).not.toBeNull();
    expect(validateTimeout(121)).not.toBeNull();
    expect(validateTimeout(2.5)).not.toBeNull();
    expect(validateTimeout(null)).not.toBeNull();
    expect(validateTimeout(undefined)).not.toBeNull();
  });

  it('header names are non-empty, without spaces and not reserved', () => {
    expect(validateHeaderName('X-Api-Key')).toBeNull();
    expect(validateHeaderName('  ')).toMatch(/required/);
    expect(validateHeaderName('X Api')).toMatch(/spaces/);
    const reserved = ['Content-Type', 'content-length', 'HOST', 'Transfer-Encoding'];
    for (const name of [...reserved, 'Webhook-Id', 'webhook-timestamp', 'Webhook-Signature']) {
      expect(validateHeaderName(name)).toMatch(/set by the app/);
    }
  });

  it('validateForm collects header problems by row', () => {
    const bad = { ...emptyHeader(), name: 'Host' };
    const good = { ...emptyHeader(), name: 'X-Ok' };
    const errors = validateForm({ ...emptyForm(), url: 'https://x', headers: [bad, good] });
    expect(Object.keys(errors.headers)).toEqual([String(bad.key)]);
    expect(hasErrors(errors)).toBe(true);
    expect(hasErrors(validateForm({ ...emptyForm(), url: 'https://x', headers: [good] }))).toBe(false);
  });
});

describe('status mapping', () => {
  const base = { ...emptyForm(), url: 'http://relay', action: 'interlock/status' };

  it('presets map to status_pointer/locked/unlocked strings', () => {
    const cases = [
      ['default', '/status', 'locked', 'unlocked'],
      ['shelly', '/ison', 'false', 'true'],
      ['tasmota', '/POWER', 'OFF', 'ON'],
    ] as const;
    for (const [id, pointer, locked, unlocked] of cases) {
      const input = toWebhookInput(applyStatusPreset(base, id), originOf(null));
      expect(input).toMatchObject({ status_pointer: pointer, status_locked: locked, status_unlocked: unlocked });
    }
  });

  it('empty fields send the defaults as empty strings; other actions never send a mapping', () => {
    expect(toWebhookInput(base, originOf(null))).toMatchObject({ status_pointer: '', status_locked: '', status_unlocked: '' });
    const lock = applyStatusPreset({ ...base, action: 'interlock/lock' }, 'tasmota');
    expect(toWebhookInput(lock, originOf(null))).toMatchObject({ status_pointer: '', status_locked: '', status_unlocked: '' });
  });

  it('prefills from the stored mapping: strings without quotes, others as JSON', () => {
    const form = formFromWebhook(
      webhook({ action: { type: 'interlock', subtype: 'status' }, status_mapping: { pointer: '/ison', locked: false, unlocked: 1 } }),
    );
    expect([form.statusPointer, form.statusLocked, form.statusUnlocked]).toEqual(['/ison', 'false', '1']);
    expect(statusValueText('ON')).toBe('ON');
    expect(statusValueText(null)).toBe('null');
  });

  it('suggests 5 s for interlock actions and 15 s otherwise', () => {
    expect(suggestedTimeout('interlock/unlock')).toBe(5);
    expect(suggestedTimeout('event/create')).toBe(15);
  });
});
