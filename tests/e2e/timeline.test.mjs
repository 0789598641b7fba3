// The day timeline in the real window against the relay simulator: an instrument user's station
// shows today per instrument with their own booking (and its interlock window shaded), another
// user's booking only as "Booked", the now line, and the relay's state along the day; after the
// user unlocks, the strip shows the unlocked stretch. The page fits 1280×800 and 1920×1080 without
// scrolling sideways; the week view on Schedule too. Screenshots for the README in both sizes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { By } from 'selenium-webdriver';
import {
  axeViolations, click, find, findAll, importSchedule, newDataDir, openApp, screenshot, signIn, startRelaySim, stationCli,
  waitFor,
} from './harness.mjs';

let app;
let sim;
const dataDir = newDataDir();

before(async () => {
  sim = await startRelaySim();
  stationCli(dataDir, ['demo-seed', '--relay', sim.url]);
  // Another user's booking two hours before now on the same instrument (today unless it is just
  // after midnight: then it is not on today's axis and not asserted).
  const start = new Date(Date.now() - 3 * 3600e3);
  importSchedule(dataDir, {
    services: [{ name: 'Demo confocal', tags: ['has_interlock', 'demo'] }],
    events: [{
      service: 'Demo confocal', user: 'staff', title: 'Alignment',
      starts_at: start.toISOString(), ends_at: new Date(start.getTime() + 3600e3).toISOString(),
    }],
  });
  app = await openApp(dataDir);
}, { timeout: 120000 });
after(async () => {
  await app?.stop();
  await sim?.stop();
});

const sameLocalDay = (a, b) => a.toDateString() === b.toDateString();

async function noSidewaysScroll(driver, where) {
  const [scroll, client] = await driver.executeScript(
    'return [document.documentElement.scrollWidth, document.documentElement.clientWidth]',
  );
  assert.ok(scroll <= client, `${where}: the page scrolls sideways (${scroll} > ${client})`);
}

test('an instrument user sees today on the timeline, with the relay state along it', { timeout: 240000 }, async () => {
  const { driver } = app;
  await signIn(driver, 'user', 'demo-user');
  const timeline = await find(driver, 'station-timeline');
  assert.equal(await timeline.getAttribute('aria-label'), 'Today on this station');
  const row = await driver.findElement(By.css('[data-testid="timeline-row"][data-service-name="Demo confocal"]'));
  const labels = async () => Promise.all((await row.findElements(By.css('[data-testid="timeline-booking"]')))
    .map((b) => b.getAttribute('aria-label')));
  const shown = await labels();
  assert.ok(shown.some((l) => l.startsWith('Your booking: Demo imaging session, ')), shown.join(' | '));
  if (sameLocalDay(new Date(Date.now() - 3 * 3600e3), new Date())) {
    assert.ok(shown.some((l) => l.startsWith('Booked, ')), `another user's booking as "Booked": ${shown.join(' | ')}`);
    assert.ok(!shown.some((l) => l.includes('Alignment') || l.includes('Sam')), 'no title or name of others');
  }
  assert.equal((await row.findElements(By.css('[data-testid="timeline-window"]'))).length, 1, 'own window shaded');
  assert.equal((await row.findElements(By.css('[data-testid="timeline-now"]'))).length, 1, 'now line');
  // The status watch read the relay at start: locked, up to now.
  await waitFor(driver, async () => (await row.findElements(By.css('[data-testid="timeline-state"][data-state="locked"]'))).length > 0,
    'a locked stretch', 15000);

  // Unlock; the station screen reloads (leave and come back) and the strip has the unlocked stretch.
  await click(driver, 'interlock-unlock');
  await waitFor(driver, async () => (await sim.state()).state === 'unlocked', 'relay unlocked', 15000);
  await waitFor(driver, async () => (await (await find(driver, 'interlock-state')).getText()) === 'Unlocked', 'shows Unlocked');
  await click(driver, 'nav-schedule');
  await click(driver, 'nav-station');
  await find(driver, 'station-timeline');
  await waitFor(driver, async () => {
    const r = await driver.findElement(By.css('[data-testid="timeline-row"][data-service-name="Demo confocal"]'));
    const states = await Promise.all((await r.findElements(By.css('[data-testid="timeline-state"]'))).map((s) => s.getAttribute('data-state')));
    return states.at(-1) === 'unlocked' && states.includes('locked');
  }, 'locked then unlocked along the day', 15000);

  await noSidewaysScroll(driver, 'station at 1280×800');
  await screenshot(driver, '25-station-timeline-1280');
  const blocking = (await axeViolations(driver)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(blocking, []);

  await click(driver, 'nav-schedule');
  await click(driver, 'schedule-view-week');
  const week = await find(driver, 'schedule-week');
  assert.equal(await week.getAttribute('aria-label'), 'This week on this station');
  assert.equal((await week.findElements(By.css('[data-testid="timeline-tick"]'))).length, 7, 'seven day marks');
  await noSidewaysScroll(driver, 'week view at 1280×800');
  await screenshot(driver, '26-schedule-week-1280');
  assert.deepEqual((await axeViolations(driver)).filter((v) => v.impact === 'serious' || v.impact === 'critical'), []);

  // A 1920×1080 kiosk-sized window.
  await driver.manage().window().setRect({ x: 0, y: 0, width: 1920, height: 1080 });
  await waitFor(driver, async () => (await driver.executeScript('return window.innerWidth')) >= 1800, 'window resized');
  await click(driver, 'nav-station');
  await find(driver, 'station-timeline');
  await noSidewaysScroll(driver, 'station at 1920×1080');
  await screenshot(driver, '27-station-timeline-1920');
  const rows = await findAll(driver, 'timeline-row');
  assert.ok(rows.length >= 1);
});
