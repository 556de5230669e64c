/**
 * Ledger throughput and latency on real PostgreSQL: an orchestrator and 2 shard processes,
 * each on its own fresh database; same-shard and cross-shard transfers fired at a fixed
 * concurrency. Latency is 202 → final status, measured in the orchestrator's log
 * (finished_at − initiated_at). Run: node --import tsx bench/ledger.ts
 * Env: BENCH_TRANSFERS (per scenario, default 6000), BENCH_CONCURRENCY (default 64),
 * TEST_DATABASE_URL (admin URL of the PostgreSQL server).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { Pool } from 'undici';

const ROOT = resolve(import.meta.dirname, '..');
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TRANSFERS = Number(process.env.BENCH_TRANSFERS ?? 6_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const WALLETS_PER_SHARD = 200;
const SHARD_TOKEN = 'bench-shard-token';
const ADMIN_TOKEN = 'bench-admin-token';

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

async function createDb(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ledger_bench_${randomBytes(4).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

async function startService(bin: string, env: Record<string, string>): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'src/bin', `${bin}.ts`)], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://${env.RUN_ADDRESS}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return proc;
    } catch {
      // starting
    }
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`${bin} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const dbs = await Promise.all([createDb(), createDb(), createDb()]);
  const [ledgerDb, shard0Db, shard1Db] = dbs as [Awaited<ReturnType<typeof createDb>>, ...Array<Awaited<ReturnType<typeof createDb>>>];
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const procs: ChildProcess[] = [];
  try {
    for (const [i, db] of [shard0Db, shard1Db].entries()) {
      procs.push(await startService('shard', { RUN_ADDRESS: `127.0.0.1:${ports[i + 1]}`, DATABASE_URI: db?.url ?? '', SHARD_TOKEN, DATABASE_POOL_SIZE: '16' }));
    }
    procs.push(
      await startService('orchestrator', {
        RUN_ADDRESS: `127.0.0.1:${ports[0]}`,
        DATABASE_URI: ledgerDb.url,
        SHARD_ADDRESS_1: `127.0.0.1:${ports[1]}`,
        SHARD_ADDRESS_2: `127.0.0.1:${ports[2]}`,
        SHARD_TOKEN,
        ADMIN_TOKEN,
        JWT_SECRET: 'bench',
        DATABASE_POOL_SIZE: '16',
        COORDINATOR_CONCURRENCY: '128',
      }),
    );
    const base = `http://127.0.0.1:${ports[0]}`;
    const pool = new Pool(base, { connections: CONCURRENCY });
    const request = async (method: string, path: string, body: object | undefined, token: string) => {
      const res = await pool.request({ method: method as 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
      const text = await res.body.text();
      return { status: res.statusCode, text, headers: res.headers };
    };
    const reg = await fetch(`${base}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'bench', password: 'bench' }) });
    const token = (reg.headers.get('authorization') ?? '').replace(/^Bearer /, '');
    const even = Array.from({ length: WALLETS_PER_SHARD }, (_, i) => String(10_000 + 2 * i));
    const odd = even.map((id) => String(Number(id) + 1));
    for (const id of [...even, ...odd]) {
      const r = await request('POST', '/api/user/create_wallet', { wallet_id: id }, token);
      if (r.status !== 202) throw new Error(`create_wallet ${r.status} ${r.text}`);
      await request('POST', '/api/admin/deposit', { wallet_id: id, amount: 1_000_000 }, ADMIN_TOKEN);
    }
    const sql = postgres(ledgerDb.url, { max: 2, onnotice: () => undefined });
    const waitAllFinal = async () => {
      for (;;) {
        const n = Number((await sql.unsafe(`select count(*) as n from ledger.transactions where status in ('PENDING','PROCESSING')`))[0]?.n);
        if (n === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitAllFinal();

    const scenario = async (name: string, pair: (i: number) => [string, string]) => {
      const startSeq = Number((await sql.unsafe('select coalesce(max(seq), 0) as s from ledger.transactions'))[0]?.s);
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < TRANSFERS) {
            const i = next++;
            const [from, to] = pair(i);
            const r = await request('POST', '/api/user/do_transaction', { from_id: from, to_id: to, amount: '1.25' }, token);
            if (r.status !== 202) throw new Error(`do_transaction ${r.status} ${r.text}`);
          }
        }),
      );
      const accepted = performance.now() - t0;
      await waitAllFinal();
      const total = performance.now() - t0;
      const rows = await sql.unsafe<Array<{ ms: number; status: string }>>(
        `select extract(epoch from (finished_at - initiated_at)) * 1000 as ms, status from ledger.transactions where seq > $1 and kind = 'transfer'`,
        [startSeq],
      );
      const lat = rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
      const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
      const ok = rows.filter((r) => r.status === 'SUCCESSFUL').length;
      return { name, transfers: rows.length, successful: ok, acceptedPerS: (TRANSFERS / accepted) * 1000, finalPerS: (TRANSFERS / total) * 1000, p50: q(0.5), p99: q(0.99) };
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
    await scenario('warm-up', samePair);
    const results = [await scenario('same-shard', samePair), await scenario('cross-shard', crossPair)];
    await sql.end();
    await pool.close();
    console.log(`\nLedger bench: ${TRANSFERS} transfers per scenario, ${CONCURRENCY} clients, 2 shards, PostgreSQL\n`);
    console.log('| scenario | transfers | successful | accepted/s | final/s (202 → final, all) | p50 ms | p99 ms |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of results) {
      console.log(`| ${r.name} | ${r.transfers} | ${r.successful} | ${r.acceptedPerS.toFixed(0)} | ${r.finalPerS.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`);
    }
    const [same, cross] = results as [(typeof results)[0], (typeof results)[0]];
    console.log(`\ncross-shard / same-shard throughput: ${((cross.finalPerS / same.finalPerS) * 100).toFixed(0)} %`);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1_000));
    for (const d of dbs) await d.drop().catch(() => undefined);
  }
}

await main();
