// A pending auto-lock fires while the window is closed: an instrument user unlocks in the real
// window during their booking (auto-lock on, `has_interlock:5:0`, so the window closes at the
// booking's end), the window is closed the way a window manager closes it, and at the booking's
// end the station process — with no window and no web process — sends the lock to the relay
// simulator and reads the status back to confirm it. A second launch then brings the window back.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  appBinary, click, find, newDataDir, openApp, processes, repoRoot, startRelaySim, type, waitFor, webProcessesOf,
} from './harness.mjs';

const dataDir = newDataDir();
const UMA_PW = 'uma-password-1';
// Seconds from the start of provisioning to the booking's end: time enough to open the window,
// sign in and unlock (a few seconds here), short enough for a quick test.
const END_IN_SECS = 60;
let app;
let sim;
let endsAt;

function cli(args, input = '') {
  return execFileSync(appBinary, ['--data-dir', dataDir, ...args], { encoding: 'utf8', input });
}

const appPid = () => processes().find((p) => p.args[0] === appBinary && p.args.includes(dataDir) && p.args.filter(Boolean).length === 3)?.pid;
const webProcesses = webProcessesOf;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  sim = await startRelaySim();
  cli(['account', 'add', 'root', '--name', 'Rita Root', '--role', 'admin'], 'root-password-1\n');
  cli(['account', 'add', 'uma', '--name', 'Uma User', '--role', 'user'], `${UMA_PW}\n`);
  endsAt = new Date(Date.now() + END_IN_SECS * 1000);
  endsAt.setMilliseconds(0);
  const schedule = {
    format: 'interlock-station-schedule', version: 1,
    services: [{ name: 'Confocal', tags: ['has_interlock:5:0'] }],
    events: [{
      service: 'Confocal', user: 'uma', title: 'Imaging',
      starts_at: new Date(Date.now() - 5 * 60000).toISOString(), ends_at: endsAt.toISOString(),
    }],
  };
  const file = path.join(dataDir, 'schedule.json');
  writeFileSync(file, JSON.stringify(schedule));
  cli(['schedule', 'import', file]);
  // Auto-lock on, and the relay's three interlock webhooks (config import, all or nothing).
  const configFile = path.join(dataDir, 'config.json');
  cli(['config', 'export', configFile]);
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  const service = config.services.find((s) => s.name === 'Confocal');
  service.auto_lock = true;
  const hook = (id, name, sub, verb) => ({
    id, name, enabled: true, action: `interlock/${sub}`, service_id: service.id, url: `${sim.url}/${sub}`,
    verb, insecure: false, headers: [], auth: 'none', body: {}, timeout_secs: 5, signing: false, ca_pem: null,
  });
  config.webhooks.push(
    hook('01JAUTOLOCKUNLOCK00000000', 'Relay unlock', 'unlock', 'POST'),
    hook('01JAUTOLOCKLOCK0000000000', 'Relay lock', 'lock', 'POST'),
    hook('01JAUTOLOCKSTATUS00000000', 'Relay status', 'status', 'GET'),
  );
  writeFileSync(configFile, JSON.stringify(config));
  cli(['config', 'import', configFile]);
  app = await openApp(dataDir);
}, { timeout: 120000 });
after(async () => {
  await app?.stop();
  await sim?.stop();
});

test('a pending auto-lock fires at the booking end while the window is closed', { timeout: 180000 }, async () => {
  const { driver } = app;
  await find(driver, 'signin-screen');
  await type(driver, 'signin-username', 'uma');
  await type(driver, 'signin-password', UMA_PW);
  await click(driver, 'signin-submit');
  await find(driver, 'station-screen');
  await click(driver, 'interlock-unlock');
  await waitFor(driver, async () => (await sim.state()).state === 'unlocked', 'the relay is unlocked');
  // (Only staff see the pending auto-lock on the panel; the user sees the unlocked relay.)
  await waitFor(driver, async () => (await (await find(driver, 'interlock-state')).getAttribute('data-state')) === 'unlocked', 'the panel reads Unlocked');
  assert.ok(Date.now() < endsAt.getTime(), 'unlocked before the booking ends');

  const pid = appPid();
  assert.ok(pid, 'the station process runs');
  execFileSync('python3', [path.join(repoRoot, 'tests/e2e/wm-close.py'), 'Interlock Station']);
  const closed = Date.now() + 15000;
  while (webProcesses(pid).length > 0 && Date.now() < closed) await sleep(100);
  assert.equal(webProcesses(pid).length, 0, 'the window and its web process are gone');

  // Wait past the booking's end (its interlock window closes then: post 0) for the lock.
  const lockOf = (s) => s.history.find((h) => h.path === '/lock');
  const deadline = endsAt.getTime() + 30000;
  let state = await sim.state();
  while (!lockOf(state) && Date.now() < deadline) {
    await sleep(250);
    state = await sim.state();
  }
  const lock = lockOf(state);
  assert.ok(lock, `no lock reached the relay by 30 s after the booking's end; history: ${JSON.stringify(state.history.map((h) => h.path))}`);
  const lateMs = lock.at_ms - endsAt.getTime();
  console.log(`auto-lock reached the relay ${lateMs} ms after the booking's end, window closed`);
  assert.ok(lateMs >= 0, `the lock came ${-lateMs} ms before the booking's end`);
  assert.equal(state.state, 'locked', 'the relay is locked');
  assert.ok(lock.body.event_id, 'the lock names the booking');
  assert.equal(webProcesses(pid).length, 0, 'still no window while it locked');
  assert.equal(appPid(), pid, 'the same station process did it');

  // The auto-lock is confirmed by reading the status back after the lock.
  const readBack = (st) => st.history.some((h) => h.path === '/status' && h.at_ms >= lock.at_ms);
  const settled = Date.now() + 20000;
  while (!readBack(state) && Date.now() < settled) {
    await sleep(250);
    state = await sim.state();
  }
  assert.ok(readBack(state), 'the status was read back after the lock');

  // Opening the window again (a second launch hands over) shows the instrument Locked.
  const second = spawn(appBinary, ['--data-dir', dataDir], { stdio: 'ignore' });
  await new Promise((r) => second.once('exit', r));
  const back = Date.now() + 15000;
  while (webProcesses(pid).length === 0 && Date.now() < back) await sleep(50);
  assert.ok(webProcesses(pid).length > 0, 'the window is back');
});
