import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { orchestratorOutcomes } from '../../src/ledger/orchestrator/contract.js';
import type { OrchestratorRunning } from '../../src/ledger/orchestrator/main.js';
import { IDEMPOTENCY_RETENTION_MS } from '../../src/ledger/orchestrator/recovery.js';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { ADMIN_TOKEN, deposit, startLedger, waitFinal, type LedgerUnderTest } from '../support/ledger.js';

// Two shards (even ids on shard 0, odd on shard 1) and two orchestrator instances on one ledger
// database; the second has its own operator token, so deposits show the per-token scope.
let ledger: LedgerUnderTest;
let second: OrchestratorRunning;
let sql: postgres.Sql;
let alice: string;
let bob: string;
const SECOND_ADMIN_TOKEN = 'ledger-test-second-admin-token';
const KEY_REUSED = { error: orchestratorOutcomes.key_reused.message };

function send(base: string, token: string, body: object, key?: string) {
  return call(base, 'POST', '/api/user/do_transaction', { token, body, ...(key === undefined ? {} : { headers: { 'idempotency-key': key } }) });
}

async function logged(from: string): Promise<number> {
  const rows = await sql.unsafe('select count(*)::int as n from ledger.transactions where from_wallet = $1', [from]);
  return Number(rows[0]?.n);
}

before(async () => {
  ledger = await startLedger(2, { confirmationLimitMs: 2_000, recoveryIntervalMs: 200 });
  second = await ledger.addOrchestrator({ adminToken: SECOND_ADMIN_TOKEN });
  sql = postgres(ledger.ledgerDb.url, { max: 1, onnotice: () => undefined });
  alice = await signUp(ledger.url, uniqueLogin('alice'), 'alice-password', '/auth/register');
  bob = await signUp(ledger.url, uniqueLogin('bob'), 'bob-password', '/auth/register');
  for (const [token, id] of [
    [alice, '10'],
    [alice, '12'],
    [alice, '14'],
    [alice, '16'],
    [bob, '11'],
    [bob, '13'],
  ] as const) {
    assert.equal((await call(ledger.url, 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } })).status, 202);
  }
  for (const id of ['10', '12', '14', '16', '11']) await waitFinal(ledger.url, id === '11' ? bob : alice, id, await deposit(ledger.url, id, 1_000));
});

after(async () => {
  await sql?.end();
  await ledger?.stop();
});

test('a repeat with the same key and body is answered as the first and moves nothing again', async () => {
  const body = { from_id: '10', to_id: '11', amount: '25.50' };
  const first = await send(ledger.url, alice, body, 'repeat-1');
  assert.equal(first.status, 202, first.text);
  const txId = (first.json as { tx_id: string }).tx_id;
  await waitFinal(ledger.url, alice, '10', txId);
  // later repeats, on either instance, with the amount written another way (same request)
  for (const [base, amount] of [
    [ledger.url, '25.50'],
    [second.url, 25.5],
    [ledger.url, '25.5'],
  ] as const) {
    const again = await send(base, alice, { ...body, amount }, 'repeat-1');
    assert.deepEqual([again.status, again.json], [202, { tx_id: txId }]);
  }
  assert.equal(await logged('10'), 1);
  const balance = (await call(ledger.url, 'GET', '/api/user/balance/10', { token: alice })).json as { balance: number };
  assert.equal(balance.balance, 974.5);
});

test('10 concurrent repeats spread over two instances: one transfer, ten identical answers', async () => {
  const body = { from_id: '12', to_id: '13', amount: 7 };
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => send(i % 2 === 0 ? ledger.url : second.url, alice, body, 'race-1')));
  assert.deepEqual(
    answers.map((a) => a.status),
    Array.from({ length: 10 }, () => 202),
  );
  const ids = new Set(answers.map((a) => (a.json as { tx_id: string }).tx_id));
  assert.equal(ids.size, 1, `answers carried ${ids.size} different tx ids`);
  const [txId] = [...ids] as [string];
  assert.equal((await waitFinal(ledger.url, alice, '12', txId)).status, 'SUCCESSFUL');
  assert.equal(await logged('12'), 1);
  const balance = (await call(second.url, 'GET', '/api/user/balance/13', { token: bob })).json as { balance: number };
  assert.equal(balance.balance, 7);
});

test('the same key with a different body is 422 and does nothing', async () => {
  const first = await send(ledger.url, alice, { from_id: '14', to_id: '11', amount: 5 }, 'changed-body');
  assert.equal(first.status, 202);
  for (const body of [
    { from_id: '14', to_id: '11', amount: 6 },
    { from_id: '14', to_id: '13', amount: 5 },
  ]) {
    const other = await send(second.url, alice, body, 'changed-body');
    assert.deepEqual([other.status, other.json], [422, KEY_REUSED]);
  }
  // a key first used for a transfer cannot create a wallet either
  const wallet = await call(ledger.url, 'POST', '/api/user/create_wallet', {
    token: alice,
    body: { wallet_id: '18' },
    headers: { 'idempotency-key': 'changed-body' },
  });
  assert.deepEqual([wallet.status, wallet.json], [422, KEY_REUSED]);
  assert.equal((await call(ledger.url, 'GET', '/api/user/balance/18', { token: alice })).status, 404);
  assert.equal(await logged('14'), 1);
});

test("keys are scoped to the caller: another user's identical key is another request", async () => {
  const mine = await send(ledger.url, alice, { from_id: '16', to_id: '11', amount: 1 }, 'shared-key');
  const theirs = await send(ledger.url, bob, { from_id: '11', to_id: '16', amount: 1 }, 'shared-key');
  assert.equal(mine.status, 202);
  assert.equal(theirs.status, 202, theirs.text);
  assert.notEqual((mine.json as { tx_id: string }).tx_id, (theirs.json as { tx_id: string }).tx_id);
  // bob's key does not let him see or repeat alice's request: under it he has his own other
  // request (422), and under a fresh key the same body is judged as his (403)
  const forged = await send(ledger.url, bob, { from_id: '16', to_id: '11', amount: 1 }, 'shared-key');
  assert.deepEqual([forged.status, forged.json], [422, KEY_REUSED]);
  const judged = await send(ledger.url, bob, { from_id: '16', to_id: '11', amount: 1 }, 'bobs-fresh-key');
  assert.equal(judged.status, 403);
});

test('without the header every request is a new transfer', async () => {
  const before = await logged('16');
  const body = { from_id: '16', to_id: '11', amount: 2 };
  const a = await send(ledger.url, alice, body);
  const b = await send(second.url, alice, body);
  assert.equal(a.status, 202);
  assert.equal(b.status, 202);
  assert.notEqual((a.json as { tx_id: string }).tx_id, (b.json as { tx_id: string }).tx_id);
  assert.equal(await logged('16'), before + 2);
});

test('a key outside 1–255 visible ASCII characters is 400 and nothing happens', async () => {
  const before = await logged('16');
  const body = { from_id: '16', to_id: '11', amount: 3 };
  for (const key of ['', ' ', 'x'.repeat(256), 'with space', 'tab\tkey', 'caf\u00e9']) {
    const r = await call(ledger.url, 'POST', '/api/user/do_transaction', {
      token: alice,
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
    });
    assert.equal(r.status, 400, JSON.stringify(key));
    assert.equal(typeof (r.json as { error: string }).error, 'string');
  }
  assert.equal((await send(ledger.url, alice, body, 'x'.repeat(255))).status, 202);
  assert.equal((await send(ledger.url, alice, body, '!~')).status, 202);
  assert.equal(await logged('16'), before + 2);
});

test('deposits: a repeat is answered the same; keys are scoped to the operator token', async () => {
  const depositWith = (base: string, adminToken: string, amount: number, key: string) =>
    call(base, 'POST', '/api/admin/deposit', { token: adminToken, body: { wallet_id: '13', amount }, headers: { 'idempotency-key': key } });
  const first = await depositWith(ledger.url, ADMIN_TOKEN, 40, 'dep-1');
  assert.equal(first.status, 202);
  const again = await depositWith(ledger.url, ADMIN_TOKEN, 40, 'dep-1');
  assert.deepEqual([again.status, again.json], [202, first.json]);
  const changed = await depositWith(ledger.url, ADMIN_TOKEN, 41, 'dep-1');
  assert.deepEqual([changed.status, changed.json], [422, KEY_REUSED]);
  // another operator token, the same key: its own deposit
  const other = await depositWith(second.url, SECOND_ADMIN_TOKEN, 40, 'dep-1');
  assert.equal(other.status, 202);
  assert.notEqual((other.json as { tx_id: string }).tx_id, (first.json as { tx_id: string }).tx_id);
  await waitFinal(ledger.url, bob, '13', (other.json as { tx_id: string }).tx_id);
  await waitFinal(ledger.url, bob, '13', (first.json as { tx_id: string }).tx_id);
  const balance = (await call(ledger.url, 'GET', '/api/user/balance/13', { token: bob })).json as { balance: number };
  assert.equal(balance.balance, 7 + 40 + 40);
  const stored = await sql.unsafe(`select scope from ledger.idempotency_keys where key = 'dep-1'`);
  assert.equal(stored.length, 2);
  for (const row of stored) assert.ok(!String(row.scope).includes(ADMIN_TOKEN) && !String(row.scope).includes(SECOND_ADMIN_TOKEN), 'token stored in clear');
});

test('create_wallet with a key: a repeat is 202 again, another wallet id under it is 422', async () => {
  const create = (id: string, key: string, token = alice) =>
    call(second.url, 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id }, headers: { 'idempotency-key': key } });
  assert.equal((await create('20', 'wallet-key')).status, 202);
  const again = await create('20', 'wallet-key');
  assert.deepEqual([again.status, again.json], [202, { wallet_id: '20' }]);
  assert.deepEqual([(await create('22', 'wallet-key')).status, (await create('22', 'wallet-key')).json], [422, KEY_REUSED]);
  // bob's own key for alice's wallet id: the id is taken (409), whatever the key
  assert.equal((await create('20', 'wallet-key', bob)).status, 409);
});

test('a refusal is kept under its key: the repeat is refused the same even after the wallet appears; another request under it is 422', async () => {
  // a transfer from a wallet alice does not own yet: 403
  const body = { from_id: '30', to_id: '11', amount: '1' };
  const first = await send(ledger.url, alice, body, 'refused-1');
  assert.equal(first.status, 403, first.text);
  assert.equal((await call(ledger.url, 'POST', '/api/user/create_wallet', { token: alice, body: { wallet_id: '30' } })).status, 202);
  for (const base of [ledger.url, second.url]) {
    const repeat = await send(base, alice, body, 'refused-1');
    assert.deepEqual([repeat.status, repeat.text], [first.status, first.text], 'answered as the first was');
  }
  const other = await send(ledger.url, alice, { ...body, amount: '2' }, 'refused-1');
  assert.deepEqual([other.status, other.json], [422, KEY_REUSED]);
  assert.equal(await logged('30'), 0, 'nothing logged under the key');
  // the same for a deposit into a wallet that did not exist yet: 404, then 404 again
  const depositTo = (id: string, amount: number) =>
    call(ledger.url, 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: { wallet_id: id, amount }, headers: { 'idempotency-key': 'refused-dep' } });
  const missing = await depositTo('32', 5);
  assert.equal(missing.status, 404, missing.text);
  assert.equal((await call(ledger.url, 'POST', '/api/user/create_wallet', { token: alice, body: { wallet_id: '32' } })).status, 202);
  const again = await depositTo('32', 5);
  assert.deepEqual([again.status, again.text], [missing.status, missing.text]);
  assert.deepEqual([(await depositTo('32', 6)).status], [422]);
  // without a key, the same transfer is judged afresh: alice owns wallet 30 now
  assert.equal((await send(ledger.url, alice, body)).status, 202);
});

test('keys are kept for the retention, then swept; a swept key starts a new request', async () => {
  const body = { from_id: '10', to_id: '11', amount: 1 };
  const first = await send(ledger.url, alice, body, 'old-key');
  assert.equal(first.status, 202);
  const backdate = (ms: number) =>
    sql.unsafe(`update ledger.idempotency_keys set created_at = now() - $1 * interval '1 millisecond' where key = 'old-key'`, [ms]);
  await backdate(IDEMPOTENCY_RETENTION_MS - 60_000);
  assert.equal(await ledger.orchestrator.store.keys.sweep(IDEMPOTENCY_RETENTION_MS), 0);
  assert.deepEqual((await send(ledger.url, alice, body, 'old-key')).json, first.json);
  await backdate(IDEMPOTENCY_RETENTION_MS + 60_000);
  assert.equal(await ledger.orchestrator.store.keys.sweep(IDEMPOTENCY_RETENTION_MS), 1);
  const fresh = await send(ledger.url, alice, body, 'old-key');
  assert.equal(fresh.status, 202);
  assert.notDeepEqual(fresh.json, first.json);
});

test('a sweep takes every expired key, not one chunk of them, however many were written', async () => {
  // more expired keys than a chunk: a caller can write keys faster than one chunk a minute
  await sql.unsafe(
    `insert into ledger.idempotency_keys (scope, key, fingerprint, created_at)
     select 'user:sweep-test', 'expired-' || i, 'f', now() - $1 * interval '1 millisecond' from generate_series(1, 250) i`,
    [IDEMPOTENCY_RETENTION_MS + 60_000],
  );
  assert.equal(await ledger.orchestrator.store.keys.sweep(IDEMPOTENCY_RETENTION_MS, 100), 250);
  const left = await sql.unsafe(`select count(*)::int as n from ledger.idempotency_keys where scope = 'user:sweep-test'`);
  assert.equal(Number(left[0]?.n), 0);
});
