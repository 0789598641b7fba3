// Kiosk mode in the real window: fullscreen on the Xvfb screen (1280x800), and a close request
// (the window manager's close, WM_DELETE_WINDOW) refused until staff sign in.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  appBinary, click, find, newDataDir, openApp, processes, repoRoot, screenshot, screenshotDir, type, waitFor,
  webProcessesOf,
} from './harness.mjs';

let app;
const dataDir = newDataDir();
const ROOT_PW = 'root-password-1';

function webProcessCount() {
  const app = processes().find((p) => p.args[0] === appBinary && p.args.includes(dataDir))?.pid ?? null;
  return { app, web: app === null ? 0 : webProcessesOf(app).length };
}

const wmClose = () => execFileSync('python3', [path.join(repoRoot, 'tests/e2e/wm-close.py'), 'Interlock Station']);

before(async () => {
  execFileSync(appBinary, ['--data-dir', dataDir, 'account', 'add', 'root', '--name', 'Rita Root', '--role', 'admin'], {
    input: `${ROOT_PW}\n`,
  });
  // Kiosk mode on, as a provisioning script sets it (the same setting as the Settings screen's).
  const out = execFileSync(appBinary, ['--data-dir', dataDir, 'agent', '--kiosk', 'on'], { encoding: 'utf8' });
  assert.match(out, /^kiosk mode: on$/m);
  app = await openApp(dataDir);
}, { timeout: 120000 });
after(async () => { await app?.stop(); });

test('kiosk: fullscreen, and closing needs a staff sign-in', { timeout: 60000 }, async () => {
  const { driver } = app;
  await find(driver, 'signin-screen');
  await waitFor(driver, async () => {
    const r = await driver.manage().window().getRect();
    return r.width === 1280 && r.height === 800;
  }, 'the window covers the 1280x800 screen');
  const rect = await driver.manage().window().getRect();
  assert.deepEqual([rect.x, rect.y, rect.width, rect.height], [0, 0, 1280, 800]);
  // The whole X screen as a person sees it (ImageMagick's import): the window and nothing else.
  await screenshot(driver, 'kiosk-page');
  mkdirSync(screenshotDir, { recursive: true });
  const shot = path.join(screenshotDir, 'kiosk-screen.png');
  execFileSync('import', ['-window', 'root', shot]);
  copyFileSync(shot, path.join(repoRoot, 'docs/screenshots/kiosk-screen.png'));

  wmClose();
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(webProcessCount().web, 1, 'the window is still there without a staff sign-in');
  await find(driver, 'signin-screen');

  await type(driver, 'signin-username', 'root');
  await type(driver, 'signin-password', ROOT_PW);
  await click(driver, 'signin-submit');
  await find(driver, 'sign-out');
  wmClose();
  const deadline = Date.now() + 10000;
  while (webProcessCount().web > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const after = webProcessCount();
  assert.equal(after.web, 0, 'with staff signed in the window closes');
  assert.ok(after.app, 'and the station keeps running');
});
