import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../../src/kernel/db/database.js';
import { openDatabase } from '../../src/kernel/db/open.js';
import { withLuhnCheckDigit } from '../../src/kernel/luhn.js';
import { LoyaltyStore } from '../../src/loyalty/store.js';
import { uniqueLogin } from '../support/http.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { startBin, type ServiceProcess } from '../support/process.js';
import { browserMissing, launchHeadless, type Headless } from './browser.js';
import { inPage, screenshot, signUpInBrowser, unlabelledControls, waitForText } from './pages.js';

// The loyalty pages against bin/gophermart on real PostgreSQL. Accruals are seeded through the
// store (as the accrual poller would apply them), so this runs without the accrual service;
// the end-to-end file drives the real one.
const missing = browserMissing();
if (missing) {
  test.skip(missing, () => undefined);
} else {
  let db: FreshDatabase;
  let svc: ServiceProcess;
  let direct: Database;
  let store: LoyaltyStore;
  let chrome: Headless;
  const number = (): string => withLuhnCheckDigit(String(Date.now()) + String(Math.floor(Math.random() * 1e6)).padStart(6, '0'));

  before(async () => {
    db = await freshDatabase('gm_webui');
    [svc, chrome] = await Promise.all([
      startBin('gophermart', { DATABASE_URI: db.url, ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9', ORCHESTRATOR_ADDRESS: 'http://127.0.0.1:9' }),
      launchHeadless(),
    ]);
    direct = await openDatabase({ url: db.url, embeddedDir: 'unused', poolSize: 2 });
    store = new LoyaltyStore(direct);
  });
  after(async () => {
    await chrome?.close();
    await svc?.stop();
    await direct?.close();
    await db?.drop();
  });

  test('a member signs up, uploads, sees the credit arrive without reloading, withdraws, keeps the session over a reload, signs out', {
    timeout: 90_000,
  }, async () => {
    const ctx = await chrome.context();
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const login = uniqueLogin('web');

    await page.goto(`${svc.url}/`);
    await page.waitForURL(/\/signin$/);
    assert.deepEqual(await unlabelledControls(page), []);
    await screenshot(page, 'sign-in');
    await signUpInBrowser(page, svc.url, login, 'pass-word-1');

    // Luhn as you type: a typo is named and the button stays disabled
    const first = number();
    const typo = first.slice(0, -1) + String((Number(first.at(-1)) + 1) % 10);
    await page.getByLabel('Order number').fill(typo);
    await waitForText(page.locator('#order-number-note'), /fails the Luhn check/);
    assert.equal(await page.getByRole('button', { name: 'Upload' }).isDisabled(), true);
    await page.getByLabel('Order number').fill('12ab');
    await waitForText(page.locator('#order-number-note'), /Digits only/);

    await page.getByLabel('Order number').fill(first);
    await waitForText(page.locator('#order-number-note'), /valid order number/);
    await page.getByLabel('Order number').press('Enter');
    await waitForText(page.getByTestId('upload-message'), /accepted/);
    const row = page.locator(`tr[data-order="${first}"]`);
    await waitForText(row, /NEW/);
    await waitForText(page.getByTestId('orders-refreshing'), /still being processed/);
    await screenshot(page, 'orders');

    // the credit lands (as the poller would apply it); the page notices on its own
    const reloads: string[] = [];
    page.on('framenavigated', (f) => reloads.push(f.url()));
    assert.equal(await store.applyAccrualResult(first, 'PROCESSED', 50050), true);
    await waitForText(row, /PROCESSED/, 8000);
    await waitForText(row, /\+500\.50/);
    await waitForText(page.getByTestId('header-balance'), /500\.50/);
    assert.deepEqual(reloads, [], 'no navigation happened');
    assert.equal(await page.getByTestId('orders-refreshing').count(), 0, 'polling stops when everything is final');

    // 200: the same member again
    await page.getByLabel('Order number').fill(first);
    await page.getByRole('button', { name: 'Upload' }).click();
    await waitForText(page.getByTestId('upload-message'), /already uploaded order/);

    await page.getByRole('link', { name: 'Balance' }).click();
    await page.waitForURL(/\/balance$/);
    await waitForText(page.getByTestId('balance-current'), /^500\.50$/);
    await waitForText(page.getByTestId('balance-withdrawn'), /^0\.00$/);
    assert.equal(await page.locator('[data-testid="balance-chart"] circle').count(), 1);

    await page.getByRole('link', { name: 'Spend', exact: true }).click();
    await page.waitForURL(/\/withdraw$/);
    const spendOn = number();
    await page.getByLabel('New order number').fill(spendOn);
    await page.getByLabel('Points to spend').fill('1000');
    await page.getByRole('button', { name: 'Pay with points' }).click();
    await waitForText(page.getByTestId('withdraw-message'), /Not enough points.*500\.50.*1,000\.00.*Nothing was charged/);
    await page.getByLabel('Points to spend').fill('1.234');
    await waitForText(page.locator('#withdraw-sum-note'), /at most two decimals/);
    await page.getByLabel('Points to spend').fill('100.25');
    await page.getByRole('button', { name: 'Pay with points' }).click();
    await waitForText(page.getByTestId('withdraw-message'), /Done: 100\.25 points/);
    await waitForText(page.locator(`tr[data-withdrawal="${spendOn}"]`), /100\.25/);
    await waitForText(page.getByTestId('header-balance'), /400\.25/);
    await screenshot(page, 'withdraw');

    await page.getByRole('link', { name: 'Balance' }).click();
    await waitForText(page.getByTestId('balance-withdrawn'), /^100\.25$/);
    assert.equal(await page.locator('[data-testid="balance-chart"] circle').count(), 2);
    await screenshot(page, 'balance');

    // the session survives a reload; nothing sensitive is reachable from script or storage
    await page.reload();
    await waitForText(page.getByTestId('balance-current'), /^400\.25$/);
    const leaks = await inPage<{ cookie: string; local: string; session: string }>(
      page,
      '({ cookie: document.cookie, local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage) })',
    );
    const token = (await ctx.cookies()).find((c) => c.name === 'token');
    assert.ok(token?.httpOnly, 'the token cookie is HttpOnly');
    assert.equal(leaks.cookie, '');
    assert.doesNotMatch(leaks.local + leaks.session, new RegExp(token.value.slice(0, 20)));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/signin$/);
    assert.equal(
      (await ctx.cookies()).find((c) => c.name === 'token'),
      undefined,
    );
    await page.goto(`${svc.url}/orders`);
    await page.waitForURL(/\/signin$/);
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test("sign-in errors in words; a second member sees none of the first one's data and cannot take its order", { timeout: 60_000 }, async () => {
    const alice = uniqueLogin('alice');
    const a = await chrome.context();
    const pa = await a.newPage();
    await signUpInBrowser(pa, svc.url, alice, 'alice-pass');
    const hers = number();
    await pa.getByLabel('Order number').fill(hers);
    await pa.getByRole('button', { name: 'Upload' }).click();
    await waitForText(pa.getByTestId('upload-message'), /accepted/);
    await store.applyAccrualResult(hers, 'PROCESSED', 12345);
    await waitForText(pa.getByTestId('header-balance'), /123\.45/);

    const b = await chrome.context();
    const pb = await b.newPage();
    await pb.goto(`${svc.url}/signin`);
    await pb.getByRole('button', { name: 'Create account' }).click();
    await pb.getByLabel('Login').fill(alice);
    await pb.getByLabel('Password').fill('whatever');
    await pb.locator('form').getByRole('button', { name: 'Create account' }).click();
    await waitForText(pb.getByTestId('signin-message'), /already taken/);
    await pb.getByRole('button', { name: 'Sign in' }).first().click();
    await pb.getByLabel('Password').fill('wrong-pass');
    await pb.locator('form').getByRole('button', { name: 'Sign in' }).click();
    await waitForText(pb.getByTestId('signin-message'), /Wrong login or password/);

    await signUpInBrowser(pb, svc.url, uniqueLogin('bob'), 'bob-pass');
    await waitForText(pb.locator('#orders'), /No orders yet/);
    await waitForText(pb.getByTestId('header-balance'), /^0\.00 pts$/);
    await pb.getByLabel('Order number').fill(hers);
    await pb.getByRole('button', { name: 'Upload' }).click();
    await waitForText(pb.getByTestId('upload-message'), /already uploaded by another member/);
    assert.equal(await pb.locator(`tr[data-order="${hers}"]`).count(), 0);
    await pb.getByRole('link', { name: 'Spend', exact: true }).click();
    await waitForText(pb.locator('#withdrawals'), /No withdrawals yet/);
    await Promise.all([a.close(), b.close()]);
  });

  test('sign-up states the password rule and refuses a short password before sending it', { timeout: 30_000 }, async () => {
    const ctx = await chrome.context();
    const page = await ctx.newPage();
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/register')) sent.push(r.url());
    });
    await page.goto(`${svc.url}/signin`);
    await page.getByRole('button', { name: 'Create account', pressed: false }).click();
    await waitForText(page.locator('#password-note'), /^8 to 1024 characters\.$/);
    assert.equal(await page.getByLabel('Password').getAttribute('minlength'), '8');
    await page.getByLabel('Login').fill(uniqueLogin('short'));
    await page.getByLabel('Password').fill('seven77');
    await page.locator('form').getByRole('button', { name: 'Create account' }).click();
    // the browser's own minlength check holds the form, or the page's check below does
    const held = await inPage<boolean>(page, `document.getElementById('password').validity.tooShort`);
    if (!held) await waitForText(page.getByTestId('signin-message'), /Choose a password of 8 to 1024 characters/);
    // a browser that does not enforce minlength still gets the page's message
    await inPage(page, `document.getElementById('password').removeAttribute('minlength')`);
    await page.locator('form').getByRole('button', { name: 'Create account' }).click();
    await waitForText(page.getByTestId('signin-message'), /Choose a password of 8 to 1024 characters/);
    assert.deepEqual(sent, [], 'a too short password was sent');
    assert.match(page.url(), /\/signin$/);
    await ctx.close();
  });

  test('phone width: no sideways scrolling, tables become cards; the keyboard reaches the form', { timeout: 30_000 }, async () => {
    const ctx = await chrome.context({ width: 375, height: 740 });
    const page = await ctx.newPage();
    await signUpInBrowser(page, svc.url, uniqueLogin('phone'), 'phone-pass');
    const n = number();
    await page.getByLabel('Order number').fill(n);
    await page.getByRole('button', { name: 'Upload' }).click();
    await waitForText(page.locator(`tr[data-order="${n}"]`), /NEW/);
    const widths = await inPage<{ scroll: number; view: number }>(page, '({ scroll: document.documentElement.scrollWidth, view: window.innerWidth })');
    assert.ok(widths.scroll <= widths.view, `page is ${widths.scroll}px wide in a ${widths.view}px viewport`);
    assert.equal(await inPage(page, `getComputedStyle(document.querySelector('table.rows thead')).position`), 'absolute');
    await screenshot(page, 'orders-phone');

    // keyboard only: tab from the page start to the order field and upload with Enter
    await page.goto(`${svc.url}/orders`);
    await waitForText(page.getByTestId('member-login'), /phone/);
    let focused = '';
    for (let i = 0; i < 15 && focused !== 'order-number'; i++) {
      await page.keyboard.press('Tab');
      focused = await inPage<string>(page, `document.activeElement?.id ?? ''`);
    }
    assert.equal(focused, 'order-number', 'the order field is reachable with Tab');
    await page.keyboard.type(n);
    await page.keyboard.press('Enter');
    await waitForText(page.getByTestId('upload-message'), /already uploaded/);
    assert.deepEqual(await unlabelledControls(page), []);
    await ctx.close();
  });
}
