import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { orderNumber, postOrder, postRule } from '../support/accrual.js';
import { call, uniqueLogin } from '../support/http.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { ROOT, startBin, type ServiceProcess } from '../support/process.js';
import { browserMissing, launchHeadless, type Headless } from './browser.js';
import { screenshot, signUpInBrowser, waitForText } from './pages.js';

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
    ['accrual poller (src/loyalty/poller.ts)', 'src/loyalty/poller.ts'],
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
  await waitForText(page.getByTestId('upload-message'), /accepted/);
  const row = page.locator(`tr[data-order="${n}"]`);
  await waitForText(row, /NEW|PROCESSING/);
  // the shop registers the purchase with the calculation system: 10 % of 7000
  assert.equal((await postOrder(accrual.url, n, [{ description: `Чайник Bork-${process.pid}`, price: 7000 }])).status, 202);
  const navigations: string[] = [];
  page.on('framenavigated', (f) => navigations.push(f.url()));
  await waitForText(row, /PROCESSED/, 30_000);
  await waitForText(row, /\+700\.00/);
  await waitForText(page.getByTestId('header-balance'), /700\.00/);
  assert.deepEqual(navigations, [], 'the page updated itself, no reload');

  await page.getByRole('link', { name: 'Spend', exact: true }).click();
  const spendOn = orderNumber();
  await page.getByLabel('New order number').fill(spendOn);
  await page.getByLabel('Points to spend').fill('250');
  await page.getByRole('button', { name: 'Pay with points' }).click();
  await waitForText(page.getByTestId('withdraw-message'), /Done: 250\.00 points/);
  await waitForText(page.locator(`tr[data-withdrawal="${spendOn}"]`), /250\.00/);
  await page.getByRole('link', { name: 'Balance' }).click();
  await waitForText(page.getByTestId('balance-current'), /^450\.00$/);
  await waitForText(page.getByTestId('balance-withdrawn'), /^250\.00$/);
  await ctx.close();
});

test('ledger end to end: wallets on two shards, a transfer in the browser shows SUCCESSFUL; another member cannot see them', {
  skip: noLedgerFlow ?? false,
  timeout: 90_000,
}, async () => {
  assert.ok(gophermart && orchestrator && chrome);
  const ctx = await chrome.context();
  const page = await ctx.newPage();
  const login = uniqueLogin('wallets');
  // signing up also opens a ledger account with the same pair (best effort, no second form)
  await signUpInBrowser(page, gophermart.url, login, 'wallet-pass');
  await page.getByRole('link', { name: 'Wallets' }).click();
  await page.waitForURL(/\/wallets$/);
  await page.getByRole('button', { name: 'Create wallet' }).waitFor();
  assert.equal(await page.getByText('Connect to the wallet ledger').count(), 0, 'already connected to the ledger');
  const ledgerCookie = (await ctx.cookies()).find((c) => c.name === 'ledger_token');
  assert.ok(ledgerCookie?.httpOnly && ledgerCookie.path === '/ledger', 'ledger session kept in its own HttpOnly cookie');

  // ids of different parity live on different shards (id % 2)
  const base = 2 * (Math.floor(Math.random() * 1e9) + 1e9);
  const [even, odd] = [String(base), String(base + 1)];
  for (const id of [even, odd]) {
    await page.getByLabel('Wallet id', { exact: true }).fill(id);
    await page.getByRole('button', { name: 'Create wallet' }).click();
    await waitForText(page.getByTestId('create-wallet-message'), new RegExp(`Wallet ${id} is being created`));
    await waitForText(page.locator(`[data-wallet="${id}"] [data-testid="wallet-balance"]`), /^0\.00$/, 15_000);
  }
  const deposit = await call(orchestrator.url, 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: { wallet_id: even, amount: '100' } });
  assert.equal(deposit.status, 202, deposit.text);
  // an operator's deposit does not come from this page, so the member refreshes to see it
  const evenBalance = page.locator(`[data-wallet="${even}"] [data-testid="wallet-balance"]`);
  for (let i = 0; i < 50 && (await evenBalance.textContent()) !== '100.00'; i++) {
    await page.getByRole('button', { name: 'Refresh balances' }).click();
    await new Promise((r) => setTimeout(r, 300));
  }
  await waitForText(evenBalance, /^100\.00$/, 1000);
  await waitForText(page.locator(`[data-wallet="${even}"]`), /\+100\.00.*SUCCESSFUL/s);

  await page.getByLabel('From wallet').selectOption(even);
  await page.getByLabel('To wallet id').fill(odd);
  await page.getByLabel('Amount', { exact: true }).fill('30.50');
  await page.getByRole('button', { name: 'Send' }).click();
  const accepted = await waitForText(page.getByTestId('transfer-message'), /Transfer accepted \(transaction [^)]+\)/);
  const txId = /transaction ([^)]+)\)/.exec(accepted)?.[1] ?? '';
  // the history refreshes itself while the transfer is PENDING/PROCESSING
  const sent = page.locator(`[data-wallet="${even}"] tr[data-tx="${txId}"]`);
  await waitForText(sent, /SUCCESSFUL/, 20_000);
  assert.match((await sent.textContent()) ?? '', /−30\.50/);
  await waitForText(page.locator(`[data-wallet="${odd}"] tr[data-tx="${txId}"]`), /\+30\.50.*SUCCESSFUL/s, 10_000);
  await page.getByRole('button', { name: 'Refresh balances' }).click();
  await waitForText(page.locator(`[data-wallet="${even}"] [data-testid="wallet-balance"]`), /^69\.50$/);
  await waitForText(page.locator(`[data-wallet="${odd}"] [data-testid="wallet-balance"]`), /^30\.50$/);
  await screenshot(page, 'wallets');

  // a second member: signs up, gets nothing of the first one's, and is refused when asking
  const other = await chrome.context();
  const p2 = await other.newPage();
  await signUpInBrowser(p2, gophermart.url, uniqueLogin('other'), 'other-pass');
  await p2.getByRole('link', { name: 'Wallets' }).click();
  await waitForText(p2.locator('#wallet-list'), /No wallets yet/);
  await p2.getByLabel('Show a wallet you already have').fill(even);
  await p2.getByRole('button', { name: 'Show' }).click();
  await waitForText(p2.locator('.add-existing'), /not one of yours/);
  const probe = await p2.request.get(`${gophermart.url}/ledger/api/user/transactions/${even}`);
  assert.ok([403, 404].includes(probe.status()), `someone else's history: ${probe.status()}`);
  await Promise.all([ctx.close(), other.close()]);
});
