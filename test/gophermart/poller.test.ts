import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase } from '../../src/kernel/db/open.js';
import { GophermartStore } from '../../src/gophermart/store.js';
import { orderNumber } from '../support/accrual.js';
import { processed, status, unknown } from '../support/fake-accrual.js';
import type { FakeAccrual } from '../support/fake-accrual.js';
import { call } from '../support/http.js';
import { newUser, startPollerRig, upload, type PollerRig } from '../support/poller.js';
import { eventually } from '../support/wait.js';
import type { FreshDatabase } from '../support/postgres.js';
import type { ServiceProcess } from '../support/process.js';

// One bin/gophermart against one fake accrual service; every test uses its own order numbers.
describe('accrual poller (bin/gophermart + fake accrual service)', () => {
  let rig: PollerRig;
  let db: FreshDatabase;
  let fake: FakeAccrual;
  let gm: ServiceProcess;
  let look: PollerRig['look'];
  let user: { login: string; token: string };

  /** An order the accrual service never knows: asked again and again while the poller works. */
  async function witness(): Promise<string> {
    const n = orderNumber();
    fake.script(n, unknown);
    await upload(gm.url, user.token, n);
    return n;
  }
  /** Waits until `n` has been asked `times` more times than now. */
  async function askedAgain(n: string, times: number): Promise<void> {
    const target = fake.seen(n).length + times;
    await eventually(`${n} asked ${target} times`, async () => (fake.seen(n).length >= target ? true : undefined));
  }

  before(async () => {
    rig = await startPollerRig({
      // long enough that no answer times out on a loaded machine unless it was scripted to hang
      ACCRUAL_TIMEOUT: '2s',
      ACCRUAL_RETRIES: '2',
      POLL_BACKOFF_BASE: '200ms',
      POLL_BACKOFF_MAX: '1s',
      POLL_LEASE: '4s',
      POLL_CONCURRENCY: '8',
    });
    ({ db, fake, gm, look } = rig);
    user = await newUser(gm.url);
  });
  after(async () => {
    await rig?.close();
  });

  test('PROCESSED: status and credit, asked within two seconds of the upload', async () => {
    const n = orderNumber();
    fake.script(n, processed(n, 729.98));
    const before = await look.balance(user.login);
    const t0 = Date.now();
    await upload(gm.url, user.token, n);
    await eventually('PROCESSED', () => look.statusIs(n, 'PROCESSED'));
    const first = fake.seen(n)[0];
    // the upload wakes the poller: a few ms on a quiet machine; the bound leaves room for a loaded
    // one (1.2 s seen with three test files and two other sessions' load at once)
    assert.ok(first && first.at - t0 < 2000, `first question after ${first ? first.at - t0 : '∞'} ms`);
    assert.equal(await look.balance(user.login), before + 72998);
    const list = await call(gm.url, 'GET', '/api/user/orders', { token: user.token });
    const mine = (list.json as { number: string; status: string; accrual?: number }[]).find((o) => o.number === n);
    assert.deepEqual({ status: mine?.status, accrual: mine?.accrual }, { status: 'PROCESSED', accrual: 729.98 });
  });

  test('PROCESSED without accrual: final, nothing credited, no accrual field', async () => {
    const n = orderNumber();
    fake.script(n, processed(n));
    const before = await look.balance(user.login);
    await upload(gm.url, user.token, n);
    await eventually('PROCESSED', () => look.statusIs(n, 'PROCESSED'));
    assert.equal(await look.balance(user.login), before);
    const list = await call(gm.url, 'GET', '/api/user/orders', { token: user.token });
    const mine = (list.json as Record<string, unknown>[]).find((o) => o.number === n);
    assert.equal(mine?.status, 'PROCESSED');
    assert.equal('accrual' in (mine ?? {}), false);
  });

  test('INVALID is final: never asked again, nothing credited', async () => {
    const n = orderNumber();
    fake.script(n, status(n, 'INVALID'));
    const before = await look.balance(user.login);
    await upload(gm.url, user.token, n);
    await eventually('INVALID', () => look.statusIs(n, 'INVALID'));
    // A witness the accrual service never knows is asked at the same cadence an unfinished
    // order would be: two more questions about it mean the INVALID one had its chances too.
    await askedAgain(await witness(), 3);
    assert.equal(fake.seen(n).length, 1);
    assert.equal(await look.balance(user.login), before);
  });

  test('REGISTERED → PROCESSING, then PROCESSED with credit', async () => {
    const n = orderNumber();
    fake.script(n, status(n, 'REGISTERED'), status(n, 'PROCESSING'), processed(n, 10));
    const before = await look.balance(user.login);
    await upload(gm.url, user.token, n);
    const mid = await eventually('PROCESSING', () => look.statusIs(n, 'PROCESSING'));
    assert.ok(mid.poll_attempts >= 1);
    await eventually('PROCESSED', () => look.statusIs(n, 'PROCESSED'));
    assert.equal(fake.seen(n).length, 3);
    assert.equal(await look.balance(user.login), before + 1000);
  });

  test('204 keeps the order NEW and it is asked again, never before the floor delay; it does not block others', async () => {
    const stuck = orderNumber();
    fake.script(stuck, unknown);
    await upload(gm.url, user.token, stuck);
    // Many orders behind the stuck one all finish promptly: no head-of-line blocking.
    const others = Array.from({ length: 24 }, () => orderNumber());
    for (const n of others) fake.script(n, processed(n, 1));
    const uploadedAt = new Map<string, number>();
    for (const n of others) {
      uploadedAt.set(n, Date.now());
      await upload(gm.url, user.token, n);
    }
    for (const n of others) await eventually(`${n} PROCESSED`, () => look.statusIs(n, 'PROCESSED'));
    // each asked once, promptly after its own upload (the uploads themselves are sequential and
    // slow on a loaded machine, so they are not summed)
    const waits = others.map((n) => (fake.seen(n)[0]?.at ?? Number.POSITIVE_INFINITY) - (uploadedAt.get(n) ?? 0));
    assert.ok(
      waits.every((w) => w < 2500),
      `first questions ${waits.join(', ')} ms after the upload`,
    );
    assert.ok(others.every((n) => fake.seen(n).length === 1));
    await eventually('asked 4 times', async () => (fake.seen(stuck).length >= 4 ? true : undefined));
    const answeredBefore = fake.seen(stuck).length;
    const o = await look.order(stuck);
    assert.equal(o?.status, 'NEW');
    const seen = fake.seen(stuck).map((r) => r.at);
    const gaps = seen.slice(1).map((t, i) => t - (seen[i] ?? 0));
    // the floor (200 ms here) less its 10 % jitter; the due time is the database's, so a loaded
    // machine can only make gaps longer
    assert.ok(
      gaps.every((g) => g >= 175),
      `asked again before the floor: ${gaps.join(', ')} ms`,
    );
    // every question is counted once its answer is handled: a question in flight while the row
    // was read may not be counted yet
    assert.ok(
      (o?.poll_attempts ?? -1) >= answeredBefore - 1 && (o?.poll_attempts ?? -1) <= fake.seen(stuck).length,
      `${o?.poll_attempts} attempts for ${answeredBefore}..${fake.seen(stuck).length} questions`,
    );
    // Once the accrual service knows it, it completes.
    fake.script(stuck, processed(stuck, 2));
    await eventually('stuck PROCESSED', () => look.statusIs(stuck, 'PROCESSED'), 4000);
  });

  test('5xx: quick retries, then a later round', async () => {
    const n = orderNumber();
    const e500 = { status: 500, body: 'oops' };
    fake.script(n, e500, e500, e500, processed(n, 3));
    const before = await look.balance(user.login);
    await upload(gm.url, user.token, n);
    await eventually('PROCESSED', () => look.statusIs(n, 'PROCESSED'), 5000);
    const at = fake.seen(n).map((r) => r.at);
    assert.equal(at.length, 4);
    // 1 try + 2 quick retries (100 ms, 200 ms) …
    assert.ok((at[2] ?? 0) - (at[0] ?? 0) < 800, `quick retries took ${(at[2] ?? 0) - (at[0] ?? 0)} ms`);
    // … then the order waits for its backoff (≥ 0.9 × 200 ms)
    assert.ok((at[3] ?? 0) - (at[2] ?? 0) >= 170, `later round after ${(at[3] ?? 0) - (at[2] ?? 0)} ms`);
    assert.equal(await look.balance(user.login), before + 300);
  });

  test('timeouts and dropped connections are retried', async () => {
    const n = orderNumber();
    fake.script(n, 'hang', 'reset', processed(n, 4));
    const before = await look.balance(user.login);
    const t0 = Date.now();
    await upload(gm.url, user.token, n);
    await eventually('PROCESSED', () => look.statusIs(n, 'PROCESSED'), 15_000);
    assert.ok(Date.now() - t0 >= 2000, 'the hung request must have timed out first');
    assert.equal(fake.seen(n).length, 3);
    assert.equal(await look.balance(user.login), before + 400);
  });

  test('malformed 200 bodies are never credited, and the order is asked again', async () => {
    const n = orderNumber();
    const bad = [
      { status: 200, body: 'garbage{' },
      { status: 200, body: { order: n, status: 'DONE', accrual: 5 } },
      { status: 200, body: { order: '79927398713', status: 'PROCESSED', accrual: 5 } },
      { status: 200, body: { order: n, status: 'PROCESSED', accrual: -5 } },
    ];
    fake.script(n, ...bad, processed(n, 5));
    const before = await look.balance(user.login);
    await upload(gm.url, user.token, n);
    await eventually('5 answers', async () => (fake.seen(n).length >= 4 ? true : undefined), 8000);
    const mid = await look.order(n);
    if (fake.seen(n).length === 4) assert.notEqual(mid?.status, 'PROCESSED');
    await eventually('PROCESSED', () => look.statusIs(n, 'PROCESSED'), 8000);
    assert.equal(fake.seen(n).length, 5);
    assert.equal(await look.balance(user.login), before + 500);
  });

  test('a PROCESSED answer applied twice (or concurrently) credits once', async () => {
    // The store's guarantee, exercised directly on the same database the service uses.
    const n = orderNumber();
    fake.script(n, 'hang'); // keep the service's own poller from finishing it first
    await upload(gm.url, user.token, n);
    const before = await look.balance(user.login);
    const database = await openDatabase({ url: db.url, embeddedDir: 'unused', poolSize: 4, applicationName: 'test' });
    try {
      const store = new GophermartStore(database);
      const results = await Promise.all([1, 2, 3, 4].map(() => store.applyAccrualResult(n, 'PROCESSED', 1234)));
      assert.equal(results.filter((r) => r === 'applied').length, 1);
      assert.equal(await store.applyAccrualResult(n, 'PROCESSED', 1234), 'unchanged');
      assert.equal(await store.applyAccrualResult(n, 'INVALID'), 'unchanged');
    } finally {
      await database.close();
    }
    assert.equal(await look.balance(user.login), before + 1234);
    assert.equal((await look.order(n))?.status, 'PROCESSED');
  });

  test('a dead accrual service is asked about one order at a time; when it answers, every order goes', async () => {
    const numbers = Array.from({ length: 30 }, () => orderNumber());
    for (const n of numbers) fake.script(n, processed(n, 1));
    const before = await look.balance(user.login);
    const asked: string[] = [];
    // every request's connection is cut: the service is down for everyone
    fake.intercept = (n) => {
      asked.push(n);
      return 'reset';
    };
    let window: string[];
    try {
      for (const n of numbers) await upload(gm.url, user.token, n);
      // the orders in flight when it went down fail (3 attempts each, ≈ 0.3 s), then it probes
      await new Promise((r) => setTimeout(r, 2000));
      const from = asked.length;
      await new Promise((r) => setTimeout(r, 2000));
      window = asked.slice(from);
      assert.match((await call(gm.url, 'GET', '/metrics')).text, /gophermart_accrual_down\{[^}]*\} 1/);
    } finally {
      fake.intercept = undefined;
    }
    // One probe at a time: its 3 attempts (ACCRUAL_RETRIES 2) come together, with no other
    // order's between, and each probe takes ≥ 300 ms. Asking about every due order would be
    // 8 orders at a time (POLL_CONCURRENCY), each due again within POLL_BACKOFF_MAX (1 s).
    const runs: number[] = [];
    window.forEach((n, i) => {
      if (i > 0 && window[i - 1] === n) runs[runs.length - 1] = (runs[runs.length - 1] ?? 0) + 1;
      else runs.push(1);
    });
    assert.ok(runs.length >= 3, `it still probes, more than once: runs ${runs.join(',')}`);
    assert.ok(window.length <= 27, `${window.length} requests in 2 s while down`);
    // (a probe that a very slow machine kept past its lease's margin is handed back after fewer
    // attempts, so a short run may occur; asking about several orders at once makes runs of 1)
    const inner = runs.slice(1, -1);
    assert.ok(
      inner.every((r) => r <= 3) && inner.filter((r) => r === 3).length * 2 >= inner.length,
      `questions not one order at a time: runs ${runs.join(',')}`,
    );
    // back: every order is credited within the backoff cap (1 s) and a probe
    for (const n of numbers) await eventually(`${n} PROCESSED`, () => look.statusIs(n, 'PROCESSED'), 8000);
    assert.equal(await look.balance(user.login), before + 30 * 100);
    assert.match((await call(gm.url, 'GET', '/metrics')).text, /gophermart_accrual_down\{[^}]*\} 0/);
  });

  test('metrics: queue depth, requests by outcome, credits', async () => {
    const r = await call(gm.url, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.text, /gophermart_orders\{status="PROCESSED"[^}]*\} [1-9]/);
    assert.match(r.text, /gophermart_orders\{status="NEW"[^}]*\} \d/);
    assert.match(r.text, /gophermart_orders_due\{[^}]*\} \d/);
    assert.match(r.text, /gophermart_accrual_requests_total\{outcome="processed"[^}]*\} [1-9]/);
    assert.match(r.text, /gophermart_accrual_requests_total\{outcome="unknown"[^}]*\} [1-9]/);
    assert.match(r.text, /gophermart_accrual_requests_total\{outcome="server_error"[^}]*\} [1-9]/);
    assert.match(r.text, /gophermart_accrual_requests_total\{outcome="timeout"[^}]*\} [1-9]/);
    assert.match(r.text, /gophermart_accrual_requests_total\{outcome="malformed"[^}]*\} [1-9]/);
    assert.match(r.text, /gophermart_accrual_credits_total\{[^}]*\} [1-9]/);
    assert.match(r.text, /gophermart_accrual_credited_points_total\{[^}]*\} [1-9]/);
  });

  test('SIGTERM: the poller stops cleanly and hands back its claims', async () => {
    const n = orderNumber();
    fake.script(n, 'hang');
    await upload(gm.url, user.token, n);
    await eventually('claimed', async () => ((await look.order(n))?.claimed_until ? true : undefined));
    const code = await gm.stop('SIGTERM');
    assert.equal(code, 0);
    const o = await look.order(n);
    assert.equal(o?.status, 'NEW');
    assert.equal(o?.claimed_until, null);
  });
});
