// Times in the station's OS locale, in the real window and on the command line: the same demo
// station started with LANG=en_US.UTF-8 reads "9:37 AM" and "Sun, Nov 29", with LANG=de_DE.UTF-8
// "09:37" and "So., 29. Nov."; the CLI's `prune` says its cutoff date the same way.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import {
  appBinary, click, find, findAll, newDataDir, openApp, signIn, startRelaySim, stationCli, waitFor,
} from './harness.mjs';

let sim;
let app;
after(async () => {
  await app?.stop();
  await sim?.stop();
});

// ICU writes a (narrow) no-break space before AM/PM.
const TWELVE_HOUR = /\b(1[0-2]|[1-9]):[0-5]\d[\s\u202f](AM|PM)\b/;
const TWENTY_FOUR_HOUR = /\b([01]\d|2[0-3]):[0-5]\d\b/;

async function bookingTexts(locale) {
  const dataDir = newDataDir();
  sim ??= await startRelaySim();
  stationCli(dataDir, ['demo-seed', '--relay', sim.url]);
  const env = { LANG: locale, LC_ALL: '', LC_TIME: '' };
  app = await openApp(dataDir, { env });
  const { driver } = app;
  await find(driver, 'signin-screen');
  await waitFor(driver, async () => (await findAll(driver, 'lock-booking')).length === 1, 'the lock screen lists the instrument');
  const lockScreen = await (await find(driver, 'lock-booking')).getText();
  const lang = await driver.executeScript('return document.documentElement.lang');
  await signIn(driver, 'admin', 'demo-admin');
  await click(driver, 'nav-schedule');
  await waitFor(driver, async () => (await findAll(driver, 'event-row')).length === 1, 'one booking listed');
  const schedule = await (await find(driver, 'event-row')).getText();
  await app.stop();
  app = null;
  const cli = execFileSync(appBinary, ['--data-dir', dataDir, 'prune'], {
    encoding: 'utf8', env: { ...process.env, ...env },
  });
  return { lockScreen, lang, schedule, cli };
}

test('en_US: 12-hour times and month-first dates in the window and the CLI', { timeout: 180000 }, async () => {
  const t = await bookingTexts('en_US.UTF-8');
  console.log(`# en_US: lock screen "${t.lockScreen}"; schedule "${t.schedule.replace(/\n/g, ' | ')}"; cli "${t.cli.trim()}"`);
  assert.equal(t.lang, 'en-US');
  assert.match(t.lockScreen, /^Booked /);
  assert.match(t.lockScreen, TWELVE_HOUR);
  assert.match(t.schedule, TWELVE_HOUR);
  assert.match(t.schedule, /\b(Sun|Mon|Tue|Wed|Thu|Fri|Sat), (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}\b/);
  assert.match(t.cli, /since \d{2}\/\d{2}\/\d{4} (1[0-2]|[1-9]):[0-5]\d (AM|PM)\)/);
});

test('de_DE: 24-hour times and German day names in the window and the CLI', { timeout: 180000 }, async () => {
  const t = await bookingTexts('de_DE.UTF-8');
  console.log(`# de_DE: lock screen "${t.lockScreen}"; schedule "${t.schedule.replace(/\n/g, ' | ')}"; cli "${t.cli.trim()}"`);
  assert.equal(t.lang, 'de-DE');
  assert.match(t.lockScreen, TWENTY_FOUR_HOUR);
  assert.doesNotMatch(t.lockScreen, /AM|PM/);
  assert.match(t.schedule, /\b(So|Mo|Di|Mi|Do|Fr|Sa)\., \d{1,2}\. /);
  assert.doesNotMatch(t.schedule, /AM|PM/);
  assert.match(t.cli, /since \d{2}\.\d{2}\.\d{4} ([01]\d|2[0-3]):[0-5]\d\)/);
});
