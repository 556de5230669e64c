import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { meteredDatabase } from '../../src/kernel/db/metered.js';
import type { Database } from '../../src/kernel/db/database.js';
import { openDatabase } from '../../src/kernel/db/open.js';
import { createMetricsRegistry } from '../../src/kernel/metrics.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';

let fresh: FreshDatabase;
let raw: Database;

before(async () => {
  fresh = await freshDatabase('metered_db');
  raw = await openDatabase({ url: fresh.url, embeddedDir: 'unused', poolSize: 2 });
});

after(async () => {
  await raw?.close();
  await fresh?.drop();
});

async function gauge(registry: ReturnType<typeof createMetricsRegistry>, name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return Number((metric?.values[0] as { value: number } | undefined)?.value);
}

test('pool gauges: busy up to the pool size, the rest waiting; back to idle afterwards; errors counted', async () => {
  const registry = createMetricsRegistry('test', false);
  const db = meteredDatabase(raw, registry, 2);
  const running = [
    db.query('select pg_sleep(0.3)'),
    db.transaction(async (tx) => tx.query('select pg_sleep(0.3)')),
    db.query('select pg_sleep(0.3)'),
    db.query('select pg_sleep(0.3)'),
  ];
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(await gauge(registry, 'db_pool_size'), 2);
  assert.equal(await gauge(registry, 'db_pool_in_use'), 2);
  assert.equal(await gauge(registry, 'db_pool_waiting'), 2);
  await Promise.all(running);
  await assert.rejects(db.query('select * from no_such_table'));
  assert.equal(await gauge(registry, 'db_pool_in_use'), 0);
  assert.equal(await gauge(registry, 'db_pool_waiting'), 0);
  const text = await registry.metrics();
  assert.match(text, /db_operations_total\{kind="query",result="ok",service="test"\} 3/);
  assert.match(text, /db_operations_total\{kind="transaction",result="ok",service="test"\} 1/);
  assert.match(text, /db_operations_total\{kind="query",result="error",service="test"\} 1/);
  assert.match(text, /db_operation_duration_seconds_count\{service="test",kind="query"\} 4/);
});
