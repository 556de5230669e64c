import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../../src/kernel/db/database.js';
import { openPostgres } from '../../src/kernel/db/postgres.js';
import { DatabaseUnavailable } from '../../src/kernel/db/unavailable.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * A network cut that closes nothing (packets dropped both ways, connections left open): no
 * driver error ever arrives, so only the guard’s stall check can tell (and the connections cut
 * stay silent afterwards, as to a host replaced by a failover). Every operation must
 * still be answered within 2 s, and the database used normally within 5 s of the network's
 * return, on fresh connections.
 */
let fresh: FreshDatabase;
let proxy: TcpProxy;
let db: Database;

before(async () => {
  fresh = await freshDatabase('gm_netcut');
  const target = new URL(fresh.url);
  proxy = await startTcpProxy(Number(target.port || 5432));
  const url = new URL(fresh.url);
  url.host = `127.0.0.1:${proxy.port}`;
  db = await openPostgres({ url: url.toString(), poolSize: 6 });
  await db.exec('create table kv (id bigint primary key, v text not null)');
  await db.query("insert into kv select g, 'v' || g from generate_series(1, 100) g");
});

after(async () => {
  await db?.close();
  await proxy?.close();
  await fresh?.drop();
});

/** Load through the proxy, `fault` for 4 s, then back: every operation answered within 2 s, normal within 5 s. */
async function throughFault(fault: () => void): Promise<void> {
  let running = true;
  let restoredAt = Number.POSITIVE_INFINITY;
  const failures: Array<{ ms: number; err: unknown }> = [];
  let okAfterRestore = 0;
  const loops = Array.from({ length: 16 }, async (_, w) => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      try {
        if (i % 4 === 0) await db.transaction(async (tx) => void (await tx.query('update kv set v = $2 where id = $1', [1 + w, `w${i}`])));
        else await db.query('select v from kv where id = $1', [1 + (i % 100)]);
        if (started > restoredAt) okAfterRestore++;
      } catch (err) {
        failures.push({ ms: performance.now() - started, err });
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  });
  let duringCut = 0;
  let recoveredMs = 0;
  try {
    await new Promise((r) => setTimeout(r, 500));
    fault();
    await new Promise((r) => setTimeout(r, 4000));
    duringCut = failures.length;
    proxy.restore();
    restoredAt = performance.now();
    const deadline = restoredAt + 5000;
    for (;;) {
      const ok = await db.query<{ n: number }>('select count(*)::int as n from kv').then(
        (rows) => rows[0]?.n === 100,
        () => false,
      );
      if (ok) break;
      assert.ok(performance.now() < deadline, 'not answering 5 s after the network came back');
      await new Promise((r) => setTimeout(r, 50));
    }
    recoveredMs = performance.now() - restoredAt;
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    running = false;
    await Promise.all(loops);
  }
  assert.ok(duringCut > 0, 'the cut was noticed');
  for (const f of failures) assert.ok(f.err instanceof DatabaseUnavailable, `a failure other than DatabaseUnavailable: ${String(f.err)}`);
  const slowest = Math.max(...failures.map((f) => f.ms));
  assert.ok(slowest < 2000, `an operation waited ${Math.round(slowest)} ms during the cut`);
  assert.ok(okAfterRestore > 0, 'the load ran again after the cut');
  console.log(JSON.stringify({ slowestDuringCutMs: Math.round(slowest), failures: failures.length, recoveredMs: Math.round(recoveredMs), okAfterRestore }));
}

test('a network cut: every operation answered within 2 s (DatabaseUnavailable), normal again within 5 s of its end', { timeout: 60_000 }, () =>
  throughFault(() => proxy.blackhole()),
);

// the server still completes TCP handshakes, so it looks reachable: it is waited for only as long
// as the 2 s budget allows
test('a frozen server (accepts connections, answers nothing): every operation answered within 2 s, normal again within 5 s', { timeout: 60_000 }, () =>
  throughFault(() => proxy.freeze()),
);
