import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { call } from '../support/http.js';
import { ANSWER_WITHIN_MS, RECOVER_WITHIN_MS, UNAVAILABLE_BODY, msUntil } from '../support/outage.js';
import { createPgCluster, type PgCluster } from '../support/pg-cluster.js';
import { freePort, ROOT, startBin, waitForHealthy } from '../support/process.js';

// SPEC: while PostgreSQL is unreachable a process never exits because of it. That includes one
// started during the outage: it answers as a running service does then, and starts for real
// once the database is back.

/** Deadline for the service under load to take the address over once PostgreSQL is back. */
const HAND_OVER_WITHIN_MS = 30_000;

let cluster: PgCluster;
let gophermartUrl: string;
let accrualUrl: string;
let shardUrl: string;

before(async () => {
  cluster = await createPgCluster();
  await cluster.start();
  gophermartUrl = await cluster.createDatabase('start_gm');
  accrualUrl = await cluster.createDatabase('start_acc');
  shardUrl = await cluster.createDatabase('start_shard');
  await cluster.stop('fast');
});

after(async () => {
  await cluster?.destroy();
});

test('started while PostgreSQL is down: /healthz 200, the rest 503 within 2 s; normal within 5 s of its return', { timeout: 90_000 }, async () => {
  const gm = await startBin('gophermart', { DATABASE_URI: gophermartUrl, ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:1' });
  const acc = await startBin('accrual', { DATABASE_URI: accrualUrl, RATE_LIMIT: '0' });
  try {
    for (const svc of [gm, acc]) {
      assert.equal((await call(svc.url, 'GET', '/healthz')).status, 200);
      const ready = await call(svc.url, 'GET', '/readyz');
      assert.deepEqual([ready.status, ready.text], [503, UNAVAILABLE_BODY]);
    }
    const started = performance.now();
    const register = await call(gm.url, 'POST', '/api/user/register', { body: { login: 'early', password: 'early-password' } });
    assert.deepEqual([register.status, register.text], [503, UNAVAILABLE_BODY]);
    assert.ok(performance.now() - started < ANSWER_WITHIN_MS);
    const read = await call(acc.url, 'GET', '/api/orders/12345678903');
    assert.deepEqual([read.status, read.text], [503, UNAVAILABLE_BODY]);
    assert.equal(gm.proc.exitCode, null, 'still running');

    await cluster.start();
    await msUntil(
      'gophermart registers a user',
      RECOVER_WITHIN_MS,
      async () => (await call(gm.url, 'POST', '/api/user/register', { body: { login: 'late', password: 'late-password' } })).status === 200,
    );
    await msUntil('accrual answers', RECOVER_WITHIN_MS, async () => (await call(acc.url, 'GET', '/api/orders/12345678903')).status === 204);
    assert.equal((await call(gm.url, 'GET', '/readyz')).status, 200);
  } finally {
    assert.equal(await gm.stop('SIGTERM'), 0);
    assert.equal(await acc.stop('SIGTERM'), 0);
  }
  assert.match(gm.stdout(), /PostgreSQL unreachable at start-up/);
});

test('back under load at start-up: the service takes the address over, no connection refused or reset', { timeout: 90_000 }, async () => {
  await cluster.stop('fast');
  const gm = await startBin('gophermart', { DATABASE_URI: gophermartUrl, ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:1' });
  const failures: string[] = [];
  let normal = 0;
  let loading = true;
  // every answer of the stand-in closes its connection, so each of its requests opens a new one:
  // the hand-over to the real server is crossed by connections at every stage
  const client = async (path: string): Promise<void> => {
    while (loading) {
      try {
        const res = await fetch(gm.url + path);
        await res.arrayBuffer();
        if (path === '/readyz' && res.status === 200) normal += 1;
      } catch (err) {
        failures.push(`${path}: ${String((err as Error).cause ?? err)}`);
      }
    }
  };
  try {
    const load = Array.from({ length: 16 }, (_, i) => client(i % 2 ? '/healthz' : '/readyz'));
    await cluster.start();
    // the load goes on until the real server has answered a good many requests of its own. The
    // time that takes is not what this test is about (the test above holds the 5 s): on a
    // loaded machine 16 busy clients slow the start itself, so the deadline is generous
    await msUntil('gophermart ready under load', HAND_OVER_WITHIN_MS, async () => normal >= 50).catch((err: Error) => {
      throw new Error(`${err.message}: ${normal} ready answers, ${failures.length} requests unanswered`);
    });
    loading = false;
    await Promise.all(load);
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} requests got no answer`);
  } finally {
    loading = false;
    assert.equal(await gm.stop('SIGTERM'), 0);
  }
});

test('stopped while still waiting for PostgreSQL: SIGTERM exits 0 at once', { timeout: 60_000 }, async () => {
  await cluster.stop('fast');
  const gm = await startBin('gophermart', { DATABASE_URI: gophermartUrl, ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:1' });
  assert.equal((await call(gm.url, 'GET', '/readyz')).status, 503);
  const asked = performance.now();
  assert.equal(await gm.stop('SIGTERM'), 0);
  assert.ok(performance.now() - asked < 2_000);
});

test('PostgreSQL gone after the migrations, in a start-up step of the service itself: it waits, then starts once it is back', { timeout: 90_000 }, async () => {
  await cluster.start();
  // the shard installs its functions under this advisory lock right after its migrations: held
  // here, it keeps the shard inside that step until the stop below ends this session
  const holder = postgres(shardUrl, { max: 1, onnotice: () => undefined });
  await holder`select pg_advisory_lock(hashtext(${'functions:shard'})::bigint)`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const shard = spawn(resolve(ROOT, 'bin', 'shard'), [], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', RUN_ADDRESS: `127.0.0.1:${port}`, DATABASE_URI: shardUrl, SHARD_TOKEN: 'start-outage-token' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  shard.stdout.on('data', (d: Buffer) => (out += d.toString()));
  shard.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => shard.once('exit', (code) => res(code)));
  try {
    await msUntil('the shard waits for the functions lock', 30_000, async () => {
      const [row] = await holder<{ n: number }[]>`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`;
      return (row?.n ?? 0) > 0;
    });
    await cluster.stop('fast');
    await holder.end({ timeout: 0 }).catch(() => undefined);
    // it exited 2 here ("cannot start: ... CONNECTION_CLOSED") before start-up steps waited out an outage
    await msUntil('the shard says it waits for PostgreSQL', 10_000, async () => {
      assert.equal(shard.exitCode, null, `the shard exited:\n${out}`);
      return /PostgreSQL went away during start-up/.test(out);
    });
    // meanwhile its address is answered as during any outage, not refused
    assert.equal((await call(url, 'GET', '/healthz')).status, 200);
    const ready = await call(url, 'GET', '/readyz');
    assert.equal(ready.status, 503, ready.text);
    assert.deepEqual(ready.json, { error: 'database unavailable' });
    await cluster.start();
    await waitForHealthy(url, RECOVER_WITHIN_MS, shard, () => out);
    await msUntil('shard ready', RECOVER_WITHIN_MS, async () => (await call(url, 'GET', '/readyz')).status === 200);
  } finally {
    await holder.end({ timeout: 0 }).catch(() => undefined);
    if (shard.exitCode === null) shard.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});
