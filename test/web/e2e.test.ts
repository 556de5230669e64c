import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { orderNumber, postOrder, postRule } from '../support/accrual.js';
import type { Page } from 'playwright-core';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { ROOT, startBin, type ServiceProcess } from '../support/process.js';
import { browserMissing, launchHeadless, type Headless } from './browser.js';
import { inPage, screenshot, signUpInBrowser, waitForText } from './pages.js';

// End to end through the browser against the real binaries on real PostgreSQL: bin/gophermart
// (with its accrual poller and the /ledger proxy), bin/accrual, bin/orchestrator and two
// bin/shard processes, each shard on its own database.

const SHARD_TOKEN = 'e2e-shard-token-0123456789';
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

function missingParts(parts: Array<[string, string]>): string | null {
  const absent = parts.filter(([, path]) => !existsSync(resolve(ROOT, path))).map(([name]) => name);
  return absent.length > 0 ? `not built on this branch yet: ${absent.join(', ')}` : null;
}

const noBrowser = browserMissing();
const noAccrualFlow =
  noBrowser ??
  missingParts([
    ['bin/accrual', 'bin/accrual'],
    ['accrual poller (src/gophermart/poller.ts)', 'src/gophermart/poller.ts'],
  ]);
const noLedgerFlow =
  noBrowser ??
  missingParts([
    ['bin/orchestrator', 'bin/orchestrator'],
    ['bin/shard', 'bin/shard'],
  ]);

const dbs: FreshDatabase[] = [];
const procs: ServiceProcess[] = [];
let chrome: Headless | undefined;
let gophermart: ServiceProcess | undefined;
let accrual: ServiceProcess | undefined;
let orchestrator: ServiceProcess | undefined;
/** Set when the orchestrator on this branch predates the wallet list (the wallet pages need it). */
let noWalletList: string | null = null;

async function database(prefix: string): Promise<FreshDatabase> {
  const db = await freshDatabase(prefix);
  dbs.push(db);
  return db;
}
async function start(name: string, env: Record<string, string>): Promise<ServiceProcess> {
  const p = await startBin(name, env);
  procs.push(p);
  return p;
}

before(async () => {
  if (noAccrualFlow && noLedgerFlow) return;
  const main = await database('gm_e2e');
  if (!noAccrualFlow) accrual = await start('accrual', { DATABASE_URI: main.url, PROCESSING_DELAY: '1500', RATE_LIMIT: '0' });
  if (!noLedgerFlow) {
    const [s0, s1] = await Promise.all([database('gm_e2e_s0'), database('gm_e2e_s1')]);
    const shards = await Promise.all([start('shard', { DATABASE_URI: s0.url, SHARD_TOKEN }), start('shard', { DATABASE_URI: s1.url, SHARD_TOKEN })]);
    orchestrator = await start('orchestrator', {
      DATABASE_URI: main.url,
      SHARD_ADDRESS_1: shards[0]?.url ?? '',
      SHARD_ADDRESS_2: shards[1]?.url ?? '',
      SHARD_TOKEN,
      ADMIN_TOKEN,
    });
  }
  if (orchestrator && (await call(orchestrator.url, 'GET', '/api/user/wallets')).status === 404)
    noWalletList = 'the orchestrator on this branch has no GET /api/user/wallets yet';
  [gophermart, chrome] = await Promise.all([
    start('gophermart', {
      DATABASE_URI: main.url,
      ACCRUAL_SYSTEM_ADDRESS: accrual?.url ?? 'http://127.0.0.1:9',
      ORCHESTRATOR_ADDRESS: orchestrator?.url ?? 'http://127.0.0.1:9',
      POLL_INTERVAL: '200ms',
      POLL_BACKOFF_BASE: '300ms',
      POLL_BACKOFF_MAX: '1s',
    }),
    launchHeadless(),
  ]);
});
after(async () => {
  await chrome?.close();
  for (const p of procs.reverse()) await p.stop();
  for (const db of dbs) await db.drop();
});

test('accrual end to end: upload in the browser, the accrual service credits it, the page shows PROCESSED and the new balance unasked; withdraw; history', {
  skip: noAccrualFlow ?? false,
  timeout: 90_000,
}, async () => {
  assert.ok(gophermart && accrual && chrome);
  assert.equal((await postRule(accrual.url, `Bork-${process.pid}`, 10, '%')).status, 200);
  const ctx = await chrome.context();
  const page = await ctx.newPage();
  await signUpInBrowser(page, gophermart.url, uniqueLogin('e2e'), 'e2e-pass');
  const n = orderNumber();
  await page.getByLabel('Order number').fill(n);
  await page.getByRole('button', { name: 'Upload' }).click();
  await waitForText(page.getByTestId('upload-message'), /uploaded\. Its points are being calculated/);
  const row = page.locator(`tr[data-order="${n}"]`);
  await waitForText(row, /Waiting|Calculating/);
  // the shop registers the purchase with the calculation system: 10 % of 7000
  assert.equal((await postOrder(accrual.url, n, [{ description: `Чайник Bork-${process.pid}`, price: 7000 }])).status, 202);
  const navigations: string[] = [];
  page.on('framenavigated', (f) => navigations.push(f.url()));
  await waitForText(row, /Credited.*\+700\.00/s, 30_000);
  assert.equal(await row.getAttribute('data-status'), 'PROCESSED');
  await waitForText(page.getByTestId('header-balance'), /700\.00/);
  assert.deepEqual(navigations, [], 'the page updated itself, no reload');

  await page.getByRole('link', { name: 'Spend', exact: true }).click();
  const spendOn = orderNumber();
  await page.getByLabel('Order number to pay for').fill(spendOn);
  await page.getByLabel('Points to spend').fill('250');
  await page.getByRole('button', { name: 'Pay with points…' }).click();
  await page.getByRole('button', { name: 'Confirm payment' }).click();
  await waitForText(page.getByTestId('withdraw-message'), /Done: 250\.00 points/);
  await waitForText(page.locator(`tr[data-withdrawal="${spendOn}"]`), /250\.00/);
  await page.getByRole('link', { name: 'Balance' }).click();
  await waitForText(page.getByTestId('balance-current'), /^450\.00$/);
  await waitForText(page.getByTestId('balance-withdrawn'), /^250\.00$/);
  await ctx.close();
});

/** The sender's history entries of a wallet, straight from the orchestrator (not through the page). */
async function history(
  token: string,
  walletId: string,
): Promise<Array<{ tx_id: string; amount: string; status: string; kind?: string; counterparty?: string }>> {
  assert.ok(orchestrator);
  const r = await call(orchestrator.url, 'GET', `/api/user/transactions/${walletId}`, { token });
  if (r.status === 204) return [];
  assert.equal(r.status, 200, r.text);
  return r.json as Array<{ tx_id: string; amount: string; status: string; kind?: string; counterparty?: string }>;
}

async function deposit(walletId: string, amount: string): Promise<void> {
  assert.ok(orchestrator);
  const r = await call(orchestrator.url, 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: { wallet_id: walletId, amount } });
  assert.equal(r.status, 202, r.text);
}

const walletBalance = (page: Page, id: string) => page.locator(`[data-wallet="${id}"] [data-testid="wallet-balance"]`);

/** Clicks "Refresh balances" until the wallet shows `amount` (a deposit does not come from this page). */
async function refreshUntil(page: Page, id: string, amount: RegExp): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const shown = await waitForText(walletBalance(page, id), amount, 1000).then(
      () => true,
      () => false,
    );
    if (shown) return;
    if (Date.now() > deadline) throw new Error(`wallet ${id} never showed ${amount}`);
    await page.getByRole('button', { name: 'Refresh balances' }).click();
  }
}

async function send(page: Page, from: string, to: string, amount: string): Promise<void> {
  await page.getByLabel('From wallet').selectOption(from);
  await page.getByLabel('To wallet id').fill(to);
  await page.getByLabel('Amount', { exact: true }).fill(amount);
}

const noWalletFlow = (): string | false => noLedgerFlow ?? noWalletList ?? false;

test('wallet pages: wallets come from the ledger in a fresh browser, a transfer ends "Sent" with the counterparty, deposits are labelled', {
  skip: noLedgerFlow ?? false,
  timeout: 120_000,
}, async (t) => {
  if (noWalletFlow()) return t.skip(String(noWalletFlow()));
  assert.ok(gophermart && orchestrator && chrome);
  const ctx = await chrome.context();
  const page = await ctx.newPage();
  // a realistic login for the screenshots in the README
  const login = 'maria.keller';
  const password = 'correct-horse-battery';
  // signing up also opens a ledger account with the same pair (best effort, no second form)
  await signUpInBrowser(page, gophermart.url, login, password);
  await page.getByRole('link', { name: 'Wallets' }).click();
  await page.waitForURL(/\/wallets$/);
  await page.getByRole('button', { name: 'Create wallet' }).waitFor();
  assert.equal(await page.getByText('Connect to the wallet ledger').count(), 0, 'already connected to the ledger');
  const ledgerCookie = (await ctx.cookies()).find((c) => c.name === 'ledger_token');
  assert.ok(ledgerCookie?.httpOnly && ledgerCookie.path === '/ledger', 'ledger session kept in its own HttpOnly cookie');
  await waitForText(page.locator('#wallet-list'), /No wallets yet/);

  // ids of different parity live on different shards (id % 2)
  const base = 2 * (Math.floor(Math.random() * 1e9) + 1e9);
  const [even, odd] = [String(base), String(base + 1)];
  // the first creation's answer is lost after the ledger took it: creating again is safe, and is
  // the same submission (the same Idempotency-Key)
  const createKeys: string[] = [];
  await page.route('**/ledger/api/user/create_wallet', async (route) => {
    createKeys.push(route.request().headers()['idempotency-key'] ?? '');
    if (createKeys.length > 1) return route.fallback();
    const reached = await route.fetch();
    assert.equal(reached.status(), 202);
    await route.abort('connectionreset');
  });
  for (const id of [even, odd]) {
    await page.getByLabel('Wallet id', { exact: true }).fill(id);
    if (id === even) {
      await page.getByRole('button', { name: 'Create wallet' }).click();
      await waitForText(page.getByTestId('create-wallet-message'), /Creating it again is safe: a wallet id is never created twice\.$/, 15_000);
      await page.getByRole('button', { name: 'Create wallet' }).click();
      await waitForText(page.getByTestId('create-wallet-message'), new RegExp(`Wallet ${id} is (being created|ready)`));
      assert.equal(createKeys.length, 2);
      assert.equal(createKeys[1], createKeys[0], 'the second creation carried the same Idempotency-Key');
      await page.unroute('**/ledger/api/user/create_wallet');
    } else {
      // from the keyboard: the button, disabled while it sends, gives the focus back to the field, not to the page
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
    }
    await waitForText(page.getByTestId('create-wallet-message'), new RegExp(`Wallet ${id} is (being created|ready)`));
    await waitForText(walletBalance(page, id), /^0\.00$/, 15_000);
  }
  assert.equal(await inPage<string>(page, 'document.activeElement?.id'), 'wallet-id');
  await waitForText(page.locator(`[data-wallet="${odd}"]`), /No money has moved yet/, 15_000);
  await deposit(even, '100');
  await refreshUntil(page, even, /^100\.00$/);
  await waitForText(page.locator(`[data-wallet="${even}"] tbody tr`).first(), /Deposit.*\+100\.00.*Received/s);

  await send(page, even, odd, '30.50');
  // from the keyboard too: Tab from the amount to Send, Enter; the focus comes back to the form
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await waitForText(page.getByTestId('transfer-message'), new RegExp(`^Sent: 30\\.50 to wallet ${odd}\\.$`), 30_000);
  assert.equal(await inPage<string>(page, 'document.activeElement?.id'), 'transfer-from');
  assert.doesNotMatch((await page.getByTestId('transfer-message').textContent()) ?? '', /[0-9a-f]{8}-[0-9a-f]{4}/, 'no raw transaction id');
  await waitForText(walletBalance(page, even), /^69\.50$/, 10_000);
  await waitForText(walletBalance(page, odd), /^30\.50$/, 10_000);
  await waitForText(page.locator(`[data-wallet="${even}"] tr[data-status="SUCCESSFUL"]`).first(), new RegExp(`To wallet ${odd}.*−30\\.50.*Sent`, 's'));
  await waitForText(page.locator(`[data-wallet="${odd}"] tr[data-status="SUCCESSFUL"]`).first(), new RegExp(`From wallet ${even}.*\\+30\\.50.*Received`, 's'));
  await waitForText(page.getByTestId('create-wallet-message'), new RegExp(`Wallet ${odd} is ready`));
  await screenshot(page, 'wallets');

  // over what is available: said before sending, and Send stays disabled
  await send(page, even, odd, '70');
  await waitForText(page.locator('#transfer-amount-note'), /More than the 69\.50 available in wallet/);
  assert.equal(await page.getByRole('button', { name: 'Send' }).isDisabled(), true);
  await page.getByLabel('Amount', { exact: true }).fill('');
  const phone = await chrome.context({ width: 375, height: 740 });
  await phone.addCookies(await ctx.cookies());
  const small = await phone.newPage();
  await small.goto(`${gophermart.url}/wallets`);
  await waitForText(small.locator(`[data-wallet="${odd}"] [data-testid="wallet-balance"]`), /^30\.50$/, 10_000);
  const widths = await inPage<{ scroll: number; view: number }>(small, '({ scroll: document.documentElement.scrollWidth, view: window.innerWidth })');
  assert.ok(widths.scroll <= widths.view, `page is ${widths.scroll}px wide in a ${widths.view}px viewport`);
  await screenshot(small, 'wallets-phone');
  await phone.close();

  // a fresh browser (no storage, no cookies): after signing in, the same wallets are listed
  const fresh = await chrome.context();
  const p2 = await fresh.newPage();
  await p2.goto(`${gophermart.url}/signin`);
  await p2.getByLabel('Login').fill(login);
  await p2.getByLabel('Password').fill(password);
  await p2.locator('form').getByRole('button', { name: 'Sign in' }).click();
  await p2.waitForURL(/\/orders$/);
  await p2.getByRole('link', { name: 'Wallets' }).click();
  await waitForText(walletBalance(p2, even), /^69\.50$/, 15_000);
  await waitForText(walletBalance(p2, odd), /^30\.50$/);
  assert.deepEqual(await inPage<string>(p2, 'JSON.stringify(localStorage)'), '{}', 'nothing kept in the browser');
  // money that arrives while the member is in another tab shows when they come back, without "Refresh balances"
  await deposit(odd, '5');
  const ledgerToken = (await call(orchestrator.url, 'POST', '/auth/login', { body: { login, password } })).headers.get('authorization') ?? '';
  for (let settled = false; !settled; ) {
    settled = (await history(ledgerToken.replace(/^Bearer /, ''), odd)).some((t) => t.kind === 'deposit' && t.status === 'SUCCESSFUL');
    if (!settled) await new Promise((r) => setTimeout(r, 50));
  }
  // a headless page is always visible: only the event of the tab being shown again is sent
  await inPage(p2, `document.dispatchEvent(new Event('visibilitychange'))`);
  await waitForText(walletBalance(p2, odd), /^35\.50$/, 5000);

  // a second member gets nothing of the first one's
  const other = await chrome.context();
  const p3 = await other.newPage();
  await signUpInBrowser(p3, gophermart.url, uniqueLogin('other'), 'other-pass');
  await p3.getByRole('link', { name: 'Wallets' }).click();
  await waitForText(p3.locator('#wallet-list'), /No wallets yet/);
  const probe = await p3.request.get(`${gophermart.url}/ledger/api/user/transactions/${even}`);
  assert.ok([403, 404].includes(probe.status()), `someone else's history: ${probe.status()}`);
  await Promise.all([ctx.close(), fresh.close(), other.close()]);
});

test('wallet pages: an over-drawing transfer ends with the refusal in words; a double click or a retry after a lost answer pays once', {
  skip: noLedgerFlow ?? false,
  timeout: 120_000,
}, async (t) => {
  if (noWalletFlow()) return t.skip(String(noWalletFlow()));
  assert.ok(gophermart && orchestrator && chrome);
  const ctx = await chrome.context();
  const page = await ctx.newPage();
  const login = uniqueLogin('payer');
  await signUpInBrowser(page, gophermart.url, login, 'payer-pass-1');
  const token = await signUp(orchestrator.url, login, 'payer-pass-1', '/auth/login');
  const base = 2 * (Math.floor(Math.random() * 1e9) + 1e9);
  const [from, to] = [String(base), String(base + 1)];
  for (const id of [from, to]) {
    const r = await call(orchestrator.url, 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } });
    assert.equal(r.status, 202, r.text);
  }
  await deposit(from, '100');
  await page.getByRole('link', { name: 'Wallets' }).click();
  await refreshUntil(page, from, /^100\.00$/);

  // the page still shows 100.00 when another client spends 80 of it: the ledger refuses, the page says why
  const elsewhere = await call(orchestrator.url, 'POST', '/api/user/do_transaction', { token, body: { from_id: from, to_id: to, amount: '80' } });
  assert.equal(elsewhere.status, 202, elsewhere.text);
  const spent = (elsewhere.json as { tx_id: string }).tx_id;
  for (const deadline = Date.now() + 20_000; ; ) {
    if ((await history(token, from)).some((e) => e.tx_id === spent && e.status === 'SUCCESSFUL')) break;
    assert.ok(Date.now() < deadline, 'the transfer made elsewhere finished');
    await new Promise((r) => setTimeout(r, 200));
  }
  await send(page, from, to, '50');
  await page.getByRole('button', { name: 'Send' }).click();
  await waitForText(page.getByTestId('transfer-message'), /^Refused: not enough funds in the wallet\. Nothing was moved\.$/, 30_000);
  // an old message goes as soon as the form changes
  await page.getByLabel('Amount', { exact: true }).fill('5');
  assert.equal(await page.getByTestId('transfer-message').textContent(), '');
  await waitForText(walletBalance(page, from), /^20\.00$/, 10_000);
  const refusedRow = page.locator(`[data-wallet="${from}"] tr[data-status="INVALID"]`);
  await waitForText(refusedRow, /not enough funds in the wallet.*Refused/s);
  assert.equal(await page.locator(`[data-wallet="${to}"] tr[data-status="INVALID"]`).count(), 0, 'the receiver never sees a refused transfer');

  // a double click is one submission: one transfer
  const before = (await history(token, from)).length;
  await send(page, from, to, '1.25');
  let sentRequests = 0;
  const countSent = (r: { url(): string }): void => {
    if (r.url().endsWith('/ledger/api/user/do_transaction')) sentRequests++;
  };
  page.on('request', countSent);
  await page.getByRole('button', { name: 'Send' }).dblclick();
  await waitForText(page.getByTestId('transfer-message'), /^Sent: 1\.25 to wallet/, 30_000);
  page.off('request', countSent);
  // a second click's request would have left at once, long before the first was followed to its end
  assert.equal(sentRequests, 1, 'one request for a double click');
  const afterDouble = await history(token, from);
  assert.equal(afterDouble.length, before + 1, 'one transfer for a double click');

  // the answer is lost after the ledger took the transfer; pressing Send again repeats the same submission
  const keys: string[] = [];
  let dropped = false;
  await page.route('**/ledger/api/user/do_transaction', async (route) => {
    keys.push(route.request().headers()['idempotency-key'] ?? '');
    if (dropped) return route.fallback();
    dropped = true;
    const reached = await route.fetch();
    assert.equal(reached.status(), 202);
    await route.abort('connectionreset');
  });
  await send(page, from, to, '2.50');
  await page.getByRole('button', { name: 'Send' }).click();
  const lost = await waitForText(page.getByTestId('transfer-message'), /Pressing Send again is safe/, 15_000);
  // the connection dropped, not the ledger: said as the header's banner says it, with no retry promised
  assert.match(lost, /^We could not send the transfer: this device cannot reach Gophermart\. Check your connection, then try again\./);
  assert.doesNotMatch(lost, /ledger is unavailable|we keep trying/);
  await page.getByRole('button', { name: 'Send' }).click();
  await waitForText(page.getByTestId('transfer-message'), /^Sent: 2\.50 to wallet/, 30_000);
  assert.equal(keys.length, 2);
  assert.match(keys[0] ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(keys[1], keys[0], 'the retry carried the same Idempotency-Key');
  const afterRetry = await history(token, from);
  assert.equal(afterRetry.length, afterDouble.length + 1, 'one transfer for a send and its retry');
  await waitForText(walletBalance(page, from), /^16\.25$/, 10_000);

  // a new submission with the same inputs is a new transfer, with a new key
  await page.getByLabel('Amount', { exact: true }).fill('2.50');
  await page.getByRole('button', { name: 'Send' }).click();
  await waitForText(page.getByTestId('transfer-message'), /^Sent: 2\.50 to wallet/, 30_000);
  assert.equal(keys.length, 3);
  assert.notEqual(keys[2], keys[0]);
  await waitForText(walletBalance(page, from), /^13\.75$/, 10_000);
  await ctx.close();
});

test('wallet pages: a member made through the API gets a ledger account at sign-in; the connect form checks a new password first', {
  skip: noLedgerFlow ?? false,
  timeout: 60_000,
}, async (t) => {
  if (noWalletFlow()) return t.skip(String(noWalletFlow()));
  assert.ok(gophermart && orchestrator && chrome);
  const signInAs = async (login: string, password: string): Promise<Page> => {
    const page = await (await chrome?.context())?.newPage();
    assert.ok(page && gophermart);
    await page.goto(`${gophermart.url}/signin`);
    await page.getByLabel('Login').fill(login);
    await page.getByLabel('Password').fill(password);
    await page.locator('form').getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Wallets' }).click();
    await page.waitForURL(/\/wallets$/);
    return page;
  };

  // registered with the loyalty API only: signing in in the browser opens the ledger account too
  const fresh = uniqueLogin('api-made');
  await signUp(gophermart.url, fresh, 'api-made-pass');
  const first = await signInAs(fresh, 'api-made-pass');
  await first.getByRole('button', { name: 'Create wallet' }).waitFor();
  assert.equal(await first.getByText('Connect to the wallet ledger').count(), 0);
  await first.context().close();

  // the ledger name is someone else's: the connect form, which checks a new password before sending
  const taken = uniqueLogin('taken');
  await signUp(orchestrator.url, taken, 'someone-elses-pass', '/auth/register');
  await signUp(gophermart.url, taken, 'my-loyalty-pass');
  const second = await signInAs(taken, 'my-loyalty-pass');
  await second.getByText('Connect to the wallet ledger').waitFor();
  let sent = 0;
  second.on('request', (r) => {
    if (r.url().includes('/ledger/auth/')) sent++;
  });
  await second.getByLabel('Ledger login').fill(`${taken}-2`);
  await second.getByLabel('Ledger password').fill('short');
  await second.getByRole('button', { name: 'Create a ledger account' }).click();
  await waitForText(second.getByTestId('connect-message'), /Choose a ledger password of 8 to 1024 characters/);
  assert.equal(sent, 0, 'a password the ledger would refuse is not sent');
  await second.context().close();

  // the ledger token expires (here: refused) while the page is open: the connect form says why it is back
  const third = await signInAs(fresh, 'api-made-pass');
  await third.getByRole('button', { name: 'Create wallet' }).waitFor();
  const cookie = (await third.context().cookies()).find((c) => c.name === 'ledger_token');
  assert.ok(cookie, 'signed in to the ledger');
  await third.context().addCookies([{ ...cookie, value: `${cookie.value.slice(0, -4)}AAAA` }]);
  // the page may find the session ended on its own first (it reads the wallets again when it
  // becomes visible): then the wallet form is gone before it is used, and the notice is the same
  const connectMessage = third.getByTestId('connect-message');
  await Promise.race([
    (async () => {
      await third.getByLabel('Wallet id', { exact: true }).fill(String(Date.now()));
      await third.getByRole('button', { name: 'Create wallet' }).click();
    })().catch(() => undefined),
    connectMessage.waitFor(),
  ]);
  await waitForText(connectMessage, /Your wallet ledger session has ended\. Sign in to the ledger again/);
  await third.getByLabel('Ledger password').fill('api-made-pass');
  await third.getByRole('button', { name: 'Sign in to the ledger' }).click();
  await third.getByRole('button', { name: 'Create wallet' }).waitFor();
  await third.context().close();
});
