import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { assertRoutesDocumented } from '../support/openapi.js';
import { embeddedTarget, type LoyaltyTarget } from '../loyalty/targets.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)`;

let target: LoyaltyTarget;
let browser: Browser;

before(async () => {
  if (skip) return;
  target = await embeddedTarget();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
});

after(async () => {
  await browser?.close();
  await target?.close();
});

test('the loyalty service /docs page lists its operations in a real browser', { skip, timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const failed: string[] = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  const response = await page.goto(`${target.url}/docs`, { waitUntil: 'load' });
  assert.equal(response?.status(), 200);
  // Swagger UI renders client-side from /docs/json: wait for the operations to appear
  await page.waitForSelector('.opblock', { timeout: 20_000 });
  const operations = await page.$$eval('.opblock', (blocks) =>
    blocks.map(
      (b) =>
        `${b.querySelector('.opblock-summary-method')?.textContent?.trim()} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? b.querySelector('.opblock-summary-path')?.textContent?.trim()}`,
    ),
  );
  for (const op of [
    'POST /api/user/register',
    'POST /api/user/login',
    'POST /api/user/orders',
    'GET /api/user/orders',
    'GET /api/user/balance',
    'POST /api/user/balance/withdraw',
    'GET /api/user/withdrawals',
  ]) {
    assert.ok(operations.includes(op), `${op} not listed on /docs; saw ${JSON.stringify(operations)}`);
  }
  assert.ok(await page.getByText('Gophermart loyalty service').first().isVisible(), 'the title is shown');
  // the page is served by the service itself: no CDN or other outside request
  assert.deepEqual(failed, []);
  // the UI lists exactly what the server registered
  assert.equal(operations.length, await assertRoutesDocumented(target.app ?? {}, target.url));
  await page.close();
});
