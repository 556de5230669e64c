import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { withLuhnCheckDigit } from '../src/kernel/luhn.js';
import { shardPaths } from '../src/ledger/protocol.js';
import { call, signUp, uniqueLogin } from './support/http.js';
import { freePort, startBin, type ServiceProcess } from './support/process.js';
import { eventually } from './support/wait.js';

// `npm start` = bin/stack: every service in one process on one embedded database.
let stack: ServiceProcess;
let dir: string;
const urls: Record<string, string> = {};
let env: Record<string, string>;
let firstRun: { stdout: string; stderr: string };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gm-stack-'));
  const ports = { GOPHERMART_PORT: await freePort(), ACCRUAL_PORT: await freePort(), ORCHESTRATOR_PORT: await freePort() };
  const shards = [await freePort(), await freePort()];
  env = {
    DATA_DIR: dir,
    HOST: '127.0.0.1',
    // startBin waits for /healthz at RUN_ADDRESS: the loyalty service's port
    RUN_ADDRESS: `127.0.0.1:${ports.GOPHERMART_PORT}`,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    SHARD_PORTS: shards.join(','),
    PROCESSING_DELAY: '0',
    LOG_LEVEL: 'info',
  };
  stack = await startBin('stack', env);
  urls.gophermart = `http://127.0.0.1:${ports.GOPHERMART_PORT}`;
  urls.accrual = `http://127.0.0.1:${ports.ACCRUAL_PORT}`;
  urls.orchestrator = `http://127.0.0.1:${ports.ORCHESTRATOR_PORT}`;
  urls.shard_0 = `http://127.0.0.1:${shards[0]}`;
});

after(async () => {
  assert.equal(await stack?.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

test('loyalty + accrual: an uploaded order is calculated, polled and credited', async () => {
  const number = withLuhnCheckDigit(`55${Date.now()}`);
  assert.equal((await call(urls.accrual!, 'POST', '/api/goods', { body: { match: `Bork${process.pid}`, reward: 10, reward_type: '%' } })).status, 200);
  assert.equal(
    (await call(urls.accrual!, 'POST', '/api/orders', { body: { order: number, goods: [{ description: `Чайник Bork${process.pid}`, price: 7000 }] } })).status,
    202,
  );
  const token = await signUp(urls.gophermart!, uniqueLogin('stack'));
  assert.equal((await call(urls.gophermart!, 'POST', '/api/user/orders', { token, body: number, headers: { 'content-type': 'text/plain' } })).status, 202);
  const order = await eventually(
    'PROCESSED',
    async () => {
      const list = (await call(urls.gophermart!, 'GET', '/api/user/orders', { token })).json as Array<{ status: string; accrual?: number }> | undefined;
      return list?.[0]?.status === 'PROCESSED' ? list[0] : undefined;
    },
    15_000,
    100,
  );
  assert.equal(order.accrual, 700);
  assert.deepEqual((await call(urls.gophermart!, 'GET', '/api/user/balance', { token })).json, { current: 700, withdrawn: 0 });
});

test('ledger: a cross-shard transfer between two wallets succeeds; the admin token is in a private file', async () => {
  const file = join(dir, 'admin-token');
  assert.equal(statSync(file).mode & 0o077, 0, 'admin token file is private');
  const admin = readFileSync(file, 'utf8').trim();
  const login = uniqueLogin('wallets');
  const reg = await call(urls.orchestrator!, 'POST', '/auth/register', { body: { login, password: 'wallet-pass-1' } });
  assert.equal(reg.status, 200);
  const token = (reg.headers.get('authorization') ?? '').replace('Bearer ', '');
  const base = BigInt(Date.now()) * 2n;
  const [even, odd] = [String(base), String(base + 1n)];
  for (const id of [even, odd])
    assert.equal((await call(urls.orchestrator!, 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } })).status, 202);
  assert.equal((await call(urls.orchestrator!, 'POST', '/api/admin/deposit', { token: admin, body: { wallet_id: even, amount: '100' } })).status, 202);
  await eventually(
    'deposit',
    async () => {
      const b = (await call(urls.orchestrator!, 'GET', `/api/user/balance/${even}`, { token })).json as { balance?: number } | undefined;
      return b?.balance === 100 ? true : undefined;
    },
    15_000,
    100,
  );
  const tx = await call(urls.orchestrator!, 'POST', '/api/user/do_transaction', { token, body: { from_id: even, to_id: odd, amount: '40.5' } });
  assert.equal(tx.status, 202);
  const history = await eventually(
    'SUCCESSFUL',
    async () => {
      const list = (await call(urls.orchestrator!, 'GET', `/api/user/transactions/${odd}`, { token })).json as
        | Array<{ status: string; amount: string }>
        | undefined;
      return list?.[0]?.status === 'SUCCESSFUL' ? list : undefined;
    },
    15_000,
    100,
  );
  assert.equal(history[0]!.amount, '+40.50');
  assert.deepEqual((await call(urls.orchestrator!, 'GET', `/api/user/balance/${even}`, { token })).json, { wallet_id: even, balance: 59.5, reserved: 0 });
});

/** The stack's two generated secrets, and their files' permission bits. */
function keptTokens(): { admin: string; shard: string; modes: number[] } {
  const files = ['admin-token', 'shard-token'].map((n) => join(dir, n));
  const [admin, shard] = files.map((f) => readFileSync(f, 'utf8').trim()) as [string, string];
  return { admin, shard, modes: files.map((f) => statSync(f).mode & 0o777) };
}

async function shardAnswers(token?: string): Promise<number> {
  return (await call(urls.shard_0!, 'GET', shardPaths.wallet('2'), token ? { token } : {})).status;
}

test('the shard token is generated beside the operator token (0600), the shards take only it, and a restart re-uses both', async () => {
  firstRun = { stdout: stack.stdout(), stderr: stack.stderr() };
  const first = keptTokens();
  assert.deepEqual(first.modes, [0o600, 0o600]);
  assert.ok(first.shard.length >= 32, 'a long random token');
  assert.notEqual(first.shard, first.admin);
  assert.equal(await shardAnswers(first.shard), 200);
  assert.equal(await shardAnswers(), 401);
  assert.equal(await shardAnswers(first.admin), 401);

  assert.equal(await stack.stop(), 0);
  // the second start as on a terminal: readable logs, and LOG_LEVEL unset
  stack = await startBin('stack', { ...env, LOG_FORMAT: 'pretty', LOG_LEVEL: '' });
  assert.deepEqual(keptTokens(), first, 'the same tokens, still private');
  assert.equal(await shardAnswers(first.shard), 200);
});

test('npm start prints a banner for people on stderr; with JSON logs stdout holds only JSON lines, a line per request, health probes included', () => {
  // the first start of this file (JSON logs, LOG_LEVEL=info) was stopped by the previous test
  const banner = firstRun.stderr;
  assert.match(banner, /Gophermart platform is running \(embedded database in /);
  assert.ok(banner.includes(`${urls.gophermart}/   <- open this in a browser`), banner);
  for (const url of [urls.accrual, urls.orchestrator, urls.shard_0]) assert.ok(banner.includes(url!), `${url} in the banner`);
  assert.ok(banner.includes(join(dir, 'admin-token')) && banner.includes(join(dir, 'shard-token')), 'where the tokens are kept');
  const lines = firstRun.stdout.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 5);
  const entries = lines.map((l) => JSON.parse(l) as { msg?: string; path?: string });
  assert.ok(entries.some((e) => e.msg === 'platform running'));
  assert.ok(
    entries.some((e) => e.msg === 'request'),
    'requests are logged at info',
  );
  assert.ok(
    entries.some((e) => e.msg === 'request' && e.path === '/healthz'),
    'health probes get their request line at info like every request',
  );
});

test('npm start on a terminal: readable, quiet logs (warnings only) under the banner', async () => {
  assert.equal(await shardAnswers(), 401);
  const out = stack.output();
  assert.match(out, /Logs: warnings and errors only/);
  assert.doesNotMatch(out, /^\{/m, 'no JSON line');
  assert.doesNotMatch(out, /\bINFO\b|listening|migrations applied/, 'nothing below warn');
});
