import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../../src/kernel/db/database.js';
import { openPostgres } from '../../src/kernel/db/postgres.js';
import { DatabaseUnavailable } from '../../src/kernel/db/unavailable.js';
import { createPgCluster, type PgCluster } from '../support/pg-cluster.js';
import { msUntil } from '../support/outage.js';

let cluster: PgCluster;
let db: Database;
const events: string[] = [];

before(async () => {
  cluster = await createPgCluster();
  await cluster.start();
  const url = await cluster.createDatabase('outage');
  db = await openPostgres({
    url,
    poolSize: 6,
    logger: {
      warn: (_o: unknown, msg?: string) => void events.push(`warn ${msg}`),
      info: (_o: unknown, msg?: string) => void events.push(`info ${msg}`),
    } as never,
  });
  await db.exec('create table kv (id bigint primary key, v text not null)');
  await db.query("insert into kv select g, 'v' || g from generate_series(1, 100) g");
});

after(async () => {
  await db?.close();
  await cluster?.destroy();
});

/** Reads and transactions in a loop until stopped; records each one's latency and outcome. */
function load(workers: number): { stop(): Promise<{ ok: number; unavailable: number; other: unknown[]; slowestFailureMs: number }> } {
  let running = true;
  let ok = 0;
  let unavailable = 0;
  let slowestFailureMs = 0;
  const other: unknown[] = [];
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      try {
        if (i % 5 === 0) {
          await db.transaction(async (tx) => {
            await tx.query('select v from kv where id = $1 for update', [1 + (w % 100)]);
            await tx.query('update kv set v = $2 where id = $1', [1 + (w % 100), `w${w}i${i}`]);
          });
        } else await db.query('select v from kv where id = $1', [1 + (i % 100)]);
        ok++;
      } catch (err) {
        slowestFailureMs = Math.max(slowestFailureMs, performance.now() - started);
        if (err instanceof DatabaseUnavailable) unavailable++;
        else other.push(err);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { ok, unavailable, other, slowestFailureMs };
    },
  };
}

test('a long statement on a live database is not cut short by the outage guard', { timeout: 30_000 }, async () => {
  const started = performance.now();
  const [slow, inTransaction] = await Promise.all([
    db.query<{ done: boolean }>('select pg_sleep(2.5) is not null as done'),
    db.transaction(async (tx) => (await tx.query<{ done: boolean }>('select pg_sleep(1.5) is not null as done'))[0]?.done),
  ]);
  assert.equal(slow[0]?.done, true);
  assert.equal(inTransaction, true);
  assert.ok(performance.now() - started >= 2500);
  assert.deepEqual(events, [], 'no outage was reported');
});

for (const mode of ['fast', 'immediate'] as const) {
  test(`PostgreSQL stopped (${mode}) under load: every operation fails fast with DatabaseUnavailable, then works again`, { timeout: 60_000 }, async () => {
    const running = load(24);
    await msUntil('load running', 5000, async () => (await db.query('select 1 as one')).length === 1);
    await new Promise((r) => setTimeout(r, 300));
    await cluster.stop(mode);
    // known down: answered at once, without a connection attempt per call
    await msUntil('known down', 2000, async () => {
      await db.query('select 1').then(
        () => assert.fail('answered while stopped'),
        (err: unknown) => assert.ok(err instanceof DatabaseUnavailable),
      );
      return true;
    });
    const burst = performance.now();
    const answers = await Promise.allSettled(Array.from({ length: 500 }, () => db.query('select 1')));
    const burstMs = performance.now() - burst;
    assert.ok(
      answers.every((a) => a.status === 'rejected' && a.reason instanceof DatabaseUnavailable),
      'every call of the burst is DatabaseUnavailable',
    );
    assert.ok(burstMs < 200, `a burst of 500 calls while known down took ${burstMs} ms`);
    await new Promise((r) => setTimeout(r, 1500));
    await cluster.start();
    const recoveryMs = await msUntil('answering again', 5000, async () => (await db.query<{ n: number }>('select count(*)::int as n from kv'))[0]?.n === 100);
    const result = await running.stop();
    assert.deepEqual(result.other, [], 'no failure other than DatabaseUnavailable');
    assert.ok(result.unavailable > 0, 'the load saw the outage');
    assert.ok(result.slowestFailureMs < 2000, `slowest failure took ${result.slowestFailureMs} ms`);
    // a transaction works again after the return
    await db.transaction(async (tx) => {
      await tx.query('update kv set v = $1 where id = 1', ['after']);
    });
    assert.equal((await db.query<{ v: string }>('select v from kv where id = 1'))[0]?.v, 'after');
    console.log(
      JSON.stringify({ mode, recoveryMs: Math.round(recoveryMs), ...result, slowestFailureMs: Math.round(result.slowestFailureMs), other: undefined }),
    );
  });
}

test('the outage is logged once when it starts and once when it ends', () => {
  assert.deepEqual(events, [
    'warn database unavailable: answering 503 until it is back',
    'info database available again',
    'warn database unavailable: answering 503 until it is back',
    'info database available again',
  ]);
});
