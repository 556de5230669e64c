import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { configWith } from '../../src/kernel/config.js';
import { createLogger } from '../../src/kernel/logger.js';
import { startShard, type ShardRunning } from '../../src/ledger/shard/main.js';
import { shardSettings, type ShardConfig } from '../../src/ledger/shard/config.js';
import { call } from '../support/http.js';
import { assertObservedStatusesDocumented, documentedOperations } from '../support/openapi.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { SHARD_OPERATIONS } from '../support/ledger-expectations.js';

const TOKEN = 'shard-test-token';
let db: FreshDatabase;
let shard: ShardRunning;

function config(over: Partial<ShardConfig>): ShardConfig {
  return configWith(shardSettings, { address: '127.0.0.1:0', shardToken: TOKEN, databasePoolSize: 4, ...over });
}

async function op(method: string, path: string, body?: object) {
  const r = await call(shard.url, method, path, { token: TOKEN, ...(body ? { body } : {}) });
  assert.equal(r.status, 200, `${method} ${path}: ${r.status} ${r.text}`);
  return r.json as Record<string, unknown>;
}

async function balance(id: string) {
  return op('GET', `/internal/wallets/${id}`);
}

before(async () => {
  db = await freshDatabase('ledger_shard');
  shard = await startShard(config({ databaseUri: db.url }), { logger: createLogger('shard', 'silent') });
  for (const id of ['1', '2', '3']) assert.equal((await op('POST', '/internal/wallets', { wallet_id: id })).result, 'created');
  assert.equal((await op('POST', '/internal/tx/dep-1/deposit', { wallet_id: '1', amount: 10_000 })).result, 'confirmed');
});

after(async () => {
  await shard?.stop();
  await db?.drop();
});

test('refuses callers without the shard token (401)', async () => {
  assert.equal((await call(shard.url, 'GET', '/internal/wallets/1')).status, 401);
  assert.equal((await call(shard.url, 'GET', '/internal/wallets/1', { token: 'wrong' })).status, 401);
  assert.equal((await call(shard.url, 'POST', '/internal/tx/x/deposit', { token: 'x', body: { wallet_id: '1', amount: 5 } })).status, 401);
  assert.deepEqual(await balance('1'), { result: 'ok', wallet_id: '1', balance: 10_000, reserved: 0 });
});

test('create wallet and deposit are idempotent', async () => {
  assert.equal((await op('POST', '/internal/wallets', { wallet_id: '1' })).result, 'exists');
  assert.equal((await op('POST', '/internal/tx/dep-1/deposit', { wallet_id: '1', amount: 10_000 })).result, 'confirmed');
  assert.equal((await op('POST', '/internal/tx/dep-1/deposit', { wallet_id: '1', amount: 5 })).result, 'conflict');
  assert.equal((await balance('1')).balance, 10_000);
  assert.deepEqual(await op('POST', '/internal/tx/dep-x/deposit', { wallet_id: '99', amount: 5 }), { result: 'unknown_wallet', wallet_id: '99' });
  assert.deepEqual(await op('POST', '/internal/tx/dep-x/deposit', { wallet_id: '99', amount: 5 }), { result: 'unknown_wallet', wallet_id: '99' });
  assert.deepEqual(await balance('99'), { result: 'unknown_wallet' });
});

test('bad requests are 400 and change nothing', async () => {
  for (const body of [{ wallet_id: '1', amount: 0 }, { wallet_id: '1', amount: 1.5 }, { wallet_id: 'abc', amount: 5 }, { wallet_id: '1' }]) {
    const r = await call(shard.url, 'POST', '/internal/tx/bad/deposit', { token: TOKEN, body });
    assert.equal(r.status, 400, JSON.stringify(body));
  }
  assert.equal((await call(shard.url, 'POST', '/internal/tx/bad/transfer', { token: TOKEN, body: { from_id: '1', to_id: '1', amount: 5 } })).status, 400);
  assert.deepEqual(await op('GET', '/internal/tx/bad'), { result: 'none' });
});

test('debit hold, repeated reserve, confirm twice', async () => {
  const hold = { wallet_id: '1', kind: 'debit-hold', amount: 3_000 };
  assert.equal((await op('POST', '/internal/tx/h1/reserve', hold)).result, 'reserved');
  assert.equal((await op('POST', '/internal/tx/h1/reserve', hold)).result, 'reserved');
  assert.equal((await op('POST', '/internal/tx/h1/reserve', { ...hold, amount: 1 })).result, 'conflict');
  assert.deepEqual(await balance('1'), { result: 'ok', wallet_id: '1', balance: 10_000, reserved: 3_000 });
  assert.equal((await op('GET', '/internal/tx/h1')).state, 'reserved');
  assert.equal((await op('POST', '/internal/tx/h1/confirm')).result, 'confirmed');
  assert.equal((await op('POST', '/internal/tx/h1/confirm')).result, 'confirmed');
  assert.equal((await op('POST', '/internal/tx/h1/cancel')).result, 'confirmed');
  assert.deepEqual(await balance('1'), { result: 'ok', wallet_id: '1', balance: 7_000, reserved: 0 });
});

test('a hold never makes available money negative: insufficient_funds, recorded', async () => {
  assert.equal((await op('POST', '/internal/tx/h2/reserve', { wallet_id: '1', kind: 'debit-hold', amount: 5_000 })).result, 'reserved');
  assert.equal((await op('POST', '/internal/tx/h3/reserve', { wallet_id: '1', kind: 'debit-hold', amount: 2_001 })).result, 'insufficient_funds');
  assert.equal((await op('POST', '/internal/tx/h3/reserve', { wallet_id: '1', kind: 'debit-hold', amount: 2_001 })).result, 'insufficient_funds');
  assert.deepEqual(await op('POST', '/internal/tx/h4/reserve', { wallet_id: '77', kind: 'debit-hold', amount: 1 }), {
    result: 'unknown_wallet',
    wallet_id: '77',
  });
  assert.deepEqual(await op('POST', '/internal/tx/h5/reserve', { wallet_id: '77', kind: 'pending-credit', amount: 1 }), {
    result: 'unknown_wallet',
    wallet_id: '77',
  });
  assert.deepEqual(await op('POST', '/internal/tx/h3/cancel'), { result: 'cancelled', reason: 'insufficient_funds' });
  assert.equal((await op('POST', '/internal/tx/h2/cancel')).result, 'cancelled');
  assert.equal((await op('POST', '/internal/tx/h2/cancel')).result, 'cancelled');
  assert.equal((await op('POST', '/internal/tx/h2/confirm')).result, 'cancelled');
  assert.deepEqual(await balance('1'), { result: 'ok', wallet_id: '1', balance: 7_000, reserved: 0 });
});

test('pending credit is applied only on confirm', async () => {
  assert.equal((await op('POST', '/internal/tx/c1/reserve', { wallet_id: '2', kind: 'pending-credit', amount: 400 })).result, 'reserved');
  assert.equal((await balance('2')).balance, 0);
  assert.equal((await op('POST', '/internal/tx/c1/confirm')).result, 'confirmed');
  assert.equal((await op('POST', '/internal/tx/c1/confirm')).result, 'confirmed');
  assert.equal((await balance('2')).balance, 400);
  assert.equal((await op('POST', '/internal/tx/nothing/confirm')).result, 'not_found');
});

test('a cancel before its reserve blocks the reserve for good', async () => {
  assert.deepEqual(await op('POST', '/internal/tx/early/cancel'), { result: 'cancelled', reason: 'cancelled' });
  assert.deepEqual(await op('POST', '/internal/tx/early/cancel'), { result: 'cancelled', reason: 'cancelled' });
  assert.equal((await op('POST', '/internal/tx/early/reserve', { wallet_id: '1', kind: 'debit-hold', amount: 100 })).result, 'cancelled');
  assert.equal((await op('POST', '/internal/tx/early/transfer', { from_id: '1', to_id: '2', amount: 100 })).result, 'cancelled');
  assert.equal((await op('POST', '/internal/tx/early/confirm')).result, 'cancelled');
  assert.deepEqual(await balance('1'), { result: 'ok', wallet_id: '1', balance: 7_000, reserved: 0 });
});

test('local transfer: once per tx id, refusals recorded', async () => {
  const t = { from_id: '1', to_id: '3', amount: 1_500 };
  assert.equal((await op('POST', '/internal/tx/t1/transfer', t)).result, 'confirmed');
  assert.equal((await op('POST', '/internal/tx/t1/transfer', t)).result, 'confirmed');
  assert.equal((await op('POST', '/internal/tx/t1/cancel')).result, 'confirmed');
  assert.equal((await balance('1')).balance, 5_500);
  assert.equal((await balance('3')).balance, 1_500);
  assert.equal((await op('POST', '/internal/tx/t2/transfer', { from_id: '3', to_id: '1', amount: 1_501 })).result, 'insufficient_funds');
  assert.deepEqual(await op('POST', '/internal/tx/t3/transfer', { from_id: '3', to_id: '404', amount: 1 }), { result: 'unknown_wallet', wallet_id: '404' });
  assert.deepEqual(await op('POST', '/internal/tx/t3/transfer', { from_id: '3', to_id: '404', amount: 1 }), { result: 'unknown_wallet', wallet_id: '404' });
  assert.equal((await balance('3')).balance, 1_500);
});

test('concurrent holds and transfers from one wallet never overdraw it', async () => {
  await op('POST', '/internal/wallets', { wallet_id: '50' });
  await op('POST', '/internal/wallets', { wallet_id: '51' });
  await op('POST', '/internal/tx/dep-50/deposit', { wallet_id: '50', amount: 1_000 });
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? op('POST', `/internal/tx/ch-${i}/reserve`, { wallet_id: '50', kind: 'debit-hold', amount: 100 })
        : op('POST', `/internal/tx/ct-${i}/transfer`, { from_id: i % 4 === 1 ? '50' : '51', to_id: i % 4 === 1 ? '51' : '50', amount: 100 }),
    ),
  );
  const w50 = await balance('50');
  const w51 = await balance('51');
  assert.ok((w50.balance as number) >= (w50.reserved as number));
  assert.equal((w50.balance as number) + (w51.balance as number), 1_000);
  const held = results.filter((r, i) => i % 2 === 0 && r.result === 'reserved').length;
  assert.equal(w50.reserved, held * 100);
});

test('every registered route is documented, and so is every status answered in this file', async () => {
  assert.deepEqual(await documentedOperations(shard.app, shard.url), SHARD_OPERATIONS);
  const checked = await assertObservedStatusesDocumented(shard.url);
  assert.ok(checked >= 8, `only ${checked} (route, status) pairs observed`);
});
