import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { assertRoutesDocumented } from '../support/openapi.js';
import { embeddedTarget, type GophermartTarget } from '../gophermart/targets.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)`;

let target: GophermartTarget;
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

test("/docs: Try it out on the order upload offers a text/plain body field; the lock icons follow each route's security", {
  skip,
  timeout: 60_000,
}, async () => {
  const page = await browser.newPage();
  await page.goto(`${target.url}/docs`, { waitUntil: 'load' });
  const upload = page.locator('.opblock-post', { has: page.locator('.opblock-summary-path[data-path="/api/user/orders"]') });
  await upload.locator('.opblock-summary').click();
  await upload.getByRole('button', { name: 'Try it out' }).click();
  const body = upload.locator('.body-param textarea');
  await body.waitFor({ timeout: 20_000 });
  assert.ok(await body.isEditable(), 'the upload has an editable body field');
  assert.equal(await upload.locator('.body-param-content-type select').inputValue(), 'text/plain');
  // a route that needs the user token shows the lock; the sign-up route does not
  const authorized = (path: string, method: string) =>
    page.locator(`.opblock-${method}`, { has: page.locator(`.opblock-summary-path[data-path="${path}"]`) }).locator('.authorization__btn');
  assert.equal(await authorized('/api/user/balance', 'get').count(), 1);
  assert.equal(await authorized('/api/user/register', 'post').count(), 0);
  await page.close();
});
