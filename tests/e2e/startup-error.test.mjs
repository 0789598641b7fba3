// A damaged database must give a clear error screen, not a crash, and must be left untouched.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { find, newDataDir, openApp, screenshot, text } from './harness.mjs';

test('a corrupt database file shows the error screen with the reason', { timeout: 180000 }, async () => {
  const dataDir = newDataDir();
  const db = path.join(dataDir, 'station.sqlite3');
  const garbage = 'not a database '.repeat(100);
  writeFileSync(db, garbage);
  const app = await openApp(dataDir);
  try {
    await find(app.driver, 'startup-error');
    assert.equal(await text(app.driver, 'startup-error-code'), 'DATABASE_CORRUPT');
    assert.match(await text(app.driver, 'startup-error-message'), /damaged or is not an Interlock Station database/);
    assert.match(await text(app.driver, 'startup-error-path'), /station\.sqlite3/);
    await screenshot(app.driver, '11-startup-error');
  } finally {
    await app.stop();
  }
  assert.equal(readFileSync(db, 'utf8'), garbage, 'the damaged file is left as it was');
});
