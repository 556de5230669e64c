/**
 * The poller in-process on real PostgreSQL against the fake accrual service over a real socket,
 * with the clock and the observer injected: the test waits for the poller's own reports
 * (rounds, settled orders) and moves time itself, so a 30 s Retry-After or a learnt rate is
 * checked without spending that time and without guessing from sleeps.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { Database } from '../../src/kernel/db/database.js';
import { createLogger } from '../../src/kernel/logger.js';
import type { AccrualClient } from '../../src/gophermart/accrual-client.js';
import { AccrualPoller, type PollerOptions } from '../../src/gophermart/poller.js';
import { RATE_HEADROOM, RateGate } from '../../src/gophermart/rate-gate.js';
import { REASK_SHARE } from '../../src/gophermart/schedule.js';
import { GophermartStore } from '../../src/gophermart/store.js';
import { orderNumber } from '../support/accrual.js';
import { type FakeAccrual, type FakeReply, processed, tooMany, unknown } from '../support/fake-accrual.js';
import { type InProcessAccrual, openPollerStore, Reports, startInProcessAccrual } from '../support/poller.js';
import { type FreshDatabase, freshDatabase } from '../support/postgres.js';

const options: PollerOptions = {
  pollConcurrency: 8,
  pollIntervalMs: 50,
  pollBackoffBaseMs: 1000,
  pollBackoffMaxMs: 60_000,
  pollAssumedLimit: 1000,
  accrualTimeoutMs: 1000,
  accrualRetries: 0,
  pollLeaseMs: 30_000,
};

describe('accrual poller in-process, on an injected clock', () => {
  let fresh: FreshDatabase;
  let db: Database;
  let store: GophermartStore;
  let fake: FakeAccrual;
  let client: AccrualClient;
  let accrual: InProcessAccrual;
  let userId: number;

  before(async () => {
    fresh = await freshDatabase('gm_poll_clock');
    ({ db, store, userId } = await openPollerStore(fresh.url, 'poller-clock', (opened) => new GophermartStore(opened)));
    accrual = await startInProcessAccrual(options);
    ({ fake, client } = accrual);
  });
  after(async () => {
    await accrual?.close();
    await db?.close();
    await fresh?.drop();
  });

  // a 429 announces its pause and limit in the database, where the next test's poller would adopt them
  beforeEach(async () => {
    await db.query('delete from gophermart.accrual_pause');
  });

  function poller(clock: () => number, reports: Reports, gate?: RateGate, timings = options): AccrualPoller {
    return new AccrualPoller(timings, { store, client, logger: createLogger('gophermart', 'silent'), metrics: new Registry(), clock, observer: reports, gate });
  }

  /** Four fresh orders, and an accrual service that cuts every connection. */
  async function ordersOfADeadService(): Promise<string[]> {
    const numbers = [orderNumber(), orderNumber(), orderNumber(), orderNumber()];
    fake.intercept = (): FakeReply => 'reset';
    for (const n of numbers) await store.insertOrder(userId, n);
    return numbers;
  }

  /** A poller on the real clock with other timings. */
  function pollerWith(timings: PollerOptions, reports: Reports, metrics = new Registry()): AccrualPoller {
    return new AccrualPoller(timings, { store, client, logger: createLogger('gophermart', 'silent'), metrics, observer: reports });
  }

  test('a 30 s Retry-After holds every request until the clock has passed it, then the orders are credited', async () => {
    let now = Date.parse('2031-06-01T12:00:00Z');
    const reports = new Reports();
    // one heartbeat, at the start: a later one would adopt the pause the database holds, which
    // ends by the database's clock, a few milliseconds after this clock's, and this clock stands still
    const p = poller(() => now, reports, undefined, { ...options, peerHeartbeatMs: 3_600_000 });
    const [a, b] = [orderNumber(), orderNumber()];
    let limited = false;
    fake.intercept = (n): FakeReply => {
      if (!limited) {
        limited = true;
        return tooMany('30', 600);
      }
      return processed(n, 3);
    };
    p.start();
    try {
      await store.insertOrder(userId, a);
      p.wake();
      await reports.until('the 429 handed back', () => reports.of(a).some((o) => o.outcome === 'rate_limited'));
      await store.insertOrder(userId, b);
      p.wake();
      // two rounds of the loop that saw the pause and claimed nothing
      const seen = reports.rounds.length;
      await reports.until('two paused rounds', () => reports.rounds.slice(seen).filter((r) => r.pausedForMs > 0).length >= 2);
      assert.deepEqual(
        fake.requests.map((r) => r.number),
        [a],
        'asked during the pause',
      );
      assert.ok(reports.rounds.slice(seen).every((r) => r.claimed === 0));
      // the pause is also announced in the database, by its own clock: it passes there too
      await db.query('update gophermart.accrual_pause set paused_until = now()');
      now += 30_000;
      await reports.until('both processed', () => [a, b].every((n) => reports.of(n).some((o) => o.outcome === 'processed')));
      assert.equal(fake.seen(a).length, 2);
      assert.equal(fake.seen(b).length, 1);
      const [row] = await db.query<{ balance: number }>('select balance::int as balance from gophermart.users where id = $1', [userId]);
      assert.equal(row?.balance, 600);
    } finally {
      fake.intercept = undefined;
      await p.stop();
    }
  });

  test('taken for down after three unanswered orders; a 429 is an answer and ends it', async () => {
    const registry = new Registry();
    const reports = new Reports();
    const quick: PollerOptions = { ...options, pollBackoffBaseMs: 100, pollBackoffMaxMs: 200 };
    const p = pollerWith(quick, reports, registry);
    const down = async (): Promise<string> => (await registry.getSingleMetricAsString('gophermart_accrual_down')).split('\n').at(-1) ?? '';
    const numbers = [orderNumber(), orderNumber(), orderNumber()];
    fake.intercept = (): FakeReply => 'reset';
    for (const n of numbers) await store.insertOrder(userId, n);
    p.start();
    try {
      p.wake();
      await reports.until('three unanswered', () => numbers.every((n) => reports.of(n).some((o) => o.outcome === 'connection_error')));
      assert.match(await down(), / 1$/);
      fake.intercept = (): FakeReply => tooMany('1', 600);
      await reports.until('a probe answered 429', () => reports.settledOrders.some((o) => o.outcome === 'rate_limited'));
      assert.match(await down(), / 0$/);
    } finally {
      fake.intercept = undefined;
      await p.stop();
    }
    for (const n of numbers) await db.query(`update gophermart.orders set status = 'INVALID' where number = $1`, [n]);
  });

  test('back after a long outage: every order is credited at once, not at the end of its backoff', async () => {
    const reports = new Reports();
    // the backoff doubles from 100 ms to 20 s: a few failed probes put every order seconds away
    const backing: PollerOptions = { ...options, pollBackoffBaseMs: 100, pollBackoffMaxMs: 20_000 };
    const p = pollerWith(backing, reports);
    const numbers = await ordersOfADeadService();
    const [before] = await db.query<{ balance: number }>('select balance::int as balance from gophermart.users where id = $1', [userId]);
    const soonest = async (): Promise<number> => {
      const [row] = await db.query<{ ms: number }>(
        `select extract(epoch from min(next_poll_at) - now()) * 1000 as ms from gophermart.orders where number = any($1::text[])`,
        [numbers],
      );
      return Number(row?.ms);
    };
    p.start();
    try {
      p.wake();
      // down, and probed until even the soonest order waits 4 s or more
      await reports.until('every order put off by 4 s', () => reports.settledOrders.filter((o) => o.outcome === 'connection_error').length >= 8, 30_000);
      while ((await soonest()) < 4_000) await new Promise((r) => setTimeout(r, 50));
      const back = Date.now();
      const deadline = back + (await soonest()) - 500;
      fake.intercept = (n): FakeReply => processed(n, 2);
      await reports.until('all four processed', () => numbers.every((n) => reports.of(n).some((o) => o.outcome === 'processed')), 20_000);
      assert.ok(Date.now() < deadline, `credited ${Date.now() - back} ms after the return, the soonest backoff ended ${deadline + 500 - back} ms after it`);
      const [after] = await db.query<{ balance: number }>('select balance::int as balance from gophermart.users where id = $1', [userId]);
      assert.equal((after?.balance ?? 0) - (before?.balance ?? 0), 4 * 200);
    } finally {
      fake.intercept = undefined;
      await p.stop();
    }
  });

  test('a poller waiting to probe a dead accrual service stops at once', async () => {
    const reports = new Reports();
    // a down poller probes at most once per POLL_BACKOFF_BASE (10 s here), so after the four
    // failures it waits: its waits, like every other, end with the stop
    const patient: PollerOptions = { ...options, pollBackoffBaseMs: 10_000, pollBackoffMaxMs: 10_000 };
    const p = pollerWith(patient, reports);
    const numbers = await ordersOfADeadService();
    p.start();
    try {
      p.wake();
      await reports.until('all four unanswered', () => reports.settledOrders.filter((o) => o.outcome === 'connection_error').length >= 4);
    } finally {
      fake.intercept = undefined;
      const stopping = Date.now();
      await p.stop();
      assert.ok(Date.now() - stopping < 2000, `stop took ${Date.now() - stopping} ms`);
    }
    for (const n of numbers) await db.query(`update gophermart.orders set status = 'INVALID' where number = $1`, [n]);
  });

  test('pollers on one database split the rate limit: one half each while both live, the whole when alone', async () => {
    const quick: PollerOptions = { ...options, peerHeartbeatMs: 50 };
    const gates = [new RateGate(), new RateGate()];
    const pollers = gates.map(
      (gate) =>
        new AccrualPoller(quick, { store, client, logger: createLogger('gophermart', 'silent'), metrics: new Registry(), observer: new Reports(), gate }),
    );
    const until = async (what: string, check: () => boolean): Promise<void> => {
      for (const deadline = Date.now() + 10_000; !check(); await new Promise((r) => setTimeout(r, 10))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      }
    };
    for (const p of pollers) p.start();
    try {
      await until('both at one half', () => gates.every((g) => g.sharePerProcess === 0.5));
      await pollers[1]?.stop();
      await until('the other alone again', () => gates[0]?.sharePerProcess === 1);
    } finally {
      for (const p of pollers) await p.stop();
    }
    // a stopped poller left the table; one that died stops counting after three heartbeats
    assert.equal(await store.pollerAlive('crashed-instance', 60), 1);
    assert.equal(await store.pollerAlive('a-live-one', 60), 2);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await store.pollerAlive('a-live-one', 60), 1);
    await store.pollerGone('a-live-one');
    await store.pollerGone('crashed-instance');
  });

  test('under a learnt 600/min, 40 unknown orders are each rescheduled 40 / (0.8 × 9.7/s) ≈ 5.2 s later', async () => {
    // a clock ten times faster than the wall: the learnt rate's 4 s of first questions take 0.4 s
    const start = Date.now();
    const clock = (): number => start + (Date.now() - start) * 10;
    const gate = new RateGate(clock);
    gate.setLimitPerMinute(600);
    const reports = new Reports();
    const p = poller(clock, reports, gate);
    const numbers = Array.from({ length: 40 }, () => orderNumber());
    for (const n of numbers) await store.insertOrder(userId, n);
    const unfinished = Number((await db.query<{ n: number }>(`select count(*)::int as n from gophermart.orders where status in ('NEW', 'PROCESSING')`))[0]?.n);
    assert.equal(unfinished, 40);
    fake.intercept = (): FakeReply => unknown;
    p.start();
    try {
      await reports.until('every order rescheduled', () => numbers.every((n) => reports.of(n).some((o) => o.outcome === 'unknown')));
      const planned = (40 / (9.7 * REASK_SHARE)) * 1000;
      assert.equal(gate.limitPerSecond, 10 * RATE_HEADROOM);
      for (const n of numbers) {
        const delay = reports.of(n).find((o) => o.outcome === 'unknown')?.nextAskInMs ?? -1;
        assert.ok(delay >= planned * 0.9 - 1 && delay <= planned * 1.1 + 1, `${n} rescheduled ${delay} ms later, planned ${planned} ± 10 %`);
      }
    } finally {
      fake.intercept = undefined;
      await p.stop();
    }
  });
});
