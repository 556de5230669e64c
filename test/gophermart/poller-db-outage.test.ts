/**
 * The poller in-process on a private PostgreSQL that is stopped while an accrual answer is on
 * its way: the answer the poller holds when it finds the database gone is written once the
 * database is back — within SPEC §0's 5 s of its return — not dropped until the order's lease
 * runs out (POLL_LEASE, 30 s here) and it is asked again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { Database } from '../../src/kernel/db/database.js';
import { isDatabaseUnavailable } from '../../src/kernel/db/unavailable.js';
import { createLogger } from '../../src/kernel/logger.js';
import type { AccrualClient } from '../../src/gophermart/accrual-client.js';
import { AccrualPoller, type PollerOptions } from '../../src/gophermart/poller.js';
import { GophermartStore } from '../../src/gophermart/store.js';
import { orderNumber } from '../support/accrual.js';
import { type FakeAccrual, type FakeReply, processed } from '../support/fake-accrual.js';
import { createPgCluster, type PgCluster } from '../support/pg-cluster.js';
import { type InProcessAccrual, openPollerStore, Reports, startInProcessAccrual } from '../support/poller.js';
import { RECOVER_WITHIN_MS } from '../support/outage.js';

/** The store, reporting each write of an accrual answer that failed and each that changed an order. */
class WatchedStore extends GophermartStore {
  readonly failures: unknown[] = [];
  changes = 0;
  private readonly waiters = new Set<() => void>();

  override async applyAccrualResult(...args: Parameters<GophermartStore['applyAccrualResult']>): ReturnType<GophermartStore['applyAccrualResult']> {
    try {
      const applied = await super.applyAccrualResult(...args);
      if (applied === 'applied') this.changes += 1;
      return applied;
    } catch (err) {
      this.failures.push(err);
      for (const wake of this.waiters) wake();
      throw err;
    }
  }

  /** Resolves at the first failed write, or fails after `timeoutMs`. */
  firstFailure(timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no write of an answer failed within ${timeoutMs} ms`)), timeoutMs);
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(this.failures[0]);
      };
      if (this.failures.length > 0) wake();
      else this.waiters.add(wake);
    });
  }
}

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Rejects after `ms` unless `promise` settles first. */
function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const options: PollerOptions = {
  pollConcurrency: 2,
  pollIntervalMs: 50,
  pollBackoffBaseMs: 200,
  pollBackoffMaxMs: 1000,
  pollAssumedLimit: 1000,
  // the answer is held while the test stops the database: no timeout may end it first
  accrualTimeoutMs: 20_000,
  accrualRetries: 0,
  pollLeaseMs: 30_000,
};

describe('accrual poller: the database goes away while an answer is held', () => {
  let cluster: PgCluster;
  let db: Database;
  let store: WatchedStore;
  let fake: FakeAccrual;
  let client: AccrualClient;
  let accrual: InProcessAccrual;
  let userId: number;

  before(async () => {
    cluster = await createPgCluster();
    await cluster.start();
    const url = await cluster.createDatabase('gophermart');
    ({ db, store, userId } = await openPollerStore(url, 'poller-outage', (opened) => new WatchedStore(opened)));
    accrual = await startInProcessAccrual(options);
    ({ fake, client } = accrual);
  });
  after(async () => {
    await accrual?.close();
    await db?.close();
    await cluster?.destroy();
  });

  test('a PROCESSED answer that meets a stopped database is credited once within 5 s of its return', { timeout: 60_000 }, async (t) => {
    const reports = new Reports();
    const p = new AccrualPoller(options, { store, client, logger: createLogger('gophermart', 'silent'), metrics: new Registry(), observer: reports });
    const n = orderNumber();
    const asked = deferred();
    const answer = deferred();
    fake.intercept = (number): FakeReply => {
      asked.resolve();
      return { ...(processed(number, 12.34) as object), heldUntil: answer.promise } as FakeReply;
    };
    await store.insertOrder(userId, n);
    p.start();
    try {
      p.wake();
      await within('the order asked about', 10_000, asked.promise);
      await cluster.stop('fast');
      answer.resolve();
      const failure = await store.firstFailure(10_000);
      assert.ok(isDatabaseUnavailable(failure), `the write failed otherwise: ${String(failure)}`);
      await cluster.start();
      const back = performance.now();
      await reports.until('the held answer applied', () => reports.of(n).some((o) => o.outcome === 'processed'), RECOVER_WITHIN_MS);
      const tookMs = performance.now() - back;
      t.diagnostic(`credited ${Math.round(tookMs)} ms after the database returned, ${store.failures.length} failed writes before`);
      assert.ok(tookMs < RECOVER_WITHIN_MS, `credited ${Math.round(tookMs)} ms after the database returned`);
      const [row] = await db.query<{ status: string; balance: number }>(
        'select o.status, u.balance from gophermart.orders o join gophermart.users u on u.id = o.user_id where o.number = $1',
        [n],
      );
      assert.deepEqual(row, { status: 'PROCESSED', balance: 1234 });
      assert.equal(store.changes, 1, 'credited more than once');
      // the answer held was the one written: the order was not asked again
      assert.equal(fake.seen(n).length, 1);
    } finally {
      fake.intercept = undefined;
      answer.resolve();
      await p.stop();
    }
  });
});
