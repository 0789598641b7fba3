// The interlock panel in the real window against the relay simulator: the user signs in inside
// their window, clicks Unlock, the simulator is unlocked and the indicator reads Unlocked; for a
// booking that has not opened yet there are no buttons; with the relay failing the error banner
// shows the reason. Screenshots for the README.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { By } from 'selenium-webdriver';
import {
  click, find, findAll, importSchedule, newDataDir, openApp, screenshot, signIn, startRelaySim, stationCli, text, waitFor,
} from './harness.mjs';

let app;
let sim;
const dataDir = newDataDir();

before(async () => {
  sim = await startRelaySim();
  stationCli(dataDir, ['demo-seed', '--relay', sim.url]);
  const inAday = new Date(Date.now() + 24 * 3600e3);
  importSchedule(dataDir, {
    services: [{ name: 'Cryo-EM', tags: ['has_interlock'] }],
    events: [{
      service: 'Cryo-EM', user: 'user', title: 'Grid screening',
      starts_at: inAday.toISOString(), ends_at: new Date(inAday.getTime() + 3600e3).toISOString(),
    }],
  });
  app = await openApp(dataDir);
}, { timeout: 120000 });
after(async () => {
  await app?.stop();
  await sim?.stop();
});

const panelOf = (driver, name) => driver.findElement(By.css(`[data-testid="interlock-panel"][data-service-name="${name}"]`));
const inPanel = async (panel, id) => panel.findElements(By.css(`[data-testid="${id}"]`));

test('an instrument user unlocks inside their window; outside it there are no buttons; failures show', { timeout: 180000 }, async () => {
  const { driver } = app;
  await signIn(driver, 'user', 'demo-user');
  await waitFor(driver, async () => (await findAll(driver, 'interlock-panel')).length === 2, 'two interlock panels');

  // Outside the window: no buttons, and when the controls open.
  const later = await panelOf(driver, 'Cryo-EM');
  assert.equal((await inPanel(later, 'interlock-unlock')).length, 0);
  assert.equal((await inPanel(later, 'interlock-lock')).length, 0);
  const closedMsg = await (await inPanel(later, 'interlock-closed-message'))[0].getText();
  assert.match(closedMsg, /^Controls open at .*\d\d:\d\d, in /);

  // Inside the window: Unlock reaches the relay and the indicator reads what was read back.
  const demo = await panelOf(driver, 'Demo confocal');
  await (await inPanel(demo, 'interlock-countdown'))[0];
  await (await inPanel(demo, 'interlock-unlock'))[0].click();
  await waitFor(driver, async () => (await sim.state()).state === 'unlocked', 'the simulator is unlocked');
  await waitFor(driver, async () => (await (await inPanel(await panelOf(driver, 'Demo confocal'), 'interlock-state'))[0].getAttribute('data-state')) === 'unlocked', 'indicator reads Unlocked');
  const history = (await sim.state()).history;
  const unlock = history.find((h) => h.path === '/unlock');
  assert.ok(unlock.body.event_id, 'the payload names the booking');
  assert.ok('order_id' in unlock.body);
  await screenshot(driver, '16-interlock-panel-unlocked');

  // The relay fails: the banner shows the reason and stays.
  await sim.mode('fail', { status: 503 });
  await (await inPanel(await panelOf(driver, 'Demo confocal'), 'interlock-lock'))[0].click();
  const banner = await find(driver, 'interlock-error-banner');
  await waitFor(driver, async () => /HTTP 503 Service Unavailable/.test(await banner.getText()), 'banner names the 503');
  assert.match(await banner.getText(), /Interlock error — Demo confocal/);
  await screenshot(driver, '17-interlock-error-banner');
  await click(driver, 'nav-schedule');
  await click(driver, 'nav-station');
  await find(driver, 'interlock-error-banner');
  await click(driver, 'interlock-error-dismiss');
  await waitFor(driver, async () => (await findAll(driver, 'interlock-error-banner')).length === 0, 'banner dismissed');
  await sim.mode('normal');

  // Staff step in at any time, and see the audit log.
  await click(driver, 'sign-out');
  await signIn(driver, 'staff', 'demo-staff');
  // For staff the booking window does not apply: no "Controls open at" on Cryo-EM (it only lacks
  // webhooks), and the controls with a reason field on the demo instrument.
  const cryo = await panelOf(driver, 'Cryo-EM');
  assert.equal((await inPanel(cryo, 'interlock-closed-message')).length, 0);
  const noWebhooks = await inPanel(cryo, 'interlock-no-webhooks');
  assert.equal(noWebhooks.length, 1);
  // Staff are told where to fix it (instrument users would be told to ask facility staff).
  assert.equal(
    await noWebhooks[0].getText(),
    'No interlock webhooks configured. Add an interlock lock and unlock webhook for this service in Webhooks.',
  );
  const staffPanel = await panelOf(driver, 'Demo confocal');
  assert.equal((await inPanel(staffPanel, 'interlock-unlock')).length, 1);
  assert.equal((await inPanel(staffPanel, 'interlock-reason')).length, 1);
  await screenshot(driver, '18-interlock-staff');
  await click(driver, 'nav-audit');
  await find(driver, 'audit-screen');
  await waitFor(driver, async () => (await findAll(driver, 'audit-row')).length >= 2, 'audit rows');
  const results = await Promise.all((await findAll(driver, 'audit-row')).map((r) => r.getAttribute('data-result')));
  assert.deepEqual(results.slice(0, 2), ['failed', 'ok']);
  assert.match(await text(driver, 'audit-screen'), /user/);
  await screenshot(driver, '19-interlock-audit');
});
