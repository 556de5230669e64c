import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AccrualClient, DEFAULT_RETRY_AFTER_MS, interpretAnswer, parseLimitPerMinute, parseRetryAfter } from '../../src/gophermart/accrual-client.js';
import { quickRetryDelay } from '../../src/gophermart/poller.js';
import {
  FALLBACK_LIMIT_PER_MINUTE,
  MAX_RATE_LIMIT_PAUSE_MS,
  MIN_ADAPTED_SHARE,
  MIN_RATE_LIMIT_PAUSE_MS,
  RATE_HEADROOM,
  RateGate,
} from '../../src/gophermart/rate-gate.js';
import { FakeAccrual, processed, status, tooMany } from '../support/fake-accrual.js';
import { freePort } from '../support/process.js';

const N = '12345678903';

describe('interpretAnswer', () => {
  test('PROCESSED with accrual → hundredths, rounded half-up once', () => {
    assert.deepEqual(interpretAnswer(N, 200, undefined, JSON.stringify({ order: N, status: 'PROCESSED', accrual: 729.98 })), {
      kind: 'processed',
      accrual: 72998,
    });
    assert.deepEqual(interpretAnswer(N, 200, undefined, JSON.stringify({ order: N, status: 'PROCESSED', accrual: 0.005 })), { kind: 'processed', accrual: 1 });
    assert.deepEqual(interpretAnswer(N, 200, undefined, `{"order":"${N}","status":"PROCESSED","accrual":500}`), { kind: 'processed', accrual: 50000 });
  });
  test('PROCESSED accrual is rounded from its text as sent, not from the double JSON.parse made of it', () => {
    // JSON.parse reads 0.00499999999999999999 as 0.005, which would round up to a hundredth
    const body = (accrual: string): string => `{"order":"${N}","status":"PROCESSED","accrual":${accrual}}`;
    assert.deepEqual(interpretAnswer(N, 200, undefined, body('0.00499999999999999999')), { kind: 'processed', accrual: 0 });
    assert.deepEqual(interpretAnswer(N, 200, undefined, body('1.00500000000000000001')), { kind: 'processed', accrual: 101 });
    assert.deepEqual(interpretAnswer(N, 200, undefined, body('27.2449999999999999999')), { kind: 'processed', accrual: 2724 });
    assert.deepEqual(interpretAnswer(N, 200, undefined, body('7.2998e2')), { kind: 'processed', accrual: 72998 });
    // a repeated member: the last one counts, as JSON.parse reads it
    assert.deepEqual(interpretAnswer(N, 200, undefined, `{"order":"${N}","accrual":-5,"status":"PROCESSED","accrual":0.125}`), {
      kind: 'processed',
      accrual: 13,
    });
    assert.equal(interpretAnswer(N, 200, undefined, `{"order":"${N}","accrual":5,"status":"PROCESSED","accrual":-5}`).kind, 'transient');
  });
  test('PROCESSED without accrual → 0', () => {
    assert.deepEqual(interpretAnswer(N, 200, undefined, JSON.stringify({ order: N, status: 'PROCESSED' })), { kind: 'processed', accrual: 0 });
  });
  test('INVALID, REGISTERED, PROCESSING, 204', () => {
    assert.deepEqual(interpretAnswer(N, 200, undefined, JSON.stringify({ order: N, status: 'INVALID' })), { kind: 'invalid' });
    assert.deepEqual(interpretAnswer(N, 200, undefined, JSON.stringify({ order: N, status: 'REGISTERED' })), { kind: 'in_progress', status: 'REGISTERED' });
    assert.deepEqual(interpretAnswer(N, 200, undefined, JSON.stringify({ order: N, status: 'PROCESSING' })), { kind: 'in_progress', status: 'PROCESSING' });
    assert.deepEqual(interpretAnswer(N, 204, undefined, ''), { kind: 'unknown' });
  });
  test('malformed 200 bodies are transient, never processed', () => {
    for (const body of [
      'not json',
      '[]',
      'null',
      JSON.stringify({ order: N, status: 'DONE' }),
      JSON.stringify({ order: '79927398713', status: 'PROCESSED', accrual: 5 }),
      JSON.stringify({ order: Number(N), status: 'PROCESSED', accrual: 5 }),
      JSON.stringify({ order: N, status: 'PROCESSED', accrual: -1 }),
      JSON.stringify({ order: N, status: 'PROCESSED', accrual: '5' }),
      JSON.stringify({ status: 'PROCESSED', accrual: 5 }),
    ]) {
      const a = interpretAnswer(N, 200, undefined, body);
      assert.equal(a.kind, 'transient', body);
      assert.match((a as { reason: string }).reason, /^malformed/);
    }
  });
  test('429: Retry-After seconds and limit from the body', () => {
    assert.deepEqual(interpretAnswer(N, 429, '60', 'No more than 6000 requests per minute allowed'), {
      kind: 'rate_limited',
      retryAfterMs: 60_000,
      limitPerMinute: 6000,
    });
    assert.deepEqual(interpretAnswer(N, 429, undefined, 'slow down'), {
      kind: 'rate_limited',
      retryAfterMs: DEFAULT_RETRY_AFTER_MS,
      limitPerMinute: undefined,
    });
  });
  test('5xx and other statuses are transient', () => {
    assert.deepEqual(interpretAnswer(N, 500, undefined, ''), { kind: 'transient', reason: 'HTTP 500' });
    assert.deepEqual(interpretAnswer(N, 503, '5', ''), { kind: 'transient', reason: 'HTTP 503' });
  });
});

describe('Retry-After and limit parsing', () => {
  test('delta seconds', () => {
    assert.equal(parseRetryAfter('0'), 0);
    assert.equal(parseRetryAfter(' 3 '), 3000);
  });
  test('HTTP date', () => {
    const now = Date.parse('Sun, 06 Nov 1994 08:49:07 GMT');
    assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:48:00 GMT', now), 0); // in the past: no wait
  });
  test('garbage is ignored', () => {
    for (const v of ['', 'soon', '-5', '1.5', undefined]) assert.equal(parseRetryAfter(v), undefined, String(v));
  });
  test('limit N', () => {
    assert.equal(parseLimitPerMinute('No more than 1000 requests per minute allowed'), 1000);
    assert.equal(parseLimitPerMinute('no more than 7 requests per minute allowed\n'), 7);
    assert.equal(parseLimitPerMinute('Too Many Requests'), undefined);
    assert.equal(parseLimitPerMinute('No more than 0 requests per minute allowed'), undefined);
  });
});

describe('quick retries', () => {
  test('double from 100 ms', () => {
    assert.equal(quickRetryDelay(0), 100);
    assert.equal(quickRetryDelay(1), 200);
    assert.equal(quickRetryDelay(2), 400);
  });
});

describe('RateGate', () => {
  test('open by default, pause blocks until it ends and is never shortened', () => {
    let now = 0;
    const gate = new RateGate(() => now);
    assert.equal(gate.tryTake(), 0);
    gate.pause(5000);
    gate.pause(1000);
    assert.equal(gate.tryTake(), 5000);
    now = 4999;
    assert.equal(gate.tryTake(), 1);
    now = 5000;
    assert.equal(gate.tryTake(), 0);
  });
  test('learnt limit: slightly under N/60 per second, small burst', () => {
    let now = 0;
    const gate = new RateGate(() => now);
    gate.setLimitPerMinute(6000);
    assert.equal(gate.limitPerSecond, 100 * RATE_HEADROOM);
    let taken = 0;
    // simulate 60 s in 1 ms steps, taking whenever allowed
    for (now = 0; now < 60_000; now++) {
      while (gate.tryTake() === 0) taken++;
    }
    assert.ok(taken <= 6000, `took ${taken} in a minute`);
    assert.ok(taken >= 5800, `took only ${taken} in a minute`);
  });
  test('a share of the learnt limit: two processes at one half each take N in a minute together', () => {
    let now = 0;
    const gates = [new RateGate(() => now), new RateGate(() => now)];
    for (const gate of gates) {
      gate.setLimitPerMinute(6000);
      gate.setShare(1 / 2);
      // the schedule still plans with the whole limit: it spreads re-asks over every instance
      assert.equal(gate.limitPerSecond, 100 * RATE_HEADROOM);
    }
    let taken = 0;
    for (now = 0; now < 60_000; now++) {
      for (const gate of gates) while (gate.tryTake() === 0) taken++;
    }
    assert.ok(taken <= 6000, `took ${taken} in a minute`);
    assert.ok(taken >= 5800, `took only ${taken} in a minute`);
    // alone again: the whole rate
    gates[0]?.setShare(1);
    let alone = 0;
    for (const start = now; now < start + 60_000; now++) while (gates[0]?.tryTake() === 0) alone++;
    assert.ok(alone >= 5800 && alone <= 6000, `took ${alone} in a minute alone`);
  });
  test('a 429 pauses at least a second, whatever Retry-After says', () => {
    let now = 0;
    const gate = new RateGate(() => now);
    assert.equal(gate.limited(0, 600, gate.limitVersion, 1000).pauseMs, MIN_RATE_LIMIT_PAUSE_MS);
    assert.equal(gate.tryTake(), MIN_RATE_LIMIT_PAUSE_MS);
    now = MIN_RATE_LIMIT_PAUSE_MS;
    assert.equal(gate.tryTake(), 0);
    assert.equal(gate.limited(7000, 600, gate.limitVersion, 1000).pauseMs, 7000);
    // a Retry-After a day ahead pauses an hour at most
    assert.equal(gate.limited(86_400_000, 600, gate.limitVersion, 1000).pauseMs, MAX_RATE_LIMIT_PAUSE_MS);
  });
  test('a 429 naming no limit: the assumed limit when none is known, then half of it once per batch sent under it', () => {
    const gate = new RateGate(() => 0);
    const before = gate.limitVersion;
    assert.equal(gate.limited(0, undefined, before, 1000).limitPerMinute, 1000);
    assert.equal(gate.limitPerSecond, (1000 / 60) * RATE_HEADROOM);
    // the other requests of the batch that met the full window: no further change
    assert.equal(gate.limited(0, undefined, before, 1000).limitPerMinute, 1000);
    // a request sent under the adopted limit met it: the limit did not keep us under
    assert.equal(gate.limited(0, undefined, gate.limitVersion, 1000).limitPerMinute, 500);
    // however many 429s name no limit, the halving stops at a share of the assumed limit
    let v = gate.limitVersion;
    for (let i = 0; i < 20; i++, v = gate.limitVersion) gate.limited(0, undefined, v, 1000);
    assert.equal(gate.limitPerMinute, Math.ceil(1000 * MIN_ADAPTED_SHARE));
    // an announced limit wins over any guess, and a guess never raises it
    assert.equal(gate.limited(0, 12, gate.limitVersion, 1000).limitPerMinute, 12);
    assert.equal(gate.limited(0, undefined, gate.limitVersion, 1000).limitPerMinute, 12);
    // POLL_ASSUMED_LIMIT=0 assumed none; now there is one, of unknown size
    const unassuming = new RateGate(() => 0);
    assert.equal(unassuming.limited(0, undefined, unassuming.limitVersion, 0).limitPerMinute, FALLBACK_LIMIT_PER_MINUTE);
  });
  test('a burst of one spaces requests evenly (the re-ask pacer)', () => {
    let now = 0;
    const gate = new RateGate(() => now);
    gate.setLimitPerMinute(1000, 1);
    assert.equal(gate.tryTake(), 0);
    const wait = gate.tryTake();
    assert.equal(wait, Math.ceil(1000 / ((1000 / 60) * RATE_HEADROOM)));
    now += wait;
    assert.equal(gate.tryTake(), 0);
    now += 10_000; // idle time does not save up a bunch
    assert.equal(gate.tryTake(), 0);
    assert.ok(gate.tryTake() > 0);
  });
});

describe('AccrualClient over HTTP', () => {
  let fake: FakeAccrual;
  let client: AccrualClient;
  // answers that must arrive get a timeout no loaded machine reaches; only the hang test needs a short one
  const ROOMY_MS = 10_000;
  before(async () => {
    fake = await FakeAccrual.start();
    client = new AccrualClient(fake.url, { timeoutMs: ROOMY_MS, connections: 4 });
  });
  after(async () => {
    await client.close();
    await fake.close();
  });

  test('maps real answers', async () => {
    fake.script('1', processed('1', 12.345));
    fake.script('2', status('2', 'PROCESSING'));
    fake.script('3', { status: 204 });
    fake.script('4', tooMany('7', 120));
    fake.script('5', { status: 502, body: 'bad gateway' });
    fake.script('6', { status: 200, body: '{"order":"6","status":' });
    assert.deepEqual(await client.ask('1'), { kind: 'processed', accrual: 1235 });
    assert.deepEqual(await client.ask('2'), { kind: 'in_progress', status: 'PROCESSING' });
    assert.deepEqual(await client.ask('3'), { kind: 'unknown' });
    assert.deepEqual(await client.ask('4'), { kind: 'rate_limited', retryAfterMs: 7000, limitPerMinute: 120 });
    assert.deepEqual(await client.ask('5'), { kind: 'transient', reason: 'HTTP 502' });
    assert.equal((await client.ask('6')).kind, 'transient');
  });

  test('a server that never answers times out', async () => {
    fake.script('7', 'hang');
    const quick = new AccrualClient(fake.url, { timeoutMs: 300, connections: 1 });
    const t0 = Date.now();
    try {
      assert.deepEqual(await quick.ask('7'), { kind: 'transient', reason: 'timeout' });
    } finally {
      await quick.close();
    }
    const took = Date.now() - t0;
    // the timer cannot fire early; late only by the machine's load, far from "never"
    assert.ok(took >= 280 && took < ROOMY_MS, `took ${took} ms`);
  });

  test('a dropped connection and a refused one are transient', async () => {
    fake.script('8', 'reset');
    assert.equal((await client.ask('8')).kind, 'transient');
    const dead = new AccrualClient(`http://127.0.0.1:${await freePort()}`, { timeoutMs: ROOMY_MS, connections: 1 });
    const a = await dead.ask('9');
    await dead.close();
    assert.equal(a.kind, 'transient');
    assert.match((a as { reason: string }).reason, /connection error/);
  });

  test('a base URL with a path prefix is kept', async () => {
    const prefixed = new AccrualClient(`${fake.url}/`, { timeoutMs: ROOMY_MS, connections: 1 });
    fake.script('10', processed('10'));
    assert.deepEqual(await prefixed.ask('10'), { kind: 'processed', accrual: 0 });
    await prefixed.close();
  });
});
