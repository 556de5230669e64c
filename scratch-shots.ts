import { freshDatabase } from './test/support/postgres.js';
import { startBin } from './test/support/process.js';
import { launchHeadless } from './test/web/browser.js';
import { signUpInBrowser } from './test/web/pages.js';

const db = await freshDatabase('gm_scratch');
const svc = await startBin('gophermart', { DATABASE_URI: db.url, ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9', ORCHESTRATOR_ADDRESS: 'http://127.0.0.1:9' });
const chrome = await launchHeadless();
try {
  const ctx = await chrome.browser.newContext({ viewport: { width: 1200, height: 800 }, colorScheme: 'dark', locale: 'en-US', timezoneId: 'UTC' });
  const page = await ctx.newPage();
  await page.goto(`${svc.url}/nope`);
  await page.getByTestId('not-found').waitFor();
  await page.screenshot({ path: '/tmp/webshots/x-notfound-out-dark.png' });
  await signUpInBrowser(page, svc.url, 'anna.schmidt', 'anna-pass-123');
  await page.getByLabel('Order number').fill('79927398713');
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.locator('tr[data-order]').first().waitFor();
  await page.screenshot({ path: '/tmp/webshots/x-orders-dark.png', fullPage: true });
  await page.goto(`${svc.url}/settings`);
  await page.getByTestId('not-found').waitFor();
  await page.screenshot({ path: '/tmp/webshots/x-notfound-in-dark.png' });
  await page.goto(`${svc.url}/wallets`);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: '/tmp/webshots/x-wallets-noledger-dark.png', fullPage: true });
  await page.goto(`${svc.url}/balance`);
  await page.waitForTimeout(800);
  await page.screenshot({ path: '/tmp/webshots/x-balance-empty-dark.png', fullPage: true });
} finally {
  await chrome.close();
  await svc.stop();
  await db.drop();
}
