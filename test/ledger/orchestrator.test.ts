import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createSigner } from 'fast-jwt';
import postgres from 'postgres';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { assertObservedStatusesDocumented, documentedOperations, servedOperations } from '../support/openapi.js';
import { ADMIN_TOKEN, deposit, recordEvents, startLedger, waitAllFinal, waitFinal, type LedgerUnderTest, type LogItem } from '../support/ledger.js';

// Two shards: even wallet ids live on shard 0, odd ones on shard 1.
let ledger: LedgerUnderTest;
let url: string;
let alice: string;
let bob: string;

/** `at`: another orchestrator instance on the same ledger database. */
async function wallet(token: string, id: string, at = url): Promise<void> {
  const r = await call(at, 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } });
  assert.equal(r.status, 202, r.text);
}

async function send(token: string, from: string, to: string, amount: unknown, at = url) {
  return call(at, 'POST', '/api/user/do_transaction', { token, body: { from_id: from, to_id: to, amount } });
}

async function balance(token: string, id: string) {
  const r = await call(url, 'GET', `/api/user/balance/${id}`, { token });
  assert.equal(r.status, 200, r.text);
  return r.json as { wallet_id: string; balance: number; reserved: number };
}

/** Waits until the recovery sweep has created every wallet of the member on its shard. */
async function allActive(token: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const list = (await call(url, 'GET', '/api/user/wallets', { token })).json as Array<{ wallet_id: string; status: string }>;
    if (list.every((w) => w.status === 'ACTIVE')) return;
    assert.ok(Date.now() < deadline, 'creation not finished by recovery');
    await new Promise((res) => setTimeout(res, 50));
  }
}

before(async () => {
  ledger = await startLedger(2, { confirmationLimitMs: 2_000, recoveryIntervalMs: 200 });
  url = ledger.url;
  alice = await signUp(url, uniqueLogin('alice'), 'pw-alice-secret', '/auth/register');
  bob = await signUp(url, uniqueLogin('bob'), 'pw-bob-secret', '/auth/register');
  await wallet(alice, '100'); // shard 0
  await wallet(alice, '102'); // shard 0
  await wallet(alice, '101'); // shard 1
  await wallet(bob, '201'); // shard 1
  await wallet(bob, '200'); // shard 0
  const tx = await deposit(url, '100', '1000.50');
  await waitFinal(url, alice, '100', tx);
});

after(async () => {
  await ledger?.stop();
});

test('register and login: token in header and HttpOnly cookie; 400, 401, 409', async () => {
  const login = uniqueLogin('carol');
  const r = await call(url, 'POST', '/auth/register', { body: { login, password: 'pw-orchestrator' } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('authorization') ?? '', /^Bearer \S+$/);
  assert.match(r.headers.get('set-cookie') ?? '', /token=.+HttpOnly/i);
  assert.equal((await call(url, 'POST', '/auth/register', { body: { login, password: 'other-password' } })).status, 409);
  assert.equal((await call(url, 'POST', '/auth/register', { body: { login: '', password: 'pw' } })).status, 400);
  assert.equal((await call(url, 'POST', '/auth/register', { body: 'not json', headers: { 'content-type': 'application/json' } })).status, 400);
  assert.equal((await call(url, 'POST', '/auth/login', { body: { login, password: 'wrong' } })).status, 401);
  assert.equal((await call(url, 'POST', '/auth/login', { body: { login } })).status, 400);
  const ok = await call(url, 'POST', '/auth/login', { body: { login, password: 'pw-orchestrator' } });
  assert.equal(ok.status, 200);
  const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const viaCookie = await call(url, 'POST', '/api/user/create_wallet', { headers: { cookie }, body: { wallet_id: '3001' } });
  assert.equal(viaCookie.status, 202);
});

test('every user endpoint needs a token (401)', async () => {
  assert.equal((await call(url, 'POST', '/api/user/create_wallet', { body: { wallet_id: '5' } })).status, 401);
  assert.equal((await call(url, 'POST', '/api/user/do_transaction', { body: { from_id: '100', to_id: '101', amount: 1 } })).status, 401);
  assert.equal((await call(url, 'GET', '/api/user/transactions/100')).status, 401);
  assert.equal((await call(url, 'GET', '/api/user/balance/100', { token: 'garbage' })).status, 401);
});

test("create_wallet: 202, 202 again for the caller's own, 409 someone else's, 400 not digits", async () => {
  await wallet(alice, '4000');
  const again = await call(url, 'POST', '/api/user/create_wallet', { token: alice, body: { wallet_id: '4000' } });
  assert.deepEqual([again.status, again.json], [202, { wallet_id: '4000' }]);
  const taken = await call(url, 'POST', '/api/user/create_wallet', { token: bob, body: { wallet_id: '4000' } });
  assert.deepEqual([taken.status, taken.json], [409, { error: 'wallet id is already taken' }]);
  // digits and nothing else: no white space, no JSON number (parsed, 1.2e1 would be wallet 12)
  const notDigits = [{ wallet_id: ' 4001' }, { wallet_id: '4001 ' }, { wallet_id: 4001 }, { wallet_id: 1.2e1 }];
  for (const body of [{ wallet_id: 'abc' }, { wallet_id: '' }, { wallet_id: '-5' }, { wallet_id: '1.5' }, {}, { wallet_id: null }, ...notDigits]) {
    const r = await call(url, 'POST', '/api/user/create_wallet', { token: alice, body });
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(typeof (r.json as { error: string }).error, 'string');
  }
  // ids beyond 2^53 keep every digit and land on id % N
  const big = '123456789012345678901234567891';
  await wallet(alice, big);
  assert.deepEqual(await balance(alice, big), { wallet_id: big, balance: 0, reserved: 0 });
  const row = await ledger.orchestrator.store.wallet(big);
  assert.equal(row?.shard, 1);
});

test('create_wallet with a valid token of a user the ledger does not hold: 401, and the id stays free', async () => {
  // a token signed with the right secret outlives its user when the database is replaced
  const sql = postgres(ledger.ledgerDb.url, { max: 1, onnotice: () => undefined });
  const [stored] = await sql<Array<{ value: string }>>`select value from ledger.settings where key = 'jwt_secret'`;
  await sql.end();
  assert.ok(stored, 'the generated token secret is stored');
  const ghost = createSigner({ key: stored.value, expiresIn: 3_600_000, iss: 'orchestrator' })({ sub: '987654321' });
  const refused = await call(url, 'POST', '/api/user/create_wallet', { token: ghost, body: { wallet_id: '4100' } });
  assert.deepEqual([refused.status, refused.json], [401, { error: 'missing, invalid or expired token' }]);
  await wallet(await signUp(url, uniqueLogin('carol'), 'pw-carol-secret', '/auth/register'), '4100');
});

test('balance and transactions: owner only (403), unknown (404), empty log (204)', async () => {
  assert.deepEqual(await balance(alice, '100'), { wallet_id: '100', balance: 1000.5, reserved: 0 });
  assert.equal((await call(url, 'GET', '/api/user/balance/100', { token: bob })).status, 403);
  assert.equal((await call(url, 'GET', '/api/user/transactions/100', { token: bob })).status, 403);
  assert.equal((await call(url, 'GET', '/api/user/balance/999999', { token: alice })).status, 404);
  assert.equal((await call(url, 'GET', '/api/user/balance/%20100', { token: alice })).status, 404);
  assert.equal((await call(url, 'GET', '/api/user/transactions/999999', { token: alice })).status, 404);
  // SPEC lists 403/404 for these paths: an id that is not digits names no wallet
  for (const path of [
    '/api/user/balance/abc',
    '/api/user/transactions/abc',
    '/api/user/balance/-1',
    `/api/user/balance/${'9'.repeat(1000)}`,
    `/api/user/transactions/${'9'.repeat(5000)}`,
  ]) {
    const r = await call(url, 'GET', path, { token: alice });
    assert.deepEqual([r.status, r.text], [404, '{"error":"wallet not found"}'], path);
  }
  // a path that is not valid percent-encoding: the platform's error shape, nothing of Fastify's
  for (const path of ['/api/user/balance/%ZZ', '/api/user/transactions/%E0%A4%A']) {
    const r = await call(url, 'GET', path, { token: alice });
    assert.deepEqual([r.status, r.text], [400, '{"error":"malformed request: the path is not valid percent-encoding"}'], path);
  }
  const empty = await call(url, 'GET', '/api/user/transactions/102', { token: alice });
  assert.equal(empty.status, 204);
  assert.equal(empty.text, '');
});

test('admin deposit: 401 without token, 403 wrong token, 404 unknown wallet, 400 bad amount', async () => {
  const body = { wallet_id: '101', amount: 5 };
  assert.equal((await call(url, 'POST', '/api/admin/deposit', { body })).status, 401);
  assert.equal((await call(url, 'POST', '/api/admin/deposit', { body, token: alice })).status, 403);
  assert.equal((await call(url, 'POST', '/api/admin/deposit', { body: { wallet_id: '987654', amount: 5 }, token: ADMIN_TOKEN })).status, 404);
  for (const amount of [0, -1, '1.234', 'x', null]) {
    assert.equal((await call(url, 'POST', '/api/admin/deposit', { body: { wallet_id: '101', amount }, token: ADMIN_TOKEN })).status, 400, String(amount));
  }
  assert.equal((await balance(alice, '101')).balance, 0);
});

test('do_transaction: 400 for bad ids, amounts, same wallet; 403 for a wallet not yours', async () => {
  const bad: Array<[unknown, unknown, unknown]> = [
    ['abc', '101', 1],
    ['100', '1x', 1],
    ['100', '101', 0],
    ['100', '101', -5],
    ['100', '101', '1.001'],
    ['100', '101', 1.001],
    ['100', '101', 'ten'],
    ['100', '101', ' 1 '],
    ['100', '100', 1],
    [' 100', '101', 1],
    ['100', '101 ', 1],
    [100, '101', 1],
  ];
  for (const [from, to, amount] of bad) assert.equal((await send(alice, from as string, to as string, amount)).status, 400, JSON.stringify([from, to, amount]));
  assert.equal((await send(bob, '100', '201', 1)).status, 403);
  assert.equal((await send(alice, '55555', '201', 1)).status, 403);
  assert.equal((await balance(alice, '100')).balance, 1000.5);
});

test('amounts are judged as written: a number literal with more than 2 decimals is 400 whatever double it parses to; nothing moves', async () => {
  const json = { 'content-type': 'application/json' };
  const gzipped = { ...json, 'content-encoding': 'gzip' };
  const bad = { error: 'amount must be a positive decimal with at most 2 fraction digits' };
  const logs = async () => Promise.all(['100', '101'].map(async (id) => (await call(url, 'GET', `/api/user/transactions/${id}`, { token: alice })).text));
  const before = { balances: [await balance(alice, '100'), await balance(alice, '101')], logs: await logs() };
  // each literal's nearest double is a two-decimal amount (0.3, 1, 1.1, …)
  const literals = ['0.29999999999999999', '1.0000000000000001', '1.100000000000000000001', '123456789012345.678', '1.001'];
  for (const amount of literals) {
    const transfer = `{"from_id":"100","to_id":"101","amount":${amount}}`;
    for (const [body, headers] of [
      [transfer, json],
      [gzipSync(transfer), gzipped],
    ] as const) {
      const r = await call(url, 'POST', '/api/user/do_transaction', { token: alice, body, headers });
      assert.deepEqual([r.status, r.json], [400, bad], transfer);
    }
    const r = await call(url, 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: `{"wallet_id":"101","amount":${amount}}`, headers: json });
    assert.deepEqual([r.status, r.json], [400, bad], `deposit ${amount}`);
  }
  // past the largest double is a number too, only above the maximum amount (as 1e13 is)
  const huge = await call(url, 'POST', '/api/user/do_transaction', { token: alice, body: '{"from_id":"100","to_id":"101","amount":1e400}', headers: json });
  assert.equal(huge.status, 400);
  assert.match((huge.json as { error: string }).error, /at most/);
  // a repeated member: the last one is the amount, as JSON.parse has it
  const repeated = await call(url, 'POST', '/api/user/do_transaction', {
    token: alice,
    body: '{"from_id":"100","to_id":"101","amount":1,"amount":1.001}',
    headers: json,
  });
  assert.deepEqual([repeated.status, repeated.json], [400, bad]);
  assert.deepEqual({ balances: [await balance(alice, '100'), await balance(alice, '101')], logs: await logs() }, before);

  // amounts of at most two decimals stay accepted in every spelling
  await wallet(alice, '8100'); // shard 0
  await wallet(alice, '8101'); // shard 1
  const deposits: Array<[string | Buffer, Record<string, string>]> = [
    ...['1.10', '1.1', '1e2', '1.5e1', '100', '"2.50"'].map((a): [string, Record<string, string>] => [`{"wallet_id":"8100","amount":${a}}`, json]),
    [gzipSync('{"wallet_id":"8100","amount":2.50}'), gzipped],
    ['{"wallet_id":"8100","amount":1.001,"amount":0.25}', json],
  ];
  const txIds: string[] = [];
  for (const [body, headers] of deposits) {
    const r = await call(url, 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body, headers });
    assert.equal(r.status, 202, `${String(body)} → ${r.text}`);
    txIds.push((r.json as { tx_id: string }).tx_id);
  }
  const sent = await call(url, 'POST', '/api/user/do_transaction', { token: alice, body: '{"from_id":"8100","to_id":"8101","amount":1.5e1}', headers: json });
  assert.equal(sent.status, 202, sent.text);
  txIds.push((sent.json as { tx_id: string }).tx_id);
  const final = await waitAllFinal(url, alice, '8100', txIds);
  assert.ok(
    final.every((e) => e.status === 'SUCCESSFUL'),
    JSON.stringify(final),
  );
  // 1.10 + 1.1 + 100 + 15 + 100 + 2.50 + 2.50 + 0.25 = 222.45 in, 15 out
  assert.equal((await balance(alice, '8100')).balance, 207.45);
  assert.equal((await balance(alice, '8101')).balance, 15);
});

test('same-shard and cross-shard transfers succeed; log shows both sides oldest first', async () => {
  const same = await send(alice, '100', '200', '10.25'); // shard 0 → shard 0
  assert.equal(same.status, 202);
  const sameId = (same.json as { tx_id: string }).tx_id;
  const cross = await send(alice, '100', '201', 20); // shard 0 → shard 1
  assert.equal(cross.status, 202);
  const crossId = (cross.json as { tx_id: string }).tx_id;
  assert.equal((await waitFinal(url, alice, '100', sameId)).status, 'SUCCESSFUL');
  assert.equal((await waitFinal(url, alice, '100', crossId)).status, 'SUCCESSFUL');
  assert.deepEqual(await balance(alice, '100'), { wallet_id: '100', balance: 970.25, reserved: 0 });
  assert.equal((await balance(bob, '200')).balance, 10.25);
  assert.equal((await balance(bob, '201')).balance, 20);
  const log = (await call(url, 'GET', '/api/user/transactions/100', { token: alice })).json as LogItem[];
  const mine = log.filter((e) => e.tx_id === sameId || e.tx_id === crossId);
  assert.deepEqual(
    mine.map((e) => [e.amount, e.status]),
    [
      ['-10.25', 'SUCCESSFUL'],
      ['-20.00', 'SUCCESSFUL'],
    ],
  );
  assert.equal(log[0]?.amount, '+1000.50');
  for (const e of log) {
    assert.equal(e.wallet_id, '100');
    assert.match(e.initiated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    assert.equal(typeof e.note, 'string');
  }
  const bobLog = (await call(url, 'GET', '/api/user/transactions/201', { token: bob })).json as LogItem[];
  assert.deepEqual(
    bobLog.map((e) => e.amount),
    ['+20.00'],
  );
});

test('insufficient funds and unknown receiver end INVALID with a note; nothing moves', async () => {
  for (const to of ['102', '101']) {
    const r = await send(alice, '102', to === '102' ? '100' : to, 5);
    const item = await waitFinal(url, alice, '102', (r.json as { tx_id: string }).tx_id);
    assert.deepEqual([item.status, item.note], ['INVALID', 'not enough funds in the wallet']);
  }
  const r = await send(alice, '100', '777777', 5);
  assert.equal(r.status, 202);
  const item = await waitFinal(url, alice, '100', (r.json as { tx_id: string }).tx_id);
  assert.deepEqual([item.status, item.note], ['INVALID', 'receiving wallet does not exist']);
  assert.deepEqual(await balance(alice, '100'), { wallet_id: '100', balance: 970.25, reserved: 0 });
});

test('concurrent transfers from one wallet never overdraw it', async () => {
  await wallet(alice, '500'); // shard 0
  await waitFinal(url, alice, '500', await deposit(url, '500', 100));
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => send(alice, '500', i % 2 === 0 ? '200' : '201', 10)));
  const ids = results.map((r) => (r.json as { tx_id: string }).tx_id);
  const finals = await waitAllFinal(url, alice, '500', ids);
  // on a loaded machine a shard may miss the confirmation limit (FAILED); money still adds up
  const succeeded = finals.filter((f) => f.status === 'SUCCESSFUL').length;
  const failed = finals.filter((f) => f.status === 'FAILED').length;
  assert.ok(succeeded <= 10, `succeeded ${succeeded}`);
  if (failed === 0) assert.equal(succeeded, 10);
  assert.ok(finals.every((f) => f.status !== 'INVALID' || f.note === 'not enough funds in the wallet'));
  assert.deepEqual(await balance(alice, '500'), { wallet_id: '500', balance: 100 - succeeded * 10, reserved: 0 });
});

test('a shard that does not answer: FAILED with the limit note, hold released after recovery', async () => {
  await wallet(alice, '600'); // shard 0
  await waitFinal(url, alice, '600', await deposit(url, '600', 50));
  // frozen, not gone: a call may have reached it, so nothing is settled without it
  await ledger.freezeShard(1);
  const events = recordEvents(ledger.orchestrator.coordinator);
  try {
    const r = await send(alice, '600', '201', 30);
    assert.equal(r.status, 202);
    const txId = (r.json as { tx_id: string }).tx_id;
    // the decision (abort) is recorded, but shard 1 cannot acknowledge the cancel: handed to recovery
    const decided = await events.waitFor('decided', (e) => e.type === 'decided' && e.txId === txId);
    assert.ok(decided.type === 'decided' && decided.decision.decision === 'abort');
    await events.waitFor('left for recovery', (e) => e.type === 'left' && e.txId === txId);
    const pending = await ledger.orchestrator.store.transaction(txId);
    assert.deepEqual([pending?.status, pending?.decision?.decision], ['PROCESSING', 'abort']);
    // a member's read of a wallet there does not wait the confirmation limit (2 s here) for it
    const asked = Date.now();
    const read = await call(url, 'GET', '/api/user/balance/101', { token: alice });
    assert.equal(read.status, 503);
    assert.ok(Date.now() - asked < 2000, `the balance read waited ${Date.now() - asked} ms for a silent shard`);
    await ledger.startShardAt(1);
    const item = await waitFinal(url, alice, '600', txId);
    assert.deepEqual([item.status, item.note], ['FAILED', 'transaction confirmation limit exceeded']);
  } finally {
    events.stop();
    if (!ledger.shards[1]) await ledger.startShardAt(1);
  }
  assert.deepEqual(await balance(alice, '600'), { wallet_id: '600', balance: 50, reserved: 0 });
});

test('a shard that is gone (refuses connections): FAILED at once, same-shard, cross-shard and deposit; nothing held anywhere', async () => {
  await wallet(alice, '900'); // shard 0
  await wallet(alice, '901'); // shard 1
  await wallet(alice, '903'); // shard 1
  for (const id of ['900', '901']) await waitFinal(url, alice, id, await deposit(url, id, 40));
  await ledger.stopShard(1);
  const started = Date.now();
  const sent: Array<[string, string]> = [];
  try {
    for (const [from, to] of [
      ['900', '901'], // cross-shard, the receiver's shard gone
      ['901', '900'], // cross-shard, the sender's shard gone
      ['901', '903'], // same shard, gone
    ] as const) {
      const r = await send(alice, from, to, 5);
      assert.equal(r.status, 202, r.text);
      sent.push([from, (r.json as { tx_id: string }).tx_id]);
    }
    const dep = await call(url, 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: { wallet_id: '903', amount: 5 } });
    assert.equal(dep.status, 202);
    sent.push(['903', (dep.json as { tx_id: string }).tx_id]);
    // final while the shard is still gone: it never received any of them
    for (const [walletId, txId] of sent) {
      const item = await waitFinal(url, alice, walletId, txId, 10_000);
      assert.deepEqual([item.status, item.note], ['FAILED', 'transaction confirmation limit exceeded'], `${walletId} ${txId}`);
    }
    assert.ok(Date.now() - started < 8_000, 'settled without waiting for the shard');
    assert.deepEqual(await balance(alice, '900'), { wallet_id: '900', balance: 40, reserved: 0 });
  } finally {
    if (!ledger.shards[1]) await ledger.startShardAt(1);
  }
  // back: it holds nothing of them
  assert.deepEqual(await balance(alice, '901'), { wallet_id: '901', balance: 40, reserved: 0 });
  assert.deepEqual(await balance(alice, '903'), { wallet_id: '903', balance: 0, reserved: 0 });
});

test('a shard whose database is away answers 503: the transfer is sent again within the confirmation limit, not settled FAILED', async () => {
  const fay = await signUp(url, uniqueLogin('fay'), 'fay-password', '/auth/register');
  for (const id of ['860', '862', '861']) await wallet(fay, id); // shard 0, 0, 1
  await waitFinal(url, fay, '860', await deposit(url, '860', 30));
  for (const [from, to] of [
    ['860', '862'], // same shard
    ['860', '861'], // cross-shard: the sender's reserve meets the 503
  ] as const) {
    const blip = await ledger.blipShardDatabase(0);
    const r = await send(fay, from, to, 5);
    assert.equal(r.status, 202, r.text);
    await blip.back;
    const item = await waitFinal(url, fay, from, (r.json as { tx_id: string }).tx_id);
    assert.deepEqual([item.status, item.note], ['SUCCESSFUL', 'transaction completed'], `${from} → ${to}`);
  }
  assert.deepEqual(await balance(fay, '860'), { wallet_id: '860', balance: 20, reserved: 0 });
  assert.deepEqual(await balance(fay, '862'), { wallet_id: '862', balance: 5, reserved: 0 });
  assert.deepEqual(await balance(fay, '861'), { wallet_id: '861', balance: 5, reserved: 0 });
});

test('a shard database outage just shorter than the confirmation limit: the last try comes at the limit, and the transfer succeeds', {
  timeout: 30_000,
}, async () => {
  // an instance with a 5 s limit: the backoff's pauses (50 ms … 1.6 s) reach 3.15 s, and the
  // next one (2 s) would pass the limit
  const patient = await ledger.addOrchestrator({ confirmationLimitMs: 5_000 });
  const hal = await signUp(patient.url, uniqueLogin('hal'), 'hal-password', '/auth/register');
  for (const id of ['880', '882']) await wallet(hal, id, patient.url);
  await waitFinal(patient.url, hal, '880', await deposit(patient.url, '880', 10));
  const blip = await ledger.blipShardDatabase(0, 3_400);
  const r = await send(hal, '880', '882', 4, patient.url);
  assert.equal(r.status, 202, r.text);
  await blip.back;
  const item = await waitFinal(patient.url, hal, '880', (r.json as { tx_id: string }).tx_id);
  assert.deepEqual([item.status, item.note], ['SUCCESSFUL', 'transaction completed']);
});

test('more wallets waiting for their shard than one recovery page: a transfer to the last of them is not refused as unknown', { timeout: 60_000 }, async () => {
  // a long limit, so the transfer waits for its wallet however long the 501 creations take
  const patient = await ledger.addOrchestrator({ confirmationLimitMs: 30_000 });
  const ivy = await signUp(patient.url, uniqueLogin('ivy'), 'ivy-password', '/auth/register');
  const create = (id: string) => wallet(ivy, id, patient.url);
  await create('890'); // shard 0
  await waitFinal(patient.url, ivy, '890', await deposit(patient.url, '890', 10));
  await ledger.stopShard(1);
  let txId = '';
  try {
    // 500 wallets on the gone shard, then the receiver: the last one registered
    for (let i = 0; i < 500; i++) await create(String(100_001 + 2 * i));
    await create('99999999999');
    const r = await send(ivy, '890', '99999999999', 3, patient.url);
    assert.equal(r.status, 202, r.text);
    txId = (r.json as { tx_id: string }).tx_id;
  } finally {
    await ledger.startShardAt(1);
  }
  const item = await waitFinal(patient.url, ivy, '890', txId, 45_000);
  assert.deepEqual([item.status, item.note], ['SUCCESSFUL', 'transaction completed']);
});

test('many transfers waiting out a shard database outage at once: all SUCCESSFUL, and no listener warning', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  try {
    const gus = await signUp(url, uniqueLogin('gus'), 'gus-password', '/auth/register');
    for (const id of ['870', '872']) await wallet(gus, id); // shard 0
    await waitFinal(url, gus, '870', await deposit(url, '870', 30));
    const blip = await ledger.blipShardDatabase(0, 400);
    const sent = await Promise.all(Array.from({ length: 15 }, () => send(gus, '870', '872', 1)));
    await blip.back;
    for (const r of sent) {
      assert.equal(r.status, 202, r.text);
      const item = await waitFinal(url, gus, '870', (r.json as { tx_id: string }).tx_id);
      assert.equal(item.status, 'SUCCESSFUL');
    }
    assert.deepEqual(await balance(gus, '872'), { wallet_id: '872', balance: 15, reserved: 0 });
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings, []);
});

test('a transfer or deposit to a wallet a gone shard never acknowledged: FAILED once the confirmation limit has passed, not PENDING for good', async () => {
  const erin = await signUp(url, uniqueLogin('erin'), 'erin-password', '/auth/register');
  await wallet(erin, '850'); // shard 0
  await waitFinal(url, erin, '850', await deposit(url, '850', 20));
  await ledger.stopShard(1);
  const sent: Array<[string, string]> = [];
  let accepted = 0;
  try {
    await wallet(erin, '851'); // shard 1, gone: CREATING
    accepted = Date.now(); // before the request: its initiated_at is no earlier
    const transfer = await send(erin, '850', '851', 5);
    assert.equal(transfer.status, 202, transfer.text);
    sent.push(['850', (transfer.json as { tx_id: string }).tx_id]);
    const dep = await call(url, 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: { wallet_id: '851', amount: 5 } });
    assert.equal(dep.status, 202, dep.text);
    sent.push(['851', (dep.json as { tx_id: string }).tx_id]);
    for (const [walletId, txId] of sent) {
      const item = await waitFinal(url, erin, walletId, txId, 10_000);
      assert.deepEqual([item.status, item.note], ['FAILED', 'transaction confirmation limit exceeded'], `${walletId} ${txId}`);
    }
    // not before the limit (2 s here): a shard back within it would have let them through
    assert.ok(Date.now() - accepted >= 2_000, `FAILED after ${Date.now() - accepted} ms`);
    assert.deepEqual(await balance(erin, '850'), { wallet_id: '850', balance: 20, reserved: 0 });
  } finally {
    if (!ledger.shards[1]) await ledger.startShardAt(1);
  }
  // the wallet itself is still created once its shard is back, and holds nothing of them
  await allActive(erin);
  assert.deepEqual(await balance(erin, '851'), { wallet_id: '851', balance: 0, reserved: 0 });
});

test("GET /api/user/wallets: 401, 204 none, the caller's wallets oldest first with balances", async () => {
  assert.equal((await call(url, 'GET', '/api/user/wallets')).status, 401);
  const nobody = await signUp(url, uniqueLogin('nobody'), 'nobody-password', '/auth/register');
  const none = await call(url, 'GET', '/api/user/wallets', { token: nobody });
  assert.equal(none.status, 204);
  assert.equal(none.headers.get('content-type'), 'application/json');
  const r = await call(url, 'GET', '/api/user/wallets', { token: bob });
  assert.equal(r.status, 200);
  const list = r.json as Array<{ wallet_id: string; status: string; balance: number; reserved: number; created_at: string }>;
  assert.deepEqual(
    list.map((w) => [w.wallet_id, w.status]),
    [
      ['201', 'ACTIVE'],
      ['200', 'ACTIVE'],
    ],
  );
  for (const w of list) {
    assert.match(w.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    assert.equal((await balance(bob, w.wallet_id)).balance, w.balance);
    assert.equal(w.reserved, 0);
  }
});

test('GET /api/user/wallets lists a wallet its shard has not acknowledged yet as CREATING', async () => {
  const dave = await signUp(url, uniqueLogin('dave'), 'dave-password', '/auth/register');
  await wallet(dave, '700'); // shard 0
  await ledger.stopShard(1);
  try {
    await wallet(dave, '701'); // shard 1, away
    const r = await call(url, 'GET', '/api/user/wallets', { token: dave });
    assert.equal(r.status, 200);
    assert.deepEqual(
      (r.json as Array<Record<string, unknown>>).map((w) => [w.wallet_id, w.status, w.balance, w.reserved]),
      [
        ['700', 'ACTIVE', 0, 0],
        ['701', 'CREATING', 0, 0],
      ],
    );
  } finally {
    await ledger.startShardAt(1);
  }
  await allActive(dave);
});

test('history: kind and counterparty; the receiver sees only SUCCESSFUL incoming transfers; initiated_at order', async () => {
  await wallet(alice, '800'); // shard 0, empty
  const refused = await send(alice, '800', '201', 5); // not enough funds
  const refusedItem = await waitFinal(url, alice, '800', (refused.json as { tx_id: string }).tx_id);
  assert.deepEqual([refusedItem.status, refusedItem.kind, refusedItem.counterparty], ['INVALID', 'transfer', '201']);
  const ok = await send(alice, '100', '201', 1);
  const okId = (ok.json as { tx_id: string }).tx_id;
  await waitFinal(url, alice, '100', okId);
  const bobLog = (await call(url, 'GET', '/api/user/transactions/201', { token: bob })).json as LogItem[];
  assert.ok(!bobLog.some((e) => e.tx_id === (refused.json as { tx_id: string }).tx_id), 'a refused transfer shows in the receiver’s history');
  assert.ok(bobLog.every((e) => e.status === 'SUCCESSFUL'));
  const incoming = bobLog.find((e) => e.tx_id === okId);
  assert.deepEqual([incoming?.kind, incoming?.counterparty, incoming?.amount], ['transfer', '100', '+1.00']);
  const aliceLog = (await call(url, 'GET', '/api/user/transactions/100', { token: alice })).json as LogItem[];
  assert.deepEqual([aliceLog[0]?.kind, aliceLog[0]?.counterparty], ['deposit', undefined]);
  assert.equal(aliceLog.find((e) => e.tx_id === okId)?.counterparty, '201');
  for (const log of [aliceLog, bobLog]) {
    const times = log.map((e) => Date.parse(e.initiated_at));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
      'entries out of initiated_at order',
    );
  }
});

test('every registered route is documented, and so is every status answered in this file', async () => {
  assert.deepEqual(
    await documentedOperations(ledger.orchestrator.app, url),
    servedOperations([
      'GET /api/user/balance/{id}',
      'GET /api/user/transactions/{id}',
      'GET /api/user/wallets',
      'GET /healthz',
      'GET /metrics',
      'GET /readyz',
      'POST /api/admin/deposit',
      'POST /api/user/create_wallet',
      'POST /api/user/do_transaction',
      'POST /auth/login',
      'POST /auth/register',
    ]),
  );
  const checked = await assertObservedStatusesDocumented(url);
  assert.ok(checked >= 15, `only ${checked} (route, status) pairs observed`);
});
