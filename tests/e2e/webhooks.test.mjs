// Staff configure an event/create webhook with a basic-auth password in the real window; creating
// an event sends it from Rust to a receiver on 127.0.0.1, which gets the exact JSON; the delivery
// log shows the attempt. Screenshots of the manager, the editor and the log.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import {
  click, find, findAll, localInput, newDataDir, openApp, screenshot, selectByLabel, setValue, type, waitFor,
} from './harness.mjs';

let app;
let receiver;
const received = [];

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  app = await openApp(newDataDir());
}, { timeout: 120000 });
after(async () => {
  await app?.stop();
  receiver?.close();
});

test('an event/create webhook with basic auth is delivered and logged', { timeout: 180000 }, async () => {
  const { driver } = app;
  const port = receiver.address().port;

  await find(driver, 'setup-screen');
  await type(driver, 'setup-username', 'admin');
  await type(driver, 'setup-display-name', 'Ada Admin');
  await type(driver, 'setup-password', 'admin-password');
  await type(driver, 'setup-password-confirm', 'admin-password');
  await click(driver, 'setup-submit');
  await find(driver, 'signin-screen');
  await type(driver, 'signin-username', 'admin');
  await type(driver, 'signin-password', 'admin-password');
  await click(driver, 'signin-submit');
  await find(driver, 'station-screen');

  await click(driver, 'nav-services');
  await click(driver, 'service-new');
  await type(driver, 'service-name', 'Confocal LSM 980');
  await click(driver, 'service-save');
  await find(driver, 'service-row');

  // The Service Webhook Manager.
  await click(driver, 'nav-webhooks');
  await find(driver, 'webhooks-screen');
  await click(driver, 'webhook-new');
  await find(driver, 'webhook-editor');
  await type(driver, 'webhook-name', 'LIMS booking feed');
  await setValue(driver, 'webhook-action', 'event/create');
  await setValue(driver, 'webhook-verb', 'POST');
  await type(driver, 'webhook-url', `http://127.0.0.1:${port}/bookings?site=b2`);
  await click(driver, 'webhook-header-add');
  const names = await findAll(driver, 'webhook-header-name');
  await names[names.length - 1].sendKeys('X-Facility');
  const values = await findAll(driver, 'webhook-header-value');
  await values[values.length - 1].sendKeys('core-imaging');
  await setValue(driver, 'webhook-auth', 'basic');
  await type(driver, 'webhook-auth-username', 'station');
  await type(driver, 'webhook-auth-secret', 'e2e-basic-secret');
  await setValue(driver, 'webhook-body', '{"room": "B2.114", "event_id": "configured"}');
  await screenshot(driver, '12-webhook-editor');
  await click(driver, 'webhook-save');
  await waitFor(driver, async () => (await findAll(driver, 'webhook-row')).length === 1, 'webhook listed');
  await screenshot(driver, '13-webhook-manager');

  // An insecure verb shows its warning.
  await click(driver, 'webhook-edit');
  await setValue(driver, 'webhook-verb', 'POST:insecure');
  await find(driver, 'webhook-insecure-warning');
  await screenshot(driver, '14-webhook-editor-insecure');
  await click(driver, 'webhook-cancel');

  // Create an event: the webhook goes out from Rust.
  await click(driver, 'nav-accounts');
  await click(driver, 'account-new');
  await type(driver, 'account-username', 'uma');
  await type(driver, 'account-display-name', 'Uma User');
  await setValue(driver, 'account-role', 'instrument_user');
  await type(driver, 'account-password', 'uma-password');
  await click(driver, 'account-save');
  await find(driver, 'account-row');
  await click(driver, 'nav-schedule');
  await click(driver, 'event-new');
  await selectByLabel(driver, 'event-service-select', 'Confocal');
  await selectByLabel(driver, 'event-user-select', 'Uma User');
  await type(driver, 'event-title-input', 'Live imaging');
  await setValue(driver, 'event-start', localInput(60));
  await setValue(driver, 'event-end', localInput(120));
  await click(driver, 'event-save');
  await waitFor(driver, async () => (await findAll(driver, 'event-row')).length === 1, 'event listed');
  const eventId = await (await find(driver, 'event-row')).getAttribute('data-event-id');

  await waitFor(driver, async () => received.length === 1, 'the receiver got the webhook', 15000);
  const r = received[0];
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/bookings?site=b2');
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers['x-facility'], 'core-imaging');
  assert.equal(r.headers.authorization, `Basic ${Buffer.from('station:e2e-basic-secret').toString('base64')}`);
  assert.deepEqual(JSON.parse(r.body), { order_id: null, event_id: eventId, room: 'B2.114' });

  // The delivery log shows the attempt.
  await click(driver, 'nav-deliveries');
  await find(driver, 'deliveries-screen');
  await waitFor(driver, async () => (await findAll(driver, 'delivery-row')).length === 1, 'one attempt logged', 15000);
  const row = await find(driver, 'delivery-row');
  assert.equal(await row.getAttribute('data-outcome'), 'delivered');
  const rowText = await row.getText();
  assert.match(rowText, /LIMS booking feed/);
  assert.match(rowText, /200/);
  assert.doesNotMatch(rowText, /e2e-basic-secret/);
  await click(driver, 'delivery-webhook');
  await find(driver, 'delivery-detail');
  await screenshot(driver, '15-delivery-log');
});
