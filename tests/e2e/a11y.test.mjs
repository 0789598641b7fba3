// Accessibility in the real WebKit window: axe-core (the npm package) runs inside the app on every
// main screen and dialog (first run, sign-in with the station status, the station and schedule for
// an instrument user and for staff, every staff screen, the editors), and no serious or critical
// violation may remain. Then an instrument user signs in, unlocks and locks with the keyboard only
// (Tab, typing, Enter): the relay simulator sees both commands, focus stays on the pressed button
// while it works, and the state change reaches the live region. The per-screen results go to
// tests/e2e/artifacts/axe-report.json.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { By, Key } from 'selenium-webdriver';
import {
  axeViolations, click, find, findAll, newDataDir, openApp, signIn, startRelaySim, stationCli, waitFor,
} from './harness.mjs';

const report = {};
let sim;
let app;

async function check(driver, screen) {
  const violations = await axeViolations(driver);
  report[screen] = violations;
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(blocking, [], `${screen}: serious or critical axe violations`);
}

before(async () => {
  sim = await startRelaySim();
}, { timeout: 30000 });
after(async () => {
  await app?.stop();
  await sim?.stop();
  const dir = path.resolve(import.meta.dirname, 'artifacts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'axe-report.json'), JSON.stringify(report, null, 2));
  for (const [screen, v] of Object.entries(report)) {
    const by = (impact) => v.filter((x) => x.impact === impact).length;
    console.log(`# axe ${screen}: critical ${by('critical')}, serious ${by('serious')}, moderate ${by('moderate')}, minor ${by('minor')}${v.length ? ` (${v.map((x) => x.id).join(', ')})` : ''}`);
  }
});

test('the first-run screen has no serious or critical axe violations', { timeout: 120000 }, async () => {
  const empty = await openApp(newDataDir());
  try {
    await find(empty.driver, 'setup-screen');
    await check(empty.driver, 'first-run');
    // The check can fail: an image without alt text planted in the page is reported as critical.
    await empty.driver.executeScript(
      'const i = document.createElement("img"); i.id = "axe-probe"; i.src = "icon.png"; document.body.append(i);',
    );
    const planted = await axeViolations(empty.driver);
    assert.ok(
      planted.some((v) => v.id === 'image-alt' && v.impact === 'critical' && v.nodes.includes('#axe-probe')),
      JSON.stringify(planted),
    );
    await empty.driver.executeScript('document.getElementById("axe-probe").remove();');
  } finally {
    await empty.stop();
  }
});

/** The element that has the keyboard focus, by its data-testid ('' for none, e.g. <body>). */
async function focused(driver) {
  return (await driver.switchTo().activeElement().getAttribute('data-testid')) ?? '';
}

/** Presses Tab until the focus is on `testid` (at most `max` presses). */
async function tabTo(driver, testid, max = 40) {
  for (let i = 0; i < max; i++) {
    if ((await focused(driver)) === testid) return i;
    await driver.switchTo().activeElement().sendKeys(Key.TAB);
  }
  assert.fail(`${testid} not reached with ${max} Tab presses (focus on "${await focused(driver)}")`);
}

test('keyboard only: sign in, unlock and lock; then every screen passes axe', { timeout: 300000 }, async () => {
  const dataDir = newDataDir();
  stationCli(dataDir, ['demo-seed', '--relay', sim.url]);
  app = await openApp(dataDir);
  const { driver } = app;

  await find(driver, 'signin-screen');
  await check(driver, 'sign-in (station status)');

  // The form focuses the username field itself; from there on only keys.
  assert.equal(await focused(driver), 'signin-username');
  await driver.switchTo().activeElement().sendKeys('user', Key.TAB, 'demo-user', Key.ENTER);
  await find(driver, 'station-screen');
  await find(driver, 'interlock-unlock');
  const presses = await tabTo(driver, 'interlock-unlock');
  await driver.switchTo().activeElement().sendKeys(Key.ENTER);
  // Focus stays on the pressed button while it works and after (no fall to <body>).
  await waitFor(driver, async () => (await sim.state()).state === 'unlocked', 'relay unlocked', 15000);
  await waitFor(driver, async () => (await (await find(driver, 'interlock-state')).getText()) === 'Unlocked', 'shows Unlocked');
  assert.equal(await focused(driver), 'interlock-unlock', 'focus kept on Unlock');
  const live = await driver.findElement(By.css('[data-testid="interlock-panel"] [aria-live="polite"] [data-testid="interlock-state"]'));
  assert.equal(await live.getText(), 'Unlocked', 'the state is inside a polite live region');
  const region = await find(driver, 'interlock-panel');
  assert.equal(await region.getAttribute('role'), 'region');
  assert.match(await region.getAttribute('aria-label'), /^Interlock — Demo confocal$/);

  await tabTo(driver, 'interlock-lock', 3);
  await driver.switchTo().activeElement().sendKeys(Key.ENTER);
  await waitFor(driver, async () => (await sim.state()).state === 'locked', 'relay locked', 15000);
  await waitFor(driver, async () => (await (await find(driver, 'interlock-state')).getText()) === 'Locked', 'shows Locked');
  assert.equal(await focused(driver), 'interlock-lock', 'focus kept on Lock');
  console.log(`# keyboard: Unlock reached with ${presses} Tab presses after sign-in`);

  await check(driver, 'station (instrument user)');
  await click(driver, 'nav-schedule');
  await find(driver, 'schedule-screen');
  await check(driver, 'schedule (instrument user)');

  // Staff: every screen and the editors.
  await click(driver, 'sign-out');
  await signIn(driver, 'admin', 'demo-admin');
  await find(driver, 'interlock-panel');
  await check(driver, 'station (administrator)');

  const screens = [
    ['schedule', 'schedule-screen', 'event-new', 'event-editor'],
    ['orders', 'orders-screen', 'order-new', 'order-editor'],
    ['services', 'services-screen', 'service-new', 'service-editor'],
    ['webhooks', 'webhooks-screen', 'webhook-new', 'webhook-editor'],
    ['feeds', 'feeds-screen', 'feed-new', 'feed-editor'],
    ['deliveries', 'deliveries-screen'],
    ['audit', 'audit-screen'],
    ['usage', 'usage-screen'],
    ['accounts', 'accounts-screen', 'account-new', 'account-editor'],
    ['settings', 'settings-screen'],
  ];
  for (const [nav, screenId, newButton, editor] of screens) {
    await click(driver, `nav-${nav}`);
    await find(driver, screenId);
    if (nav === 'deliveries') {
      // The log has the lock and unlock attempts; open one row's details.
      const rows = await findAll(driver, 'delivery-time');
      if (rows.length > 0) await rows[0].click();
    }
    await check(driver, nav);
    if (newButton) {
      await click(driver, newButton);
      await find(driver, editor);
      await check(driver, `${nav}: editor`);
      // Escape closes the dialog.
      await driver.switchTo().activeElement().sendKeys(Key.ESCAPE);
      await waitFor(driver, async () => (await findAll(driver, editor)).length === 0, `${editor} closed by Escape`);
    }
  }
  await click(driver, 'switch-user');
  await find(driver, 'switch-user-dialog');
  await check(driver, 'switch user dialog');
  await driver.switchTo().activeElement().sendKeys(Key.ESCAPE);
});
