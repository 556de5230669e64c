import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { configWith } from '../../src/kernel/config.js';
import { createLogger } from '../../src/kernel/logger.js';
import { ShardClient } from '../../src/ledger/orchestrator/shard-client.js';
import { MAX_BATCH_OPS, type BatchOp } from '../../src/ledger/protocol.js';
import { startShard, type ShardRunning } from '../../src/ledger/shard/main.js';
import { shardSettings } from '../../src/ledger/shard/config.js';
import { call } from '../support/http.js';
import { ManualClock } from '../support/manual-clock.js';
import { assertObservedStatusesDocumented, documentedOperations } from '../support/openapi.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { SHARD_OPERATIONS } from '../support/ledger-expectations.js';

// POST /internal/batch on a real shard (real PostgreSQL), and the orchestrator's ShardClient
// coalescing its calls into batches, against that shard and against misbehaving servers.
const TOKEN = 'shard-batch-test-token';
const logger = createLogger('shard-batch-test', 'silent');
let db: FreshDatabase;
let shard: ShardRunning;

async function op(method: string, path: string, body?: object): Promise<Record<string, unknown>> {
  const r = await call(shard.url, method, path, { token: TOKEN, ...(body ? { body } : {}) });
  assert.equal(r.status, 200, `${method} ${path}: ${r.status} ${r.text}`);
  return r.json as Record<string, unknown>;
}

async function batch(ops: object[]): Promise<Array<Record<string, unknown>>> {
  const r = await call(shard.url, 'POST', '/internal/batch', { token: TOKEN, body: { ops } });
  assert.equal(r.status, 200, r.text);
  const results = (r.json as { results: Array<Record<string, unknown>> }).results;
  assert.equal(results.length, ops.length);
  return results;
}

/** The single route a batch entry stands for. */
async function single(o: BatchOp): Promise<Record<string, unknown>> {
  const { op: name, tx_id, ...body } = o as BatchOp & Record<string, unknown>;
  return op('POST', `/internal/tx/${tx_id}/${name}`, name === 'confirm' || name === 'cancel' ? undefined : body);
}

/** Requests the shard served on a route (its own Prometheus counter). */
async function served(route: string): Promise<number> {
  const text = await (await fetch(`${shard.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith('http_requests_total{') && line.includes(`route="${route}"`)) total += Number(line.split(' ').pop());
  return total;
}

before(async () => {
  db = await freshDatabase('ledger_shard_batch');
  shard = await startShard(configWith(shardSettings, { address: '127.0.0.1:0', shardToken: TOKEN, databasePoolSize: 4, databaseUri: db.url }), { logger });
  for (const id of ['11', '12', '13', '21', '22', '23', '31', '32']) assert.equal((await op('POST', '/internal/wallets', { wallet_id: id })).result, 'created');
  for (const id of ['11', '21', '31'])
    assert.equal((await op('POST', `/internal/tx/fund-${id}/deposit`, { wallet_id: id, amount: 10_000 })).result, 'confirmed');
});

after(async () => {
  await shard?.stop();
  await db?.drop();
});

/** Every kind of operation and outcome, with repeats and order-dependent steps, on three wallets. */
function scenario(p: string, [a, b, c]: [string, string, string]): BatchOp[] {
  return [
    { op: 'reserve', tx_id: `${p}-h1`, wallet_id: a, kind: 'debit-hold', amount: 3_000 },
    { op: 'reserve', tx_id: `${p}-h1`, wallet_id: a, kind: 'debit-hold', amount: 3_000 },
    { op: 'reserve', tx_id: `${p}-h1`, wallet_id: a, kind: 'debit-hold', amount: 1 },
    { op: 'confirm', tx_id: `${p}-h1` },
    { op: 'confirm', tx_id: `${p}-h1` },
    { op: 'cancel', tx_id: `${p}-early` },
    { op: 'reserve', tx_id: `${p}-early`, wallet_id: b, kind: 'pending-credit', amount: 100 },
    { op: 'reserve', tx_id: `${p}-big`, wallet_id: a, kind: 'debit-hold', amount: 7_001 },
    { op: 'cancel', tx_id: `${p}-big` },
    { op: 'reserve', tx_id: `${p}-c1`, wallet_id: b, kind: 'pending-credit', amount: 50 },
    { op: 'cancel', tx_id: `${p}-c1` },
    { op: 'confirm', tx_id: `${p}-c1` },
    { op: 'transfer', tx_id: `${p}-t1`, from_id: a, to_id: c, amount: 500 },
    { op: 'transfer', tx_id: `${p}-t1`, from_id: a, to_id: c, amount: 500 },
    { op: 'cancel', tx_id: `${p}-t1` },
    { op: 'transfer', tx_id: `${p}-t2`, from_id: a, to_id: '404', amount: 5 },
    { op: 'deposit', tx_id: `${p}-d1`, wallet_id: b, amount: 700 },
    { op: 'deposit', tx_id: `${p}-d1`, wallet_id: b, amount: 701 },
    { op: 'deposit', tx_id: `${p}-d2`, wallet_id: '405', amount: 1 },
    { op: 'confirm', tx_id: `${p}-nothing` },
    { op: 'reserve', tx_id: `${p}-h2`, wallet_id: a, kind: 'debit-hold', amount: 1_000 },
  ];
}

test('a mixed batch answers, in order, exactly what the single routes answer, with the same effects', async () => {
  const viaSingle: Array<Record<string, unknown>> = [];
  for (const o of scenario('s', ['11', '12', '13'])) viaSingle.push(await single(o));
  const viaBatch = await batch(scenario('b', ['21', '22', '23']));
  assert.deepEqual(viaBatch, viaSingle);
  assert.deepEqual(
    viaBatch.map((r) => r.result),
    [
      'reserved',
      'reserved',
      'conflict',
      'confirmed',
      'confirmed',
      'cancelled',
      'cancelled',
      'insufficient_funds',
      'cancelled',
      'reserved',
      'cancelled',
      'cancelled',
      'confirmed',
      'confirmed',
      'confirmed',
      'unknown_wallet',
      'confirmed',
      'conflict',
      'unknown_wallet',
      'not_found',
      'reserved',
    ],
  );
  assert.deepEqual(viaBatch[8], { result: 'cancelled', reason: 'insufficient_funds' });
  assert.deepEqual(viaBatch[15], { result: 'unknown_wallet', wallet_id: '404' });
  for (const [s, b] of [
    ['11', '21'],
    ['12', '22'],
    ['13', '23'],
  ] as const) {
    const w = await op('GET', `/internal/wallets/${b}`);
    assert.deepEqual({ ...(await op('GET', `/internal/wallets/${s}`)), wallet_id: b }, w);
  }
  assert.deepEqual(await op('GET', '/internal/wallets/21'), { result: 'ok', wallet_id: '21', balance: 6_500, reserved: 1_000 });
  assert.deepEqual(await op('GET', '/internal/wallets/22'), { result: 'ok', wallet_id: '22', balance: 700, reserved: 0 });
});

test('a repeated batch changes nothing, and answers what the single routes answer to the same repeats', async () => {
  const ops = scenario('r', ['31', '32', '13']);
  await batch(ops);
  const wallets = async () => Promise.all(['31', '32', '13'].map((id) => op('GET', `/internal/wallets/${id}`)));
  const before = await wallets();
  const again = await batch(ops);
  const viaSingle: Array<Record<string, unknown>> = [];
  for (const o of ops) viaSingle.push(await single(o));
  assert.deepEqual(again, viaSingle);
  assert.deepEqual(again[0], { result: 'confirmed' }, 'the hold was confirmed by the first batch');
  assert.deepEqual(again[20], { result: 'reserved' });
  assert.deepEqual(await wallets(), before);
});

test('a bad operation makes the whole batch a 400 and nothing runs', async () => {
  const good = { op: 'deposit', tx_id: 'bad-1', wallet_id: '31', amount: 5 };
  const bad: unknown[] = [
    { op: 'reserve', tx_id: 'bad-2', wallet_id: 'abc', kind: 'debit-hold', amount: 5 },
    { op: 'reserve', tx_id: 'bad-2', wallet_id: '31', kind: 'hold', amount: 5 },
    { op: 'deposit', tx_id: 'bad-2', wallet_id: '31', amount: 0 },
    { op: 'deposit', tx_id: 'bad-2', wallet_id: '31', amount: 1.5 },
    { op: 'deposit', tx_id: 'bad/2', wallet_id: '31', amount: 5 },
    { op: 'transfer', tx_id: 'bad-2', from_id: '31', to_id: '31', amount: 5 },
    { op: 'transfer', tx_id: 'bad-2', from_id: '31', amount: 5 },
    { op: 'confirm' },
    { op: 'drop', tx_id: 'bad-2' },
    'confirm',
  ];
  const before = await op('GET', '/internal/wallets/31');
  for (const b of bad) {
    const r = await call(shard.url, 'POST', '/internal/batch', { token: TOKEN, body: { ops: [good, b] } });
    assert.equal(r.status, 400, JSON.stringify(b));
    assert.equal(typeof (r.json as { error?: unknown }).error, 'string');
  }
  for (const body of [{}, { ops: [] }, { ops: good }, { ops: Array.from({ length: MAX_BATCH_OPS + 1 }, (_, i) => ({ ...good, tx_id: `bad-n${i}` })) }]) {
    assert.equal((await call(shard.url, 'POST', '/internal/batch', { token: TOKEN, body })).status, 400);
  }
  assert.equal((await call(shard.url, 'POST', '/internal/batch', { body: { ops: [good] } })).status, 401);
  assert.equal((await call(shard.url, 'POST', '/internal/batch', { token: 'wrong', body: { ops: [good] } })).status, 401);
  assert.deepEqual(await op('GET', '/internal/tx/bad-1'), { result: 'none' });
  assert.deepEqual(await op('GET', '/internal/tx/bad-n0'), { result: 'none' });
  assert.deepEqual(await op('GET', '/internal/wallets/31'), before);
});

test('ShardClient: calls made in one tick travel in one batch, each with its own answer', async () => {
  const client = new ShardClient([new URL(shard.url).host], TOKEN, 5_000, logger);
  try {
    await op('POST', '/internal/wallets', { wallet_id: '60' });
    await op('POST', '/internal/wallets', { wallet_id: '61' });
    const before = await served('/internal/batch');
    const answers = await Promise.all([
      client.deposit(0, 'cl-d', '60', 1_000),
      ...Array.from({ length: 20 }, (_, i) => client.reserve(0, `cl-h${i}`, '60', 'debit-hold', 100)),
      client.transfer(0, 'cl-t', '60', '61', 1),
      client.confirm(0, 'cl-h0'),
      client.cancel(0, 'cl-h1'),
      client.cancel(0, 'cl-never'),
      client.reserve(0, 'cl-never', '60', 'debit-hold', 1),
      client.confirm(0, 'cl-none'),
    ]);
    assert.equal((await served('/internal/batch')) - before, 1, 'one request for the whole tick');
    assert.deepEqual(answers[0], { result: 'confirmed' });
    assert.deepEqual(
      answers.slice(1, 11).map((a) => a.result),
      Array(10).fill('reserved'),
    );
    assert.deepEqual(
      answers.slice(11, 21).map((a) => a.result),
      Array(10).fill('insufficient_funds'),
      'holds run in call order',
    );
    assert.deepEqual(answers.slice(21), [
      { result: 'insufficient_funds' },
      { result: 'confirmed' },
      { result: 'cancelled', reason: 'cancelled' },
      { result: 'cancelled', reason: 'cancelled' },
      { result: 'cancelled' },
      { result: 'not_found' },
    ]);
    assert.deepEqual(await op('GET', '/internal/wallets/60'), { result: 'ok', wallet_id: '60', balance: 900, reserved: 800 });
  } finally {
    await client.close();
  }
});

test('ShardClient: batches are capped, and later calls wait for a free slot', async () => {
  const client = new ShardClient([new URL(shard.url).host], TOKEN, 5_000, logger, { maxBatch: 7, maxInFlight: 1 });
  try {
    const before = await served('/internal/batch');
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => client.confirm(0, `cap-${i}`)));
    assert.deepEqual(answers, Array(30).fill({ result: 'not_found' }));
    assert.equal((await served('/internal/batch')) - before, 5, '30 calls in batches of at most 7');
    // a call made while a batch is in flight joins the next one
    const first = client.confirm(0, 'cap-a');
    await new Promise((resolve) => setImmediate(resolve));
    const late = await Promise.all([client.confirm(0, 'cap-b'), client.confirm(0, 'cap-c'), first]);
    assert.deepEqual(late, Array(3).fill({ result: 'not_found' }));
    assert.equal((await served('/internal/batch')) - before, 7);
  } finally {
    await client.close();
  }
});

/** A loopback server that answers every request with `respond`. */
async function server(
  respond: (body: string, reply: (status: number, text: string) => void) => void,
): Promise<{ host: string; requests: string[]; received(n: number): Promise<void>; close(): Promise<void> }> {
  const requests: string[] = [];
  const arrivals = new Set<() => void>();
  const s: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push(body);
      for (const a of arrivals) a();
      respond(body, (status, text) => res.writeHead(status, { 'content-type': 'application/json' }).end(text));
    });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(s.address() as AddressInfo).port}`,
    requests,
    /** Resolves once `n` requests have arrived in all. */
    received: (n) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (requests.length < n) return;
          arrivals.delete(check);
          resolve();
        };
        arrivals.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      }),
  };
}

/** Settles `promise` into a box that can be read without awaiting (to check it has not settled yet). */
function watch<T>(promise: Promise<T>): { value: T | undefined; settled: Promise<T> } {
  const box: { value: T | undefined; settled: Promise<T> } = { value: undefined, settled: promise };
  void promise.then((v) => (box.value = v));
  return box;
}

/** Lets pending I/O callbacks and promise jobs run (the client's setImmediate batching included). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

test('ShardClient: a batch that does not answer in time answers timeout to each call, at the limit', async () => {
  const silent = await server(() => undefined);
  const clock = new ManualClock();
  const client = new ShardClient([silent.host], TOKEN, 300, logger, { clock });
  try {
    const answers = watch(Promise.all([client.reserve(0, 'to-1', '1', 'debit-hold', 5), client.confirm(0, 'to-2'), client.cancel(0, 'to-3')]));
    await silent.received(1);
    clock.advance(299);
    await turn();
    assert.equal(answers.value, undefined, 'answered before the limit');
    clock.advance(1);
    assert.deepEqual(await answers.settled, Array(3).fill({ result: 'timeout' }));
    assert.equal(silent.requests.length, 1);
    assert.deepEqual(
      (JSON.parse(silent.requests[0] as string) as { ops: BatchOp[] }).ops.map((o) => o.tx_id),
      ['to-1', 'to-2', 'to-3'],
    );
  } finally {
    await client.close();
    await silent.close();
  }
});

test('ShardClient: each call keeps its own deadline; one that waited in the queue does not cut short the fresh calls batched with it', async () => {
  // the test answers each batch when it chooses; one batch at a time; the limit is 400 ms
  const pending: Array<() => void> = [];
  const slow = await server((body, reply) => {
    const ops = (JSON.parse(body) as { ops: BatchOp[] }).ops;
    pending.push(() => reply(200, JSON.stringify({ results: ops.map(() => ({ result: 'confirmed' })) })));
  });
  const clock = new ManualClock();
  const client = new ShardClient([slow.host], TOKEN, 400, logger, { maxInFlight: 1, clock });
  try {
    const first = client.confirm(0, 'dl-a'); // batch 1, sent at 0
    await slow.received(1);
    clock.advanceTo(100);
    const queued = watch(client.confirm(0, 'dl-b')); // waits for batch 2; its deadline is 500
    clock.advanceTo(250);
    const fresh = watch(client.confirm(0, 'dl-c')); // waits for batch 2 too; its deadline is 650
    await turn();
    clock.advanceTo(300);
    pending.shift()?.(); // batch 1 answered at 300: batch 2 leaves with dl-b and dl-c
    assert.deepEqual(await first, { result: 'confirmed' });
    await slow.received(2);
    clock.advanceTo(500); // dl-b's deadline, while batch 2 is still out
    assert.deepEqual(await queued.settled, { result: 'timeout' });
    await turn();
    assert.equal(fresh.value, undefined, 'the fresh call was cut short by the queued one');
    clock.advanceTo(600);
    pending.shift()?.(); // batch 2 answered at 600, within dl-c's deadline
    assert.deepEqual(await fresh.settled, { result: 'confirmed' });
    assert.deepEqual(
      slow.requests.map((b) => (JSON.parse(b) as { ops: BatchOp[] }).ops.map((o) => o.tx_id)),
      [['dl-a'], ['dl-b', 'dl-c']],
    );
  } finally {
    await client.close();
    await slow.close();
  }
});

test('ShardClient never throws: refusals and malformed answers are errors for each call; a refused connection is unreachable', async () => {
  const answers: Array<[number, string]> = [
    [500, '{"error":"x"}'],
    [200, 'not json'],
    [200, '{"results":[{"result":"confirmed"}]}'],
    [200, '{}'],
  ];
  let n = 0;
  const odd = await server((_body, reply) => reply(...(answers[n++ % answers.length] as [number, string])));
  const client = new ShardClient([odd.host, '127.0.0.1:1'], TOKEN, 2_000, logger);
  try {
    for (let i = 0; i < answers.length; i++) {
      assert.deepEqual(
        await Promise.all([client.confirm(0, `e-${i}a`), client.deposit(0, `e-${i}b`, '1', 5)]),
        Array(2).fill({ result: 'error' }),
        `answer ${i}`,
      );
    }
    // nothing listens on port 1: the calls certainly never reached a shard
    assert.deepEqual(await Promise.all([client.transfer(1, 'e-x', '1', '2', 5), client.cancel(1, 'e-y')]), Array(2).fill({ result: 'unreachable' }));
  } finally {
    await client.close();
    await odd.close();
  }
});

test('ShardClient tells the operator once when a shard stops serving and once when it serves again', async () => {
  const lines: Array<{ level: number; msg: string; shard?: number; reason?: string }> = [];
  const capture = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const client = new ShardClient([new URL(shard.url).host, '127.0.0.1:1'], TOKEN, 2_000, capture);
  try {
    for (let i = 0; i < 3; i++) assert.deepEqual(await client.cancel(1, `h-gone-${i}`), { result: 'unreachable' });
    assert.deepEqual(await client.cancel(0, 'h-here'), { result: 'cancelled', reason: 'cancelled' });
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.shard]),
      [[40, 'shard not serving: its transactions wait for it', 1]],
    );
    assert.match(lines[0]?.reason ?? '', /ECONNREFUSED/);
  } finally {
    await client.close();
  }
  // a shard that answers 503 (its database away), then serves again: one warning, then one line that it is back
  lines.length = 0;
  let healthy = false;
  const flaky = await new Promise<Server>((resolve) => {
    const s = createServer((_q, r) => {
      if (!healthy) return void r.writeHead(503).end();
      r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: [{ result: 'not_found' }] }));
    }).listen(0, '127.0.0.1', () => resolve(s));
  });
  const back = new ShardClient([`127.0.0.1:${(flaky.address() as AddressInfo).port}`], TOKEN, 2_000, capture);
  try {
    assert.deepEqual(await back.confirm(0, 'h-503'), { result: 'error' });
    assert.deepEqual(await back.confirm(0, 'h-503-again'), { result: 'error' });
    healthy = true;
    assert.deepEqual(await back.confirm(0, 'h-fine'), { result: 'not_found' });
    assert.deepEqual(await back.confirm(0, 'h-fine-again'), { result: 'not_found' });
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.reason]),
      [
        [40, 'shard not serving: its transactions wait for it', 'status 503'],
        [30, 'shard serving again', undefined],
      ],
    );
  } finally {
    await back.close();
    flaky.close();
  }
});

test('ShardClient with a SHARD_TOKEN the shard refuses says so once, as an error naming the setting, not a warning per call', async () => {
  const lines: Array<{ level: number; msg: string; shard?: number; status?: number }> = [];
  const capture = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const client = new ShardClient([new URL(shard.url).host], `${TOKEN}-not-it`, 2_000, capture);
  try {
    for (let i = 0; i < 3; i++) assert.deepEqual(await client.cancel(0, `h-token-${i}`), { result: 'error' });
    assert.deepEqual(await client.createWallet(0, '990001'), { result: 'error' });
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.shard, l.status]),
      [[50, 'shard refuses this orchestrator: SHARD_TOKEN must be the same here and on every shard; its transactions wait for it', 0, 401]],
    );
    assert.ok(!lines.some((l) => JSON.stringify(l).includes(TOKEN)), 'the token never appears in the log');
  } finally {
    await client.close();
  }
});

test('every registered route is documented, and so is every status answered in this file', async () => {
  assert.deepEqual(await documentedOperations(shard.app, shard.url), SHARD_OPERATIONS);
  assert.ok((await assertObservedStatusesDocumented(shard.url)) >= 4);
});
