// The station as an agent, in the real window: the lock screen on the sign-in screen (readings and
// booking times, no one's name), Quit refusing a wrong password and an instrument user, closing
// the window (the process stays, its web process exits) and a second launch bringing the window
// back (the single-instance hand-over creates it again).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  appBinary, click, find, findAll, newDataDir, openApp, processes, repoRoot, screenshot, screenshotDir, type, waitFor,
  webProcessesOf,
} from './harness.mjs';

let app;
const dataDir = newDataDir();
const ROOT_PW = 'root-password-1';
const UMA_PW = 'uma-password-1';

function cli(args, input = '') {
  return execFileSync(appBinary, ['--data-dir', dataDir, ...args], { encoding: 'utf8', input });
}

function iso(minutesFromNow) {
  const d = new Date(Date.now() + minutesFromNow * 60000);
  d.setSeconds(0, 0);
  return d.toISOString();
}

const appPid = () => processes().find((p) => p.args[0] === appBinary && p.args.includes(dataDir) && !p.args.includes('schedule'))?.pid;
const webProcesses = webProcessesOf;

// A loopback receiver for the order webhook.
const received = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => { received.push({ url: req.url, body }); res.end('{}'); });
});

before(async () => {
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/orders`;
  cli(['account', 'add', 'root', '--name', 'Rita Root', '--role', 'admin'], `${ROOT_PW}\n`);
  cli(['account', 'add', 'uma', '--name', 'Uma Userlady', '--role', 'user'], `${UMA_PW}\n`);
  const schedule = {
    format: 'interlock-station-schedule', version: 1,
    services: [{ name: 'Confocal', tags: ['has_interlock'] }, { name: 'Sequencer', tags: [] }],
    events: [{ service: 'Confocal', user: 'uma', title: 'Secret imaging', starts_at: iso(-30), ends_at: iso(90) }],
  };
  const file = path.join(dataDir, 'schedule.json');
  writeFileSync(file, JSON.stringify(schedule));
  cli(['schedule', 'import', file]);
  // The station's own configuration plus a webhook for new orders (all or nothing on import).
  const configFile = path.join(dataDir, 'config.json');
  cli(['config', 'export', configFile]);
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  config.webhooks.push({
    id: '01JHIDDENORDERHOOK0000000', name: 'orders', enabled: true, action: 'order/create', service_id: null,
    url: hookUrl, verb: 'POST', insecure: false, headers: [], auth: 'none', body: {}, timeout_secs: 5,
    signing: false, ca_pem: null,
  });
  writeFileSync(configFile, JSON.stringify(config));
  cli(['config', 'import', configFile]);
  app = await openApp(dataDir);
}, { timeout: 120000 });
after(async () => { await app?.stop(); receiver.close(); });

test('the lock screen shows instruments and bookings without names', { timeout: 60000 }, async () => {
  const { driver } = app;
  await find(driver, 'signin-screen');
  await find(driver, 'lock-screen');
  const rows = await findAll(driver, 'lock-instrument');
  const texts = await Promise.all(rows.map((r) => r.getText()));
  assert.equal(texts.length, 2);
  assert.match(texts[0], /Confocal/);
  assert.match(texts[0], /Unknown \(not read yet\)/);
  assert.match(texts[0], /Booked \d\d:\d\d–\d\d:\d\d/);
  assert.match(texts[1], /Sequencer/);
  assert.match(texts[1], /Free now/);
  const page = await driver.getPageSource();
  for (const secret of ['uma', 'Uma', 'Userlady', 'Secret imaging']) {
    assert.ok(!page.includes(secret), `the lock screen shows ${secret}`);
  }
  await screenshot(driver, 'lock-screen');
  mkdirSync(path.join(repoRoot, 'docs/screenshots'), { recursive: true });
  copyFileSync(path.join(screenshotDir, 'lock-screen.png'), path.join(repoRoot, 'docs/screenshots/lock-screen.png'));
});

test('Quit refuses a wrong password and an instrument user', { timeout: 60000 }, async () => {
  const { driver } = app;
  await click(driver, 'quit-open');
  await find(driver, 'quit-dialog');
  await type(driver, 'quit-username', 'root');
  await type(driver, 'quit-password', 'not-the-password');
  await click(driver, 'quit-submit');
  await waitFor(driver, async () => (await (await find(driver, 'quit-error')).getText()) === 'Wrong username or password.', 'wrong password refused');
  await type(driver, 'quit-username', 'uma');
  await type(driver, 'quit-password', UMA_PW);
  await click(driver, 'quit-submit');
  await waitFor(driver, async () => /Only facility staff or an administrator/.test(await (await find(driver, 'quit-error')).getText()), 'instrument user refused');
  assert.ok(appPid(), 'the app still runs');
  await click(driver, 'quit-cancel');
});

test('closing the window keeps the station running; a second launch opens it again', { timeout: 150000 }, async () => {
  const { driver } = app;
  const pid = appPid();
  assert.ok(pid, 'the app runs');
  await waitFor(driver, async () => webProcesses(pid).length > 0, 'a web process for the window');
  // The close button as a window manager sends it (WM_DELETE_WINDOW): the window is destroyed,
  // not the app. (WebDriver's own close would end its session and the app with it.)
  execFileSync('python3', [path.join(repoRoot, 'tests/e2e/wm-close.py'), 'Interlock Station']);
  const deadline = Date.now() + 15000;
  while (webProcesses(pid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(webProcesses(pid).length, 0, 'the web process exits with the window');
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(appPid(), pid, 'the station process keeps running without a window');

  // Meanwhile an order comes in through the command line: the running station's outbox worker
  // delivers its webhook with no window open.
  const orders = path.join(dataDir, 'orders.json');
  writeFileSync(orders, JSON.stringify({
    format: 'interlock-station-schedule', version: 1,
    orders: [{ reference: 'ORD-HIDDEN', customer: 'Smith lab', status: 'open', lines: [] }],
  }));
  cli(['schedule', 'import', orders]);
  const until = Date.now() + 45000;
  // The payload names the order by id (the only order of this station).
  const delivered = () => received.some((r) => r.url === '/orders' && JSON.parse(r.body).order_id);
  while (!delivered() && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  assert.ok(delivered(),
    `the order webhook was delivered while the window was closed; received ${JSON.stringify(received)}; log: ${cli(['deliveries'])}`);
  assert.equal(webProcesses(pid).length, 0, 'still no window');

  // A second launch hands over to the running station, which builds the window again.
  const started = Date.now();
  const second = spawn(appBinary, ['--data-dir', dataDir], { stdio: 'ignore' });
  await new Promise((r) => second.once('exit', r));
  while (webProcesses(pid).length === 0 && Date.now() - started < 15000) await new Promise((r) => setTimeout(r, 50));
  assert.ok(webProcesses(pid).length > 0, 'the window is back');
  console.log(`window back ${Date.now() - started} ms after the second launch`);
  assert.equal(appPid(), pid, 'still the same station process');
});
