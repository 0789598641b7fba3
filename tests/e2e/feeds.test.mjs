// Bookings from the facility's calendar in the real window: staff add an iCalendar feed served by a
// small HTTP server in this test (with an ETag), sync it, and see the synced bookings on the
// Schedule (their source, read-only, "Booked by" for the person no account matched); the instrument
// user whose e-mail the calendar names finds the booking on the station screen ("from Facility
// calendar") and unlocks with it: the relay simulator receives the synced booking's id. A feed whose
// server answers 500 shows as failing with the reason. Screenshots for the README.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { By } from 'selenium-webdriver';
import {
  click, clickElement, find, findAll, importSchedule, newDataDir, openApp, screenshot, selectByLabel, signIn,
  startRelaySim, stationCli, text, type, waitFor,
} from './harness.mjs';

let app;
let sim;
let server;
let base;
const dataDir = newDataDir();
/** Every request the calendar server answered: { path, ifNoneMatch, status }. */
const served = [];
const ETAG = '"facility-v1"';

/** An iCalendar UTC date-time: 20261204T150000Z. */
const icsTime = (ms) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

function calendar() {
  const now = Date.now();
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Interlock Station e2e//Facility calendar//EN',
    'BEGIN:VEVENT',
    'UID:synced-imaging@facility.example.org',
    `DTSTAMP:${icsTime(now)}`,
    `DTSTART:${icsTime(now - 10 * 60000)}`,
    `DTEND:${icsTime(now + 50 * 60000)}`,
    'SUMMARY:Synced imaging',
    'ATTENDEE;CN=Uma:mailto:uma@example.org',
    'END:VEVENT',
    'BEGIN:VEVENT',
    'UID:visitor-session@facility.example.org',
    `DTSTAMP:${icsTime(now)}`,
    `DTSTART:${icsTime(now + 90 * 60000)}`,
    `DTEND:${icsTime(now + 150 * 60000)}`,
    'SUMMARY:Visitor session',
    'ATTENDEE;CN=Vera Visitor:mailto:vera@elsewhere.org',
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

function startCalendarServer() {
  const ics = calendar();
  const srv = http.createServer((req, res) => {
    const ifNoneMatch = req.headers['if-none-match'] ?? null;
    // One request per connection: every sync opens its own.
    res.setHeader('Connection', 'close');
    let status;
    if (req.url === '/facility.ics') {
      if (ifNoneMatch === ETAG) {
        status = 304;
        res.writeHead(304, { ETag: ETAG });
        res.end();
      } else {
        status = 200;
        res.writeHead(200, { 'Content-Type': 'text/calendar; charset=utf-8', ETag: ETAG });
        res.end(ics);
      }
    } else if (req.url === '/broken.ics') {
      status = 500;
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('calendar backend down');
    } else {
      status = 404;
      res.writeHead(404);
      res.end();
    }
    served.push({ path: req.url, ifNoneMatch, status });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

before(async () => {
  sim = await startRelaySim();
  server = await startCalendarServer();
  base = `http://127.0.0.1:${server.address().port}`;
  stationCli(dataDir, ['demo-seed', '--relay', sim.url]);
  stationCli(dataDir, ['account', 'set-email', 'user', 'uma@example.org']);
  // demo-seed books the demo instrument for `user` now; the calendar's booking goes on a second
  // instrument with the simulator's three interlock webhooks (config import, all or nothing).
  importSchedule(dataDir, { services: [{ name: 'Feed scope', tags: ['has_interlock'] }], events: [] });
  const configFile = path.join(dataDir, 'config.json');
  stationCli(dataDir, ['config', 'export', configFile]);
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  const service = config.services.find((s) => s.name === 'Feed scope');
  const hook = (id, name, sub, verb) => ({
    id, name, enabled: true, action: `interlock/${sub}`, service_id: service.id, url: `${sim.url}/${sub}`,
    verb, insecure: false, headers: [], auth: 'none', body: {}, timeout_secs: 5, signing: false, ca_pem: null,
  });
  config.webhooks.push(
    hook('01JFEEDSCOPEUNLOCK0000000', 'Feed scope unlock', 'unlock', 'POST'),
    hook('01JFEEDSCOPELOCK00000000', 'Feed scope lock', 'lock', 'POST'),
    hook('01JFEEDSCOPESTATUS000000', 'Feed scope status', 'status', 'GET'),
  );
  writeFileSync(configFile, JSON.stringify(config));
  stationCli(dataDir, ['config', 'import', configFile]);
  app = await openApp(dataDir);
}, { timeout: 120000 });
after(async () => {
  await app?.stop();
  await sim?.stop();
  await new Promise((r) => (server ? server.close(r) : r()));
});

const rowNamed = async (driver, testid, attr, value) => {
  const rows = await driver.findElements(By.css(`[data-testid="${testid}"][${attr}="${value}"]`));
  return rows[0] ?? null;
};
const inside = async (el, id) => el.findElements(By.css(`[data-testid="${id}"]`));
/** The Schedule row whose title is `title`. */
async function eventRow(driver, title) {
  for (const row of await findAll(driver, 'event-row')) {
    const t = await (await row.findElement(By.css('[data-testid="event-row-title"]'))).getText();
    if (t.startsWith(title)) return row;
  }
  return null;
}

test('staff sync a calendar feed; the user unlocks with the synced booking; a failing feed says why', { timeout: 240000 }, async () => {
  const { driver } = app;
  await signIn(driver, 'staff', 'demo-staff');
  await click(driver, 'nav-feeds');
  await find(driver, 'feeds-screen');
  assert.equal(await (await driver.findElement(By.css('[data-testid="feeds-screen"] h1'))).getText(), 'Calendar feeds');
  await find(driver, 'feeds-empty');

  // The editor: created disabled, so the background worker does not sync it before "Sync now".
  await click(driver, 'feed-new');
  await find(driver, 'feed-editor');
  await selectByLabel(driver, 'feed-service', 'Feed scope');
  await type(driver, 'feed-name', 'Facility calendar');
  await type(driver, 'feed-url', `${base}/facility.ics`);
  await click(driver, 'feed-enabled');
  await screenshot(driver, '31-feed-editor');
  await click(driver, 'feed-save');
  await waitFor(driver, async () => (await findAll(driver, 'feed-editor')).length === 0, 'the editor closes');
  await waitFor(driver, async () => (await rowNamed(driver, 'feed-row', 'data-name', 'Facility calendar')) !== null, 'the feed is listed');
  assert.equal(served.length, 0, 'a disabled feed is not fetched on its own');

  let row = await rowNamed(driver, 'feed-row', 'data-name', 'Facility calendar');
  await clickElement(driver, (await inside(row, 'feed-sync'))[0]);
  const banner = await find(driver, 'feed-sync-result');
  await waitFor(driver, async () => /created 2/.test(await banner.getText()), 'Sync now reports "created 2"', 20000);
  assert.match(await banner.getText(), /^Facility calendar: created 2, updated 0, removed 0, unchanged 0/);
  assert.match(await banner.getText(), /1 not matched to an account/);
  row = await rowNamed(driver, 'feed-row', 'data-name', 'Facility calendar');
  await waitFor(driver, async () => (await (await inside(row, 'feed-row-bookings'))[0].getText()) === '2', 'the feed holds 2 bookings');
  assert.equal((await inside(row, 'feed-row-failing')).length, 0);

  // Enabled again: the worker syncs it at once, a conditional GET the server answers 304.
  await clickElement(driver, (await inside(row, 'feed-edit'))[0]);
  await find(driver, 'feed-editor');
  await click(driver, 'feed-enabled');
  await click(driver, 'feed-save');
  await waitFor(driver, async () => (await findAll(driver, 'feed-editor')).length === 0, 'the editor closes');
  await waitFor(driver, async () => served.some((s) => s.status === 304 && s.ifNoneMatch === ETAG), 'a conditional GET answered 304', 30000);
  await screenshot(driver, '30-feeds-screen');

  // The Schedule: the synced booking with its source, read-only; the visitor "Booked by".
  await click(driver, 'nav-schedule');
  await find(driver, 'schedule-screen');
  await waitFor(driver, async () => (await eventRow(driver, 'Synced imaging')) !== null, 'the synced booking is listed');
  const synced = await eventRow(driver, 'Synced imaging');
  const syncedId = await synced.getAttribute('data-event-id');
  assert.ok(syncedId, 'the row carries the booking id');
  assert.equal(await (await inside(synced, 'event-source'))[0].getText(), 'From Facility calendar');
  assert.equal((await inside(synced, 'event-edit')).length, 0, 'no Edit on a synced booking');
  assert.equal(await (await inside(synced, 'event-read-only'))[0].getText(), 'Read-only: change it in Facility calendar');
  assert.equal(await (await inside(synced, 'event-row-user'))[0].getText(), 'Uma User');
  const visitor = await eventRow(driver, 'Visitor session');
  assert.equal(await (await inside(visitor, 'event-row-user'))[0].getText(), 'Booked by Vera Visitor');
  assert.equal((await inside(visitor, 'event-edit')).length, 0);
  const local = await eventRow(driver, 'Demo imaging session');
  assert.equal((await inside(local, 'event-edit')).length, 1, 'local bookings stay editable');
  await screenshot(driver, '32-schedule-synced');

  // A feed whose server fails: Failing, with the HTTP status.
  await click(driver, 'nav-feeds');
  await find(driver, 'feeds-screen');
  await click(driver, 'feed-new');
  await find(driver, 'feed-editor');
  await selectByLabel(driver, 'feed-service', 'Demo confocal');
  await type(driver, 'feed-name', 'Broken calendar');
  await type(driver, 'feed-url', `${base}/broken.ics`);
  await click(driver, 'feed-save');
  await waitFor(driver, async () => (await findAll(driver, 'feed-editor')).length === 0, 'the editor closes');
  await waitFor(driver, async () => (await rowNamed(driver, 'feed-row', 'data-name', 'Broken calendar')) !== null, 'the broken feed is listed');
  // Saved enabled, the worker syncs it at once and records the failure; the list shows it.
  await waitFor(driver, async () => {
    await click(driver, 'nav-schedule');
    await click(driver, 'nav-feeds');
    const r = await rowNamed(driver, 'feed-row', 'data-name', 'Broken calendar');
    return (await inside(r, 'feed-row-failing')).length === 1;
  }, 'the Failing badge', 30000);
  // Sync now says the same.
  const broken = await rowNamed(driver, 'feed-row', 'data-name', 'Broken calendar');
  await clickElement(driver, (await inside(broken, 'feed-sync'))[0]);
  await waitFor(driver, async () => /HTTP 500/.test(await text(driver, 'feed-sync-result')), 'Sync now names the 500', 45000);
  assert.match(await text(driver, 'feed-sync-result'), /^Broken calendar: Failed: /);
  const failing = await rowNamed(driver, 'feed-row', 'data-name', 'Broken calendar');
  assert.match(await (await inside(failing, 'feed-row-error'))[0].getText(), /HTTP 500/);
  assert.equal(await failing.getAttribute('data-failing'), 'true');
  const good = await rowNamed(driver, 'feed-row', 'data-name', 'Facility calendar');
  assert.equal((await inside(good, 'feed-row-failing')).length, 0, 'the other feed is not failing');
  await screenshot(driver, '34-feed-failing');

  // The user whose e-mail the calendar names: their booking, from the calendar, and Unlock.
  await click(driver, 'sign-out');
  await signIn(driver, 'user', 'demo-user');
  const card = await driver.wait(async () => (await rowNamed(driver, 'instrument-card', 'data-service-name', 'Feed scope')), 15000, 'Feed scope card');
  const current = (await inside(card, 'instrument-current'))[0];
  await waitFor(driver, async () => /Your booking/.test(await current.getText()), '"Your booking" on Feed scope');
  assert.match(await current.getText(), /Synced imaging/);
  assert.equal(await (await inside(current, 'booking-source'))[0].getText(), '· from Facility calendar');
  const panel = await rowNamed(driver, 'interlock-panel', 'data-service-name', 'Feed scope');
  await waitFor(driver, async () => (await inside(panel, 'interlock-unlock')).length === 1, 'Unlock on Feed scope');
  await screenshot(driver, '33-station-synced-booking');
  const before = (await sim.state()).history.length;
  await clickElement(driver, (await inside(panel, 'interlock-unlock'))[0]);
  await waitFor(driver, async () => (await sim.state()).state === 'unlocked', 'the simulator is unlocked', 15000);
  const unlock = (await sim.state()).history.slice(before).find((h) => h.path === '/unlock');
  assert.ok(unlock, 'the unlock reached the simulator');
  assert.equal(unlock.body.event_id, syncedId, 'the payload names the synced booking');
});
