/**
 * Ledger throughput and latency on real PostgreSQL: two orchestrator instances on one ledger
 * database and 2 shard processes (bin/*, so `npm run build` first), each service on its own
 * fresh database; same-shard and cross-shard transfers fired at a fixed concurrency, first at
 * one instance (the other idles), then with the clients split over both. Latency is 202 → final status, measured
 * in the orchestrator's log (finished_at − initiated_at). Also prints the CPU each process
 * spent per transfer and the PostgreSQL ceiling of the day (pgbench).
 * Run: node --import tsx bench/ledger.ts
 * Env: BENCH_TRANSFERS (per scenario, default 6000), BENCH_CONCURRENCY (default 64),
 * BENCH_COORDINATOR_CONCURRENCY (default: the orchestrator's own), BENCH_PGBENCH=0 (skip the
 * ceiling), BENCH_NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` for the services),
 * BENCH_DATABASE_URL (admin URL of the PostgreSQL server).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import postgres from 'postgres';
import { Pool } from 'undici';
import { createDatabase, dropDatabase, pgbenchCeiling, printTable, startServer, type Server } from './support.js';

const TRANSFERS = Number(process.env.BENCH_TRANSFERS ?? 6_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const WALLETS_PER_SHARD = 200;
const SHARD_TOKEN = 'bench-shard-token';
const ADMIN_TOKEN = 'bench-admin-token';
/** No pinning: three services and PostgreSQL share every core. */
const ALL_CPUS = `0-${availableParallelism() - 1}`;

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => res(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** User + system CPU time of a process so far, ms (from /proc; 0 once it is gone). */
function cpuMs(pid: number | undefined): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (100/s)
}

async function main(): Promise<void> {
  const ceiling = process.env.BENCH_PGBENCH === '0' ? null : pgbenchCeiling();
  const suffix = randomBytes(4).toString('hex');
  const names = ['ledger', 'shard0', 'shard1'].map((n) => `gm_bench_${n}_${suffix}`);
  const [ledgerUrl, shard0Url, shard1Url] = (await Promise.all(names.map((n) => createDatabase(n)))) as [string, string, string];
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const servers: Server[] = [];
  // node refuses --cpu-prof and its like in NODE_OPTIONS: they are given to node itself
  const nodeArgs = (process.env.BENCH_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
  try {
    for (const [i, url] of [shard0Url, shard1Url].entries()) {
      servers.push(await startServer('shard', ports[i + 1] as number, { DATABASE_URI: url, SHARD_TOKEN }, ALL_CPUS, nodeArgs));
    }
    const orchestratorEnv = {
      DATABASE_URI: ledgerUrl,
      SHARD_ADDRESS_1: `127.0.0.1:${ports[1]}`,
      SHARD_ADDRESS_2: `127.0.0.1:${ports[2]}`,
      SHARD_TOKEN,
      ADMIN_TOKEN,
      JWT_SECRET: 'bench',
      ...(process.env.BENCH_COORDINATOR_CONCURRENCY ? { COORDINATOR_CONCURRENCY: process.env.BENCH_COORDINATOR_CONCURRENCY } : ({} as Record<string, string>)),
    };
    const orchestrator = await startServer('orchestrator', ports[0] as number, orchestratorEnv, ALL_CPUS, nodeArgs);
    servers.unshift(orchestrator);
    // the second instance on the same ledger database (started after the first has migrated it)
    servers.push(await startServer('orchestrator', ports[3] as number, orchestratorEnv, ALL_CPUS, nodeArgs));
    const base = orchestrator.url;
    const pools = [new Pool(base, { connections: CONCURRENCY }), new Pool(servers[3]?.url ?? '', { connections: CONCURRENCY })];
    const request = async (method: string, path: string, body: object | undefined, token: string, instance = 0) => {
      const res = await (pools[instance] as Pool).request({
        method: method as 'POST',
        path,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.body.text();
      return { status: res.statusCode, text, headers: res.headers };
    };
    const reg = await fetch(`${base}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'bench', password: 'bench-password' }),
    });
    const token = (reg.headers.get('authorization') ?? '').replace(/^Bearer /, '');
    const even = Array.from({ length: WALLETS_PER_SHARD }, (_, i) => String(10_000 + 2 * i));
    const odd = even.map((id) => String(Number(id) + 1));
    for (const id of [...even, ...odd]) {
      const r = await request('POST', '/api/user/create_wallet', { wallet_id: id }, token);
      if (r.status !== 202) throw new Error(`create_wallet ${r.status} ${r.text}`);
      await request('POST', '/api/admin/deposit', { wallet_id: id, amount: 1_000_000 }, ADMIN_TOKEN);
    }
    const sql = postgres(ledgerUrl, { max: 2, onnotice: () => undefined });
    // the services' PostgreSQL server processes (their pools stay connected for the whole run)
    const postgresBackends = async () =>
      (
        await sql.unsafe<Array<{ pid: number; datname: string }>>(
          `select pid, datname from pg_stat_activity where datname = any($1::text[]) and pid <> pg_backend_pid()`,
          [names],
        )
      ).map((r) => ({
        pid: Number(r.pid),
        ledger: r.datname === names[0],
      }));
    const backendCpu = (backends: Array<{ pid: number; ledger: boolean }>) => [
      backends.reduce((sum, b) => sum + cpuMs(b.pid), 0),
      backends.reduce((sum, b) => sum + (b.ledger ? cpuMs(b.pid) : 0), 0),
    ];
    // transactions committed in the ledger database (the log writes; their batches get smaller
    // when the same load is split over more instances)
    const ledgerCommits = async () =>
      Number((await sql.unsafe('select xact_commit as n from pg_stat_database where datname = $1', [names[0] as string]))[0]?.n);
    const waitAllFinal = async () => {
      for (;;) {
        const n = Number((await sql.unsafe(`select count(*) as n from ledger.transactions where status in ('PENDING','PROCESSING')`))[0]?.n);
        if (n === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitAllFinal();

    const scenario = async (name: string, pair: (i: number) => [string, string], instances = 1) => {
      const startSeq = Number((await sql.unsafe('select coalesce(max(seq), 0) as s from ledger.transactions'))[0]?.s);
      const backends = await postgresBackends();
      const commits0 = await ledgerCommits();
      const cpu0 = [...servers.map((s) => cpuMs(s.proc.pid)), ...backendCpu(backends)];
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, client) => {
          while (next < TRANSFERS) {
            const i = next++;
            const [from, to] = pair(i);
            const r = await request('POST', '/api/user/do_transaction', { from_id: from, to_id: to, amount: '1.25' }, token, client % instances);
            if (r.status !== 202) throw new Error(`do_transaction ${r.status} ${r.text}`);
          }
        }),
      );
      const accepted = performance.now() - t0;
      await waitAllFinal();
      const total = performance.now() - t0;
      const commits = (await ledgerCommits()) - commits0;
      const cpu1 = [...servers.map((s) => cpuMs(s.proc.pid)), ...backendCpu(backends)];
      const cpu = cpu1.map((c, i) => (c - (cpu0[i] as number)) / TRANSFERS);
      const rows = await sql.unsafe<Array<{ ms: number; status: string }>>(
        `select extract(epoch from (finished_at - initiated_at)) * 1000 as ms, status from ledger.transactions where seq > $1 and kind = 'transfer'`,
        [startSeq],
      );
      const lat = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
      const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
      const ok = rows.filter((r) => r.status === 'SUCCESSFUL').length;
      return {
        scenario: name,
        instances,
        transfers: rows.length,
        successful: ok,
        'accepted/s': Math.round((TRANSFERS / accepted) * 1000),
        'final/s': Math.round((TRANSFERS / total) * 1000),
        'p50 ms': lat.length ? Number(q(0.5).toFixed(1)) : NaN,
        'p99 ms': lat.length ? Number(q(0.99).toFixed(1)) : NaN,
        'CPU ms/transfer orch': Number(((cpu[0] as number) + (cpu[3] as number)).toFixed(2)),
        shard0: Number((cpu[1] as number).toFixed(2)),
        shard1: Number((cpu[2] as number).toFixed(2)),
        'PG backends': Number((cpu[4] as number).toFixed(2)),
        'of which ledger DB': Number((cpu[5] as number).toFixed(2)),
        'ledger commits/transfer': Number((commits / TRANSFERS).toFixed(3)),
      };
    };
    const rnd = (xs: string[]) => xs[Math.floor(Math.random() * xs.length)] as string;
    const samePair = (i: number): [string, string] => {
      const side = i % 2 === 0 ? even : odd;
      const from = rnd(side);
      let to = rnd(side);
      while (to === from) to = rnd(side);
      return [from, to];
    };
    const crossPair = (i: number): [string, string] => (i % 2 === 0 ? [rnd(even), rnd(odd)] : [rnd(odd), rnd(even)]);
    // a short warm-up so JIT and connection pools are hot for both scenarios
    await scenario('warm-up', samePair, 2);
    // one and two instances side by side, so drift of the day (load, table growth) hits both alike
    const sameOne = await scenario('same-shard', samePair);
    const sameTwo = await scenario('same-shard', samePair, 2);
    const crossOne = await scenario('cross-shard', crossPair);
    const crossTwo = await scenario('cross-shard', crossPair, 2);
    const results = [sameOne, crossOne, sameTwo, crossTwo];
    await sql.end();
    await Promise.all(pools.map((p) => p.close()));
    printTable(`Ledger: ${TRANSFERS} transfers per scenario, ${CONCURRENCY} clients, 2 shards, 1 or 2 orchestrator instances, PostgreSQL`, results);
    const [same, cross, same2, cross2] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0], (typeof results)[0]];
    const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)} %`;
    console.log(`\ncross-shard / same-shard throughput: ${pct(cross['final/s'], same['final/s'])} (targets: same-shard ≥ 1500/s, ratio ≥ 50 %)`);
    console.log(
      `two instances / one instance: same-shard ${pct(same2['final/s'], same['final/s'])}, cross-shard ${pct(cross2['final/s'], cross['final/s'])} (target: not slower)`,
    );
    if (ceiling)
      printTable('PostgreSQL ceiling (pgbench, 8 clients, 10 s)', [
        { 'select-only (-S) tps': ceiling.selectOnly, 'simple update (-N) tps': ceiling.simpleUpdate },
      ]);
    console.log(`\npeak RSS MB: ${servers.map((s, i) => `${['orchestrator', 'shard0', 'shard1', 'orchestrator 2'][i]} ${s.peakRssMb()}`).join(', ')}`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    for (const n of names) await dropDatabase(n).catch(() => undefined);
  }
}

await main();
