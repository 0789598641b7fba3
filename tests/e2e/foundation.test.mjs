// The foundation flow in the real window: empty database -> create administrator -> sign in ->
// create a service tagged has_interlock, an instrument user and an event for that user -> sign out
// -> sign in as the user -> the user sees their own event and not others'.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  appBinary, click, find, findAll, localInput, newDataDir, openApp, screenshot, selectByLabel, setValue, text, type,
  waitFor,
} from './harness.mjs';

let app;
const dataDir = newDataDir();

before(async () => { app = await openApp(dataDir); }, { timeout: 120000 });
after(async () => { await app?.stop(); });

async function signIn(driver, username, password) {
  await find(driver, 'signin-screen');
  await type(driver, 'signin-username', username);
  await type(driver, 'signin-password', password);
  await click(driver, 'signin-submit');
}

async function createAccount(driver, username, displayName, role, email = '') {
  await click(driver, 'nav-accounts');
  await find(driver, 'accounts-screen');
  await click(driver, 'account-new');
  await find(driver, 'account-editor');
  await type(driver, 'account-username', username);
  await type(driver, 'account-display-name', displayName);
  await setValue(driver, 'account-role', role);
  await type(driver, 'account-password', `${username}-password`);
  if (email) await type(driver, 'account-email', email);
  await click(driver, 'account-save');
  await waitFor(driver, async () => (await driver.findElements({ css: `[data-testid="account-row"][data-username="${username}"]` })).length === 1,
    `account ${username} listed`);
}

async function createEvent(driver, { service, user, title, from, to }) {
  await click(driver, 'nav-schedule');
  await find(driver, 'schedule-screen');
  await click(driver, 'event-new');
  await find(driver, 'event-editor');
  await selectByLabel(driver, 'event-service-select', service);
  await selectByLabel(driver, 'event-user-select', user);
  await type(driver, 'event-title-input', title);
  await setValue(driver, 'event-start', localInput(from));
  await setValue(driver, 'event-end', localInput(to));
  await click(driver, 'event-save');
  await waitFor(driver, async () => {
    const titles = await Promise.all((await findAll(driver, 'event-row-title')).map((e) => e.getText()));
    return titles.includes(title);
  }, `event "${title}" listed`);
}

test('first run, staff set-up, and an instrument user sees only their own booking', { timeout: 180000 }, async () => {
  const { driver } = app;

  // Empty database: the first-run screen.
  await find(driver, 'setup-screen');
  await screenshot(driver, '01-first-run-setup');
  await type(driver, 'setup-username', 'admin');
  await type(driver, 'setup-display-name', 'Ada Admin');
  await type(driver, 'setup-password', 'admin-password');
  await type(driver, 'setup-password-confirm', 'admin-password');
  await click(driver, 'setup-submit');

  // Sign-in: a wrong password gets the one neutral message.
  await find(driver, 'signin-screen');
  await signIn(driver, 'admin', 'wrong-password');
  assert.equal(await text(driver, 'signin-error'), 'Wrong username or password.');
  await screenshot(driver, '02-sign-in-error');
  await signIn(driver, 'admin', 'admin-password');
  await find(driver, 'station-screen');
  assert.match(await text(driver, 'session-user'), /Ada Admin/);

  // A service tagged has_interlock through the tag wizard.
  await click(driver, 'nav-services');
  await find(driver, 'services-screen');
  await click(driver, 'service-new');
  await find(driver, 'service-editor');
  await type(driver, 'service-name', 'Confocal LSM 980');
  await type(driver, 'service-description', 'Zeiss confocal, room B2.114');
  await type(driver, 'tag-input', 'floor-2');
  await click(driver, 'tag-add');
  await click(driver, 'tag-interlock-enabled');
  await type(driver, 'tag-interlock-lead', '10');
  await type(driver, 'tag-interlock-post', '15');
  assert.equal(await text(driver, 'tag-interlock-preview'), 'has_interlock:10:15');
  await screenshot(driver, '03-service-editor-tag-wizard');
  await click(driver, 'service-save');
  const row = await find(driver, 'service-row');
  assert.match(await row.getText(), /opens 10 min before, closes 15 min after/);
  // A second service without interlock, for contrast on the station screen.
  await click(driver, 'service-new');
  await type(driver, 'service-name', 'Sequencer');
  await click(driver, 'service-save');
  await waitFor(driver, async () => (await findAll(driver, 'service-row')).length === 2, 'two services listed');
  await screenshot(driver, '04-services');

  // An instrument user, and another one whose booking Uma must not see.
  await createAccount(driver, 'uma', 'Uma User', 'instrument_user', 'Uma@Example.org');
  await createAccount(driver, 'vic', 'Vic Viewer', 'instrument_user');
  // The e-mail (optional) is stored lower-cased: calendar feeds' bookings that name it are Uma's.
  const umaRow = await driver.findElement({ css: '[data-testid="account-row"][data-username="uma"] [data-testid="account-row-email"]' });
  assert.equal(await umaRow.getText(), 'uma@example.org');
  await screenshot(driver, '05-accounts');

  await createEvent(driver, { service: 'Confocal', user: 'Uma User', title: 'Uma live imaging', from: -30, to: 90 });
  await createEvent(driver, { service: 'Confocal', user: 'Vic Viewer', title: 'Vic time lapse', from: 24 * 60, to: 26 * 60 });
  // Overlap is refused with a clear message.
  await click(driver, 'event-new');
  await selectByLabel(driver, 'event-service-select', 'Confocal');
  await selectByLabel(driver, 'event-user-select', 'Vic Viewer');
  await type(driver, 'event-title-input', 'Clash');
  await setValue(driver, 'event-start', localInput(0));
  await setValue(driver, 'event-end', localInput(60));
  await click(driver, 'event-save');
  assert.match(await text(driver, 'form-error'), /overlaps another booking on Confocal LSM 980/);
  await screenshot(driver, '06-event-editor-overlap');
  await click(driver, 'event-cancel');
  await screenshot(driver, '07-schedule-staff');

  await click(driver, 'nav-station');
  await find(driver, 'station-screen');
  await waitFor(driver, async () => (await findAll(driver, 'instrument-card')).length === 2, 'two instruments on the station');
  await screenshot(driver, '08-station-staff');

  // Sign out, sign in as the instrument user.
  await click(driver, 'sign-out');
  await signIn(driver, 'uma', 'uma-password');
  await find(driver, 'station-screen');
  assert.match(await text(driver, 'session-user'), /Uma User/);
  assert.equal((await findAll(driver, 'nav-services')).length, 0, 'no services screen for users');
  assert.equal((await findAll(driver, 'nav-accounts')).length, 0, 'no accounts screen for users');
  const confocal = await find(driver, 'instrument-card');
  await waitFor(driver, async () => /Uma live imaging/.test(await confocal.getText()), 'own current booking on the station screen');
  await screenshot(driver, '09-station-user');

  await click(driver, 'nav-schedule');
  await find(driver, 'schedule-screen');
  await waitFor(driver, async () => (await findAll(driver, 'event-row')).length === 1, 'exactly one event for the user');
  const titles = await Promise.all((await findAll(driver, 'event-row-title')).map((e) => e.getText()));
  assert.deepEqual(titles, ['Uma live imaging']);
  assert.equal((await findAll(driver, 'event-new')).length, 0, 'users cannot create events');
  await screenshot(driver, '10-schedule-user');

  // A second launch hands over to this window and exits: two instances would send every webhook twice.
  const second = spawn(appBinary, ['--data-dir', dataDir], { stdio: 'ignore' });
  const code = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { second.kill('SIGKILL'); reject(new Error('the second instance did not exit')); }, 20000);
    second.once('exit', (c) => { clearTimeout(timer); resolve(c); });
  });
  assert.equal(code, 0);
  assert.match(await text(driver, 'session-user'), /Uma User/, 'the first window is still there, still signed in');

  // The log file says who signed in, never a password.
  const logDir = path.join(dataDir, 'logs');
  const logs = readdirSync(logDir).map((f) => readFileSync(path.join(logDir, f), 'utf8')).join('\n');
  assert.match(logs, /signed in/);
  for (const secret of ['admin-password', 'wrong-password', 'uma-password', 'vic-password']) {
    assert.ok(!logs.includes(secret), `${secret} found in the log`);
  }
});
