// Opens an Interlock Station binary on an empty data folder through tauri-driver and measures
// how long the first screen (first run: "Create administrator") takes to be fully drawn.
// Used by `make bench-app` (the release build) and `make test-package` (the installed
// /usr/bin/interlock-station). Run under Xvfb with a session bus (scripts/with-test-session.sh).
//
//   node scripts/first-screen.mjs BINARY [--screenshot FILE] [--runs N] [--method mark|poll]
//
// Prints one JSON line per run and exits non-zero if the first-run screen does not appear.
// "Launch" is the app process's start time (/proc/PID/stat, 10 ms resolution); "drawn" is when
// the button is in the page and two animation frames have passed (the frame with it is painted).
// By default the page's own mark gives that time (App.svelte sets it; one WebDriver script waits
// for it); `--method poll` finds the button by asking WebDriver every 5 ms, as before.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Builder, By } from 'selenium-webdriver';

const args = process.argv.slice(2);
const binary = path.resolve(args[0] ?? '');
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const screenshotFile = opt('--screenshot');
const runs = Number(opt('--runs', '1'));
// mark: the page's own mark (default); poll: WebDriver findElements every 5 ms (the old way).
const method = opt('--method', 'mark');
if (!['mark', 'poll'].includes(method)) throw new Error(`--method is mark or poll, not ${method}`);

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

async function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`tauri-driver did not listen on ${port}`);
}

const clkTck = 100; // USER_HZ on Linux
const btimeMs = Number(/^btime (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))[1]) * 1000;

/** The app processes started on dataDir: [{ pid, startMs }] (epoch ms). */
function appsOn(dataDir) {
  const found = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (!cmd.includes(dataDir) || !cmd[0].endsWith('interlock-station')) continue;
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      found.push({ pid: Number(d), startMs: btimeMs + (Number(fields[19]) * 1000) / clkTck });
    } catch { /* gone */ }
  }
  return found;
}

function tauriDriver() {
  return process.env.TAURI_DRIVER ?? path.join(os.homedir(), '.cargo/bin/tauri-driver');
}

async function once(run) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'interlock-first-screen-'));
  const port = await freePort();
  const nativePort = await freePort();
  const child = spawn(tauriDriver(), ['--port', String(port), '--native-port', String(nativePort)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let driver;
  try {
    await waitForPort(port, 15000);
    driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}/`)
      .withCapabilities({
        browserName: 'wry',
        'tauri:options': { application: binary, args: ['--data-dir', dataDir] },
      })
      .build();
    let page;
    if (method === 'poll') {
      // The old way: ask WebDriver for the button every 5 ms, then wait two frames. Each query is a
      // round trip into the page's main thread, so the polling itself can slow the page down.
      const deadline = Date.now() + 20000;
      for (;;) {
        if ((await driver.findElements(By.css('[data-testid="setup-submit"]'))).length) break;
        if (Date.now() > deadline) throw new Error('the first-run screen did not appear within 20 s');
        await new Promise((r) => setTimeout(r, 5));
      }
      page = await driver.executeAsyncScript(`
        const done = arguments[arguments.length - 1];
        requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now())));`);
    } else {
      // One script, no polling from outside: the page marks `interlock:first-screen:<view>` two
      // animation frames after its first screen is in the page (App.svelte); wait for that mark
      // in the page (a PerformanceObserver) and read its time.
      await driver.manage().setTimeouts({ script: 20000 });
      page = await driver.executeAsyncScript(`
        const done = arguments[arguments.length - 1];
        const name = 'interlock:first-screen:setup';
        let finished = false;
        const check = () => {
          const m = performance.getEntriesByName(name)[0];
          if (finished || !m) return;
          finished = true;
          done(document.querySelector('[data-testid="setup-submit"]') ? m.startTime : -1);
        };
        try {
          new PerformanceObserver(check).observe({ type: 'mark', buffered: true });
        } catch { /* no observer: the fallback below */ }
        check();
        const slow = () => { check(); if (!finished) setTimeout(slow, 50); };
        setTimeout(slow, 50);`);
      if (page < 0) throw new Error('the first screen is not the first-run screen');
    }
    const timings = await driver.executeScript(`
      const nav = performance.getEntriesByType('navigation')[0];
      const paints = performance.getEntriesByType('paint').map((p) => [p.name, p.startTime]);
      const res = performance.getEntriesByType('resource')
        .map((r) => [r.name.replace(/^.*\\//, ''), r.startTime, r.responseEnd, r.transferSize || r.encodedBodySize || 0]);
      const marks = performance.getEntriesByType('mark')
        .filter((m) => m.name.startsWith('interlock:')).map((m) => [m.name.slice(10), m.startTime]);
      return JSON.stringify({
        timeOrigin: performance.timeOrigin, marks,
        domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
        loadEnd: nav ? nav.loadEventEnd : null, paints, res,
      });`);
    const p = { ...JSON.parse(timings), drawnAt: page };
    const procs = appsOn(dataDir);
    if (!procs.length) throw new Error('no app process found on the data folder');
    const launch = Math.min(...procs.map((x) => x.startMs));
    const out = {
      run,
      method,
      first_screen_drawn_ms: Math.round(p.timeOrigin + p.drawnAt - launch),
      page_origin_ms: Math.round(p.timeOrigin - launch), // launch → the web view starts loading the page
      dom_content_loaded_ms: p.domContentLoaded == null ? null : Math.round(p.timeOrigin + p.domContentLoaded - launch),
      load_end_ms: p.loadEnd == null ? null : Math.round(p.timeOrigin + p.loadEnd - launch),
      marks_ms: Object.fromEntries(p.marks.map(([n, t]) => [n, Math.round(p.timeOrigin + t - launch)])),
      paints_ms: Object.fromEntries(p.paints.map(([n, t]) => [n, Math.round(p.timeOrigin + t - launch)])),
      resources: p.res.map(([n, s, e, size]) => ({ name: n, start_ms: Math.round(p.timeOrigin + s - launch), end_ms: Math.round(p.timeOrigin + e - launch), size })),
    };
    if (screenshotFile && run === 1) writeFileSync(screenshotFile, await driver.takeScreenshot(), 'base64');
    console.log(JSON.stringify(out));
  } finally {
    if (driver) { try { await driver.quit(); } catch { /* gone */ } }
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    for (const { pid } of appsOn(dataDir)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (!args[0]) {
  console.error('usage: node scripts/first-screen.mjs BINARY [--screenshot FILE] [--runs N] [--method mark|poll]');
  process.exit(2);
}
for (let i = 1; i <= runs; i++) await once(i);
