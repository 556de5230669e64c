/**
 * A 429's pause and limit are the database's, not one process's: pollers in-process on one real
 * PostgreSQL database, each asking through its own fake accrual service (so every request says
 * which poller sent it). After one of them is answered 429, neither the other one running beside
 * it nor one started afresh (a restart after kill -9 finds the same rows) sends anything until the
 * pause has passed, and both adopt the announced limit.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { Database } from '../../src/kernel/db/database.js';
import { createLogger } from '../../src/kernel/logger.js';
import { AccrualClient } from '../../src/gophermart/accrual-client.js';
import { AccrualPoller, type PollerOptions } from '../../src/gophermart/poller.js';
import { RateGate } from '../../src/gophermart/rate-gate.js';
import { GophermartStore } from '../../src/gophermart/store.js';
import { orderNumber } from '../support/accrual.js';
import { FakeAccrual, type FakeReply, processed, type SeenRequest, tooMany, unknown } from '../support/fake-accrual.js';
import { openPollerStore, Reports } from '../support/poller.js';
import { eventually } from '../support/wait.js';
import { type FreshDatabase, freshDatabase } from '../support/postgres.js';

const RETRY_AFTER_S = 3;
const ANNOUNCED_LIMIT = 600;

const options: PollerOptions = {
  pollConcurrency: 4,
  pollIntervalMs: 50,
  pollBackoffBaseMs: 200,
  pollBackoffMaxMs: 1000,
  pollAssumedLimit: 1000,
  accrualTimeoutMs: 2000,
  accrualRetries: 0,
  pollLeaseMs: 10_000,
  // the pause must hold through the claims alone until a heartbeat adopts it
  peerHeartbeatMs: 1000,
};

/** One poller with its own rate gate, observer and fake accrual service. */
interface Instance {
  poller: AccrualPoller;
  gate: RateGate;
  reports: Reports;
  fake: FakeAccrual;
  client: AccrualClient;
}

describe('accrual poller: a 429 pause shared through the database', () => {
  let fresh: FreshDatabase;
  let db: Database;
  let store: GophermartStore;
  let userId: number;
  const instances: Instance[] = [];

  /**
   * A poller whose fake answers the first request of all 429 Retry-After: 3, limit 600, then
   * PROCESSED (or always `reply`, when given).
   */
  async function instance(
    first: { limited: boolean },
    more: { reply?: FakeReply; options?: Partial<PollerOptions>; announcedPause?: () => void } = {},
  ): Promise<Instance> {
    const fake = await FakeAccrual.start();
    fake.intercept = (n): FakeReply => {
      if (more.reply) return more.reply;
      if (first.limited) return processed(n, 1);
      first.limited = true;
      return tooMany(String(RETRY_AFTER_S), ANNOUNCED_LIMIT);
    };
    const client = new AccrualClient(fake.url, { timeoutMs: options.accrualTimeoutMs, connections: options.pollConcurrency });
    const gate = new RateGate();
    const reports = new Reports();
    const poller = new AccrualPoller(
      { ...options, ...more.options },
      {
        store,
        client,
        logger: createLogger('gophermart', 'silent'),
        metrics: new Registry(),
        observer: reports,
        gate,
        announcedPause: more.announcedPause,
      },
    );
    const made = { poller, gate, reports, fake, client };
    instances.push(made);
    return made;
  }

  /** When the pause the database holds ends, by the database's clock (the same machine's as ours). */
  async function pauseEnd(): Promise<number> {
    const [row] = await db.query<{ ends: number }>('select (extract(epoch from paused_until) * 1000)::float8 as ends from gophermart.accrual_pause');
    assert.ok(row, 'no pause in the database');
    return Number(row.ends);
  }

  async function uploadOrders(count: number): Promise<string[]> {
    const numbers = Array.from({ length: count }, () => orderNumber());
    for (const n of numbers) await store.insertOrder(userId, n);
    for (const i of instances) i.poller.wake();
    return numbers;
  }

  const processedBy = (numbers: string[]) => (): boolean => numbers.every((n) => instances.some((i) => i.reports.of(n).some((o) => o.outcome === 'processed')));

  /** Polls `check` (bounded): a rate gate reports nothing when its limit changes. */
  async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    await eventually(what, async () => (check() ? true : undefined), timeoutMs, 20);
  }

  before(async () => {
    fresh = await freshDatabase('gm_poll_pause');
    ({ db, store, userId } = await openPollerStore(fresh.url, 'poller-pause', (opened) => new GophermartStore(opened)));
  });
  beforeEach(async () => {
    await stopAll();
    await db.query('delete from gophermart.accrual_pause');
  });
  /** Each test ends its pollers, passed or failed: one left running would take the next test's orders. */
  async function stopAll(): Promise<void> {
    for (const i of instances.splice(0)) {
      await i.poller.stop();
      await i.client.close();
      await i.fake.close();
    }
  }

  after(async () => {
    await stopAll();
    await db?.close();
    await fresh?.drop();
  });

  test('the instance beside the one answered 429 sends nothing until the pause has passed, and adopts the limit', { timeout: 60_000 }, async () => {
    const first = { limited: false };
    const pair = [await instance(first), await instance(first)];
    for (const i of pair) i.poller.start();
    const [refused] = await uploadOrders(1);
    await until('the 429', () => pair.some((i) => i.reports.settledOrders.some((o) => o.outcome === 'rate_limited')));
    const ends = await pauseEnd();
    const numbers = await uploadOrders(6);
    await pair[0]?.reports.until('every order credited', processedBy([refused ?? '', ...numbers]), 20_000);
    const requests = pair.flatMap((i) => i.fake.requests);
    const limited = requests.reduce((a, b) => (a.at <= b.at ? a : b));
    const during = requests.filter((r) => r !== limited && r.at < ends);
    assert.deepEqual(during, [], `requests inside the pause, which ended ${ends - limited.at} ms after the 429`);
    await until('both gates at the announced limit', () => pair.every((i) => i.gate.limitPerMinute === ANNOUNCED_LIMIT));
  });

  test('orders the other instance claimed before the pause wait too, from the moment it is announced', { timeout: 60_000 }, async () => {
    // the other instance holds four claims it asks about one a second (a known limit of 60/min),
    // and its heartbeat, which would also adopt the pause, is a minute away
    const slow = await instance({ limited: true }, { reply: unknown, options: { peerHeartbeatMs: 60_000 } });
    slow.gate.setLimitPerMinute(60, 1);
    slow.poller.start();
    await uploadOrders(4);
    await until('the first of its requests', () => slow.fake.requests.length >= 1);
    // what main.ts does through a NOTIFY: the instance that wrote the pause tells the others
    const refusing = await instance({ limited: false }, { announcedPause: () => void slow.poller.pauseAnnounced() });
    refusing.poller.start();
    await uploadOrders(1);
    await until('the 429', () => refusing.reports.settledOrders.some((o) => o.outcome === 'rate_limited'));
    const limitedAt = refusing.fake.requests[0]?.at ?? 0;
    const ends = await pauseEnd();
    await until('the pause over', () => Date.now() > ends + 200, 10_000);
    const inside = slow.fake.requests.filter((r) => r.at > limitedAt && r.at < ends);
    assert.deepEqual(inside, [], `the other instance asked inside the pause (${ends - limitedAt} ms from the 429)`);
  });

  test('a poller started afresh while a pause is in force sends nothing until it has passed, and adopts the limit', { timeout: 60_000 }, async () => {
    const first = { limited: false };
    const dying = await instance(first);
    dying.poller.start();
    const [refused] = await uploadOrders(1);
    await dying.reports.until('the 429', () => dying.reports.settledOrders.some((o) => o.outcome === 'rate_limited'));
    // what a kill -9 leaves: the pause in the database, no process that remembers it
    await dying.poller.stop();
    const ends = await pauseEnd();
    const restarted = await instance(first);
    restarted.poller.start();
    const numbers = await uploadOrders(6);
    await restarted.reports.until('every order credited', processedBy([refused ?? '', ...numbers]), 20_000);
    const early: SeenRequest[] = restarted.fake.requests.filter((r) => r.at < ends);
    assert.deepEqual(early, [], `the restarted poller asked inside the pause (${ends - (dying.fake.requests[0]?.at ?? 0)} ms long)`);
    assert.ok(
      restarted.reports.rounds.some((r) => r.pausedForMs > 0),
      'the restarted poller never reported the pause',
    );
    assert.equal(restarted.gate.limitPerMinute, ANNOUNCED_LIMIT);
  });

  test('a poller started afresh sends its first requests under the announced limit, not at full concurrency', { timeout: 60_000 }, async () => {
    // 60 a minute: one request, then the next a second later (the bucket holds one)
    await store.announceAccrualPause(1, 60);
    const fresh = await instance({ limited: true });
    const numbers = await uploadOrders(4);
    fresh.poller.start();
    await until('two requests', () => fresh.fake.requests.length >= 2);
    const [a, b] = fresh.fake.requests;
    assert.ok(a && b && b.at - a.at >= 800, `the second request came ${b && a ? b.at - a.at : '?'} ms after the first`);
    await fresh.reports.until('the orders credited', processedBy(numbers.slice(0, 2)), 20_000);
  });

  test('only a limit the accrual service announced is kept in the database, and only for a while', async () => {
    // a limit only guessed (the 429 named none) stays with the process that guessed it
    await store.announceAccrualPause(1000, undefined);
    assert.equal((await store.accrualPause(3_600_000)).limitPerMinute, undefined);
    await store.announceAccrualPause(1000, 600);
    await store.announceAccrualPause(1000, undefined);
    assert.equal((await store.accrualPause(3_600_000)).limitPerMinute, 600, 'a later 429 naming no limit keeps the announced one');
    // once it is older than the memory, the service may have raised it since
    assert.equal((await store.accrualPause(0)).limitPerMinute, undefined);
    // an announced limit past what the column holds is as good as none: stored as its largest value
    await store.announceAccrualPause(1000, 5_000_000_000);
    assert.equal((await store.accrualPause(3_600_000)).limitPerMinute, 2_147_483_647);
    // the pause extends, never shortens
    const before = (await store.accrualPause(0)).pausedForMs;
    await store.announceAccrualPause(1, undefined);
    assert.ok((await store.accrualPause(0)).pausedForMs > before - 500);
  });
});
