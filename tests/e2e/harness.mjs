// Drives the real Interlock Station window through tauri-driver (WebKitWebDriver) for the
// end-to-end tests: starts tauri-driver on a free port, opens the app on a throwaway data folder,
// finds elements by data-testid, and saves screenshots into tests/e2e/artifacts/screenshots.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Builder, By, until } from 'selenium-webdriver';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
export const appBinary = path.join(repoRoot, 'target/debug/interlock-station');
export const screenshotDir = path.join(here, 'artifacts/screenshots');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`tauri-driver did not listen on ${port} within ${ms} ms`);
}

function tauriDriverPath() {
  const cargoBin = path.join(os.homedir(), '.cargo/bin/tauri-driver');
  return process.env.TAURI_DRIVER ?? cargoBin;
}

export function newDataDir() {
  return mkdtempSync(path.join(os.tmpdir(), 'interlock-e2e-'));
}

/** The single-instance plugin's name on the session bus while an app instance runs. */
const SINGLE_INSTANCE_NAME = 'org.interlockstation.station.SingleInstance';

function singleInstanceOwned() {
  try {
    const out = execFileSync('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/',
      'org.freedesktop.DBus.NameHasOwner', `string:${SINGLE_INSTANCE_NAME}`], { encoding: 'utf8' });
    return /boolean true/.test(out);
  } catch {
    return false; // no session bus: nothing to wait for
  }
}

/** Waits (up to `ms`) until no earlier instance — a previous test's, still shutting down — holds
 * the single-instance name, or the new launch would hand over to it instead of opening. */
export async function waitForNoInstance(ms = 15000) {
  const deadline = Date.now() + ms;
  while (singleInstanceOwned() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Starts tauri-driver and opens the app on `dataDir`. Returns { driver, stop }. `env` adds to the
 * environment the app starts with (e.g. `{ LANG: 'de_DE.UTF-8' }`): tauri-driver's children inherit it.
 */
export async function openApp(dataDir, { env = {} } = {}) {
  await waitForNoInstance();
  const port = await freePort();
  const nativePort = await freePort();
  const child = spawn(tauriDriverPath(), ['--port', String(port), '--native-port', String(nativePort)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env },
  });
  await waitForPort(port, 15000);
  const driver = await new Builder()
    .usingServer(`http://127.0.0.1:${port}/`)
    .withCapabilities({
      browserName: 'wry',
      'tauri:options': { application: appBinary, args: ['--data-dir', dataDir] },
    })
    .build();
  const stop = async () => {
    try { await driver.quit(); } catch { /* window already gone */ }
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    // The app is WebKitWebDriver's child, not ours; make sure this test's instance is gone, or the
    // next test's launch would hand over to it (single instance) instead of opening a window.
    await endAppsOn(dataDir);
  };
  return { driver, stop };
}

/** Every live process (Linux /proc) with its parent and arguments: [{ pid, ppid, args }]. */
export function processes() {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
      if (stat[0] === 'Z') continue;
      out.push({ pid: Number(entry), ppid: Number(stat[1]), args });
    } catch { /* ended meanwhile */ }
  }
  return out;
}

/** The WebKit web processes of the app process `pid` (one while its window exists). */
export const webProcessesOf = (pid) =>
  processes().filter((p) => p.ppid === pid && /WebKitWebProcess/.test(p.args[0] ?? ''));

/** PIDs of app processes started with `--data-dir dataDir` (Linux /proc). */
function appPidsOn(dataDir) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (args[0] === appBinary && args.includes(dataDir) && state !== 'Z') pids.push(Number(entry));
    } catch { /* the process ended meanwhile */ }
  }
  return pids;
}

/** Ends, by PID, every app process of this test's data folder: TERM, then KILL after 5 s. */
export async function endAppsOn(dataDir) {
  const deadline = Date.now() + 5000;
  for (const pid of appPidsOn(dataDir)) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
  }
  while (appPidsOn(dataDir).length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const pid of appPidsOn(dataDir)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

export const byTestId = (id) => By.css(`[data-testid="${id}"]`);

export async function find(driver, id, ms = 15000) {
  const el = await driver.wait(until.elementLocated(byTestId(id)), ms, `no element [data-testid="${id}"]`);
  await driver.wait(until.elementIsVisible(el), ms, `[data-testid="${id}"] is not visible`);
  return el;
}

export async function findAll(driver, id) {
  return driver.findElements(byTestId(id));
}

export async function text(driver, id) {
  return (await find(driver, id)).getText();
}

export async function click(driver, id) {
  await clickElement(driver, await find(driver, id));
}

/** Clicks an element already found (e.g. a control inside a table row). */
export async function clickElement(driver, el) {
  // Dialogs scroll: bring the control into view as a person would before clicking it, and wait
  // while a closing dialog still covers it.
  await driver.executeScript('arguments[0].scrollIntoView({ block: "center" });', el);
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await el.click();
      return;
    } catch (e) {
      if (e.name !== 'ElementClickInterceptedError' || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Types into a text field like a person would (clears it first). */
export async function type(driver, id, value) {
  const el = await find(driver, id);
  await el.clear();
  await el.sendKeys(value);
}

/** Sets a field the keyboard cannot easily fill (datetime-local, select) and fires its events. */
export async function setValue(driver, id, value) {
  const el = await find(driver, id);
  await driver.executeScript(
    `const el = arguments[0];
     el.value = arguments[1];
     el.dispatchEvent(new Event('input', { bubbles: true }));
     el.dispatchEvent(new Event('change', { bubbles: true }));`,
    el, value,
  );
}

/** Chooses the option of a <select> whose visible label contains `label`. */
export async function selectByLabel(driver, id, label) {
  const el = await find(driver, id);
  const ok = await driver.executeScript(
    `const el = arguments[0];
     const opt = [...el.options].find(o => o.textContent.includes(arguments[1]));
     if (!opt) return false;
     el.value = opt.value;
     el.dispatchEvent(new Event('input', { bubbles: true }));
     el.dispatchEvent(new Event('change', { bubbles: true }));
     return true;`,
    el, label,
  );
  if (!ok) throw new Error(`no option containing "${label}" in [data-testid="${id}"]`);
}

/** Waits until `fn` returns a truthy value (polling), or fails with `what`. */
export async function waitFor(driver, fn, what, ms = 10000) {
  return driver.wait(async () => { try { return await fn(); } catch { return false; } }, ms, what);
}

/** Saves a screenshot after the page has painted the latest DOM change. */
export async function screenshot(driver, name) {
  await driver.executeAsyncScript(
    'const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done()));',
  );
  mkdirSync(screenshotDir, { recursive: true });
  writeFileSync(path.join(screenshotDir, `${name}.png`), await driver.takeScreenshot(), 'base64');
}

/** A local wall-clock time `minutes` from now, as a datetime-local input value. */
export function localInput(minutesFromNow) {
  const d = new Date(Date.now() + minutesFromNow * 60000);
  d.setSeconds(0, 0);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export const relaySimBinary = path.join(repoRoot, 'target/debug/interlock-relay-sim');

/** Starts the relay simulator on a free port; returns { url, state(), mode(m), stop() }. */
export async function startRelaySim() {
  const child = spawn(relaySimBinary, ['--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/relay-sim: (http:\/\/[0-9.:]+)/);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`relay simulator exited with ${code}`)));
  });
  child.stdout.resume();
  const state = async () => (await fetch(`${url}/sim/state`)).json();
  const mode = async (m, extra = {}) => {
    await fetch(`${url}/sim/mode`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: m, ...extra }),
    });
  };
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  };
  return { url, state, mode, stop };
}

/** Signs in on the sign-in screen and waits for the Station screen. */
export async function signIn(driver, username, password) {
  await find(driver, 'signin-screen');
  await type(driver, 'signin-username', username);
  await type(driver, 'signin-password', password);
  await click(driver, 'signin-submit');
  await find(driver, 'station-screen');
}

/** Imports a schedule file ({ services, events }) into `dataDir` through the CLI. */
export function importSchedule(dataDir, { services, events }) {
  const file = path.join(dataDir, 'schedule.json');
  writeFileSync(file, JSON.stringify({ format: 'interlock-station-schedule', version: 1, services, events }));
  stationCli(dataDir, ['schedule', 'import', file]);
}

/** Runs the station's command line on a data folder (provisioning for tests and the demo). */
export function stationCli(dataDir, args) {
  return execFileSync(appBinary, ['--data-dir', dataDir, ...args], { encoding: 'utf8' });
}

const axeSource = readFileSync(path.join(repoRoot, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core (the npm package) inside the real WebKit window on what it shows now. Returns the
 * violations as [{ id, impact, help, nodes: [target selectors] }]. WebDriver's script evaluation
 * is not subject to the page's CSP, so the app's policy stays as shipped.
 */
export async function axeViolations(driver) {
  const loaded = await driver.executeScript('return typeof window.axe !== "undefined"');
  if (!loaded) await driver.executeScript(`${axeSource}\nreturn true;`);
  const result = await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    window.axe.run(document, { resultTypes: ['violations'] })
      .then((r) => done({ ok: true, violations: r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
      })) }))
      .catch((e) => done({ ok: false, error: String(e) }));
  `);
  if (!result.ok) throw new Error(`axe-core failed in the window: ${result.error}`);
  return result.violations;
}
