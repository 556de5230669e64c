/**
 * The accrual processor in-process on real PostgreSQL, on a clock the test controls: what is
 * due, and when, is decided by that clock, so each phase boundary is checked to the millisecond
 * with no wall time spent and nothing to tolerate on a loaded machine.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { type ProcessorRound, Processor } from '../../src/accrual/processor.js';
import { createAccrualMetrics } from '../../src/accrual/metrics.js';
import { migrations, SCHEMA } from '../../src/accrual/migrations.js';
import { AccrualStore } from '../../src/accrual/store.js';
import type { Database } from '../../src/kernel/db/database.js';
import { migrate } from '../../src/kernel/db/migrate.js';
import { openDatabase } from '../../src/kernel/db/open.js';
import { type Decimal, parseDecimal } from '../../src/kernel/decimal.js';
import { createLogger } from '../../src/kernel/logger.js';
import { orderNumber } from '../support/accrual.js';
import { type FreshDatabase, freshDatabase } from '../support/postgres.js';

/** Exact decimal from text the test knows is one. */
function decimal(text: string): Decimal {
  const d = parseDecimal(text);
  if (!d) throw new Error(`not a decimal: ${text}`);
  return d;
}
const goods = [{ description: 'Progress item', price: decimal('1') }];

describe('accrual processor on an injected clock', () => {
  let fresh: FreshDatabase;
  let db: Database;
  let store: AccrualStore;
  // far from the database's own clock, so nothing here could pass by reading now()
  let now = Date.parse('2031-06-01T12:00:00Z');
  const clock = (): number => now;
  const processor = (onRound?: (r: ProcessorRound) => void): Processor =>
    new Processor(store, {
      delayMs: 1200,
      workers: 1,
      logger: createLogger('accrual', 'silent'),
      metrics: createAccrualMetrics(new Registry()),
      clock,
      onRound,
    });

  before(async () => {
    fresh = await freshDatabase('acc_clock');
    db = await openDatabase({ url: fresh.url, embeddedDir: 'unused', poolSize: 4, applicationName: 'test' });
    await migrate(db, SCHEMA, migrations);
    store = new AccrualStore(db);
    assert.equal(await store.insertRule('Progress', decimal('10'), 'pt'), true);
  });
  after(async () => {
    await db?.close();
    await fresh?.drop();
  });

  test('REGISTERED for the first half of PROCESSING_DELAY, PROCESSING for the second, then PROCESSED', async () => {
    const p = processor();
    const n = orderNumber();
    assert.equal(await store.insertOrder(n, goods, 600, false, new Date(now)), true);
    const t0 = now;
    const at = async (ms: number): Promise<unknown> => {
      now = t0 + ms;
      await p.step();
      return store.findOrder(n);
    };
    assert.deepEqual(await at(0), { status: 'REGISTERED', accrual: null });
    assert.deepEqual(await at(599), { status: 'REGISTERED', accrual: null });
    assert.equal(await store.msUntilNextDue(new Date(now)), 1);
    assert.deepEqual(await at(600), { status: 'PROCESSING', accrual: null });
    assert.equal(await store.msUntilNextDue(new Date(now)), 600);
    assert.deepEqual(await at(1199), { status: 'PROCESSING', accrual: null });
    assert.deepEqual(await at(1200), { status: 'PROCESSED', accrual: 1000 });
    assert.equal(await store.msUntilNextDue(new Date(now)), null);
  });

  test('the loop reports every pass: woken by a registration, idle with the time until the next due order', async () => {
    const rounds: ProcessorRound[] = [];
    const waiters: { until: (r: ProcessorRound) => boolean; resolve: (r: ProcessorRound) => void }[] = [];
    const next = (until: (r: ProcessorRound) => boolean): Promise<ProcessorRound> =>
      new Promise((resolve) => {
        waiters.push({ until, resolve });
      });
    const p = processor((r) => {
      rounds.push(r);
      for (const w of [...waiters])
        if (w.until(r)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(r);
        }
    });
    p.start();
    try {
      const n = orderNumber();
      const idle = next((r) => r.nextDueInMs === 600);
      assert.equal(await store.insertOrder(n, goods, 600, false, new Date(now)), true);
      p.wake();
      await idle;
      const started = next((r) => r.started === 1);
      now += 600;
      p.wake();
      assert.deepEqual(await started, { started: 1, finished: 0 });
      const finished = next((r) => r.finished === 1);
      now += 600;
      p.wake();
      assert.deepEqual(await finished, { started: 0, finished: 1 });
      assert.deepEqual(await store.findOrder(n), { status: 'PROCESSED', accrual: 1000 });
      assert.ok(
        rounds.every((r) => r.started + r.finished <= 1),
        'one order, one start and one finish',
      );
    } finally {
      await p.stop();
    }
  });
});
