// Bench (not a test): median time from an Unlock/Lock click in the real window to the request
// arriving at the relay simulator. Run after `cargo build`:
//   xvfb-run -a scripts/with-test-session.sh node tests/e2e/bench-unlock.mjs
import { find, newDataDir, openApp, startRelaySim, stationCli, type } from './harness.mjs';
import { By } from 'selenium-webdriver';

const runs = Number(process.env.RUNS ?? 21);
const sim = await startRelaySim();
const dataDir = newDataDir();
stationCli(dataDir, ['demo-seed', '--relay', sim.url]);
const app = await openApp(dataDir);
const { driver } = app;
try {
  await find(driver, 'signin-screen');
  await type(driver, 'signin-username', 'staff');
  await type(driver, 'signin-password', 'demo-staff');
  await (await find(driver, 'signin-submit')).click();
  await find(driver, 'interlock-panel');
  // Record the moment of each click inside the page, on the machine's clock.
  await driver.executeScript(`document.addEventListener('click', () => { window.__clickAt = Date.now(); }, true);`);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const action = i % 2 === 0 ? 'unlock' : 'lock';
    const before = (await sim.state()).history.length;
    const button = await driver.findElement(By.css(`[data-testid="interlock-panel"] [data-testid="interlock-${action}"]`));
    await driver.wait(async () => button.isEnabled(), 10000);
    await button.click();
    let arrived;
    for (;;) {
      const h = (await sim.state()).history.slice(before).find((r) => r.path === `/${action}`);
      if (h) { arrived = h.at_ms; break; }
      await new Promise((r) => setTimeout(r, 5));
    }
    const clickAt = await driver.executeScript('return window.__clickAt;');
    times.push(arrived - clickAt);
    await driver.wait(async () => button.isEnabled(), 10000);
  }
  times.sort((a, b) => a - b);
  console.log(`click -> request at the simulator: median ${times[Math.floor(times.length / 2)]} ms, min ${times[0]} ms, max ${times[times.length - 1]} ms (${runs} clicks)`);
} finally {
  await app.stop();
  await sim.stop();
}
