// The lock tags in the real window against the relay simulator: the demo instrument carries
// set_end_on_lock and post_lock (set through `config import`, the same rules as the wizard). The
// instrument user unlocks and locks inside their booking; the panel shows the post-lock link with
// its placeholders filled in (URL-encoded) and the new end; the Schedule screen shows the booking
// ending at the lock time instead of its booked end. Then staff see the actual use on the Usage
// screen, and `usage export` writes it as CSV.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { By } from 'selenium-webdriver';
import {
  click, find, findAll, newDataDir, openApp, screenshot, signIn, startRelaySim, stationCli, text, waitFor,
} from './harness.mjs';

let app;
let sim;
const dataDir = newDataDir();
const POST_LOCK = 'https://logbook.example.org/use/{service}?event={event_id}&order={order_id}&who={username}';

before(async () => {
  sim = await startRelaySim();
  stationCli(dataDir, ['demo-seed', '--relay', sim.url]);
  const file = path.join(dataDir, 'config.json');
  stationCli(dataDir, ['config', 'export', file]);
  const config = JSON.parse(readFileSync(file, 'utf8'));
  const demo = config.services.find((s) => s.name === 'Demo confocal');
  demo.tags.push('set_end_on_lock', `post_lock:${POST_LOCK}`);
  writeFileSync(file, JSON.stringify(config));
  stationCli(dataDir, ['config', 'import', file]);
  app = await openApp(dataDir);
}, { timeout: 120000 });
after(async () => {
  await app?.stop();
  await sim?.stop();
});

const panel = (driver) => driver.findElement(By.css('[data-testid="interlock-panel"][data-service-name="Demo confocal"]'));
const inPanel = async (id) => (await panel(app.driver)).findElement(By.css(`[data-testid="${id}"]`));

async function bookingTime(driver) {
  await click(driver, 'nav-schedule');
  await find(driver, 'schedule-screen');
  const rows = await findAll(driver, 'event-row-time');
  assert.equal(rows.length, 1, 'the user sees their one booking');
  return rows[0].getText();
}

test('a user locks: the booking ends at the lock time on the Schedule and the post-lock link is filled in', { timeout: 180000 }, async () => {
  const { driver } = app;
  await signIn(driver, 'user', 'demo-user');
  const booked = await bookingTime(driver);
  await click(driver, 'nav-station');
  await find(driver, 'station-screen');

  await (await inPanel('interlock-unlock')).click();
  await waitFor(driver, async () => (await sim.state()).state === 'unlocked', 'the simulator is unlocked');
  await waitFor(driver, async () => (await (await inPanel('interlock-lock')).isEnabled()), 'Lock enabled again');
  await (await inPanel('interlock-lock')).click();
  await waitFor(driver, async () => (await sim.state()).state === 'locked', 'the simulator is locked');

  const lock = (await sim.state()).history.filter((h) => h.path === '/lock').at(-1);
  const eventId = lock.body.event_id;
  assert.ok(eventId, 'the lock names the booking');
  const shown = await waitFor(driver, async () => (await inPanel('interlock-post-lock-url')).getText(), 'the post-lock link');
  assert.equal(
    shown,
    `https://logbook.example.org/use/Demo%20confocal?event=${encodeURIComponent(eventId)}&order=&who=user`,
  );
  const moved = await (await inPanel('interlock-end-moved')).getText();
  const m = moved.match(/ends at (\d\d:\d\d):\d\d/);
  assert.ok(m, moved);
  await screenshot(driver, '22-post-lock-link');

  const now = await bookingTime(driver);
  assert.notEqual(now, booked, 'the end moved');
  assert.ok(now.endsWith(`–${m[1]}`), `${now} ends at the lock time ${m[1]} (was ${booked})`);
  await screenshot(driver, '23-schedule-end-moved');
});

test('staff see the actual use on the Schedule and the Usage screen; usage export writes it', { timeout: 120000 }, async () => {
  const { driver } = app;
  await click(driver, 'sign-out');
  await signIn(driver, 'staff', 'demo-staff');
  await click(driver, 'nav-schedule');
  await find(driver, 'schedule-screen');
  const usage = await text(driver, 'event-row-usage');
  assert.match(usage, /unlocked by user, locked by user/);
  assert.match(usage, /booked until/);
  await click(driver, 'nav-usage');
  const row = await find(driver, 'usage-total-row');
  assert.equal(await row.getAttribute('data-username'), 'user');
  assert.equal(await text(driver, 'usage-total-used-bookings'), '1');
  await screenshot(driver, '24-usage-screen');

  // The booking started 10 minutes before the test: yesterday near midnight.
  const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  const from = day(new Date(Date.now() - 24 * 3600e3));
  const csv = stationCli(dataDir, ['usage', 'export', '--from', from, '--to', day(new Date())]);
  const [header, first] = csv.split('\r\n');
  assert.ok(header.startsWith('event_id,service,username,'), header);
  assert.match(first, /,Demo confocal,user,/);
});
