/**
 * Loyalty service throughput on real PostgreSQL: one read and one write scenario per endpoint,
 * 32 connections, BENCH_DURATION seconds each (default 15), server pinned to CPU 0 and the load
 * generator to CPU 1. Prints req/s, p50, p99 and the server's peak RSS, plus the pgbench ceiling.
 */
import { withLuhnCheckDigit } from '../src/kernel/luhn.js';
import { DURATION, createDatabase, dropDatabase, load, pgbenchCeiling, printTable, startServer, type LoadResult } from './support.js';

const DB = 'gm_bench_loyalty';
const targets: Record<string, string> = {
  'GET /api/user/balance': '≥ 16000 req/s, p99 ≤ 10 ms',
  'GET /api/user/orders (20 orders)': '≥ 10500 req/s',
  'POST /api/user/orders (fresh numbers)': '≥ 4000 req/s',
  'POST /api/user/login (argon2id)': '≥ 100 req/s',
};

async function main(): Promise<void> {
  const url = await createDatabase(DB);
  const server = await startServer('gophermart', 18480, { DATABASE_URI: url, DATABASE_POOL_SIZE: '16', ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9' });
  const results: LoadResult[] = [];
  try {
    const json = { 'content-type': 'application/json' };
    const reg = await fetch(`${server.url}/api/user/register`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ login: 'bench', password: 'bench-password' }),
    });
    const token = (reg.headers.get('authorization') ?? '').replace('Bearer ', '');
    const auth = { authorization: `Bearer ${token}` };
    for (let i = 0; i < 20; i++) {
      await fetch(`${server.url}/api/user/orders`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'text/plain' },
        body: withLuhnCheckDigit(`9${String(i).padStart(10, '0')}`),
      });
    }
    const uploader = await fetch(`${server.url}/api/user/register`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ login: 'uploader', password: 'uploader-password' }),
    });
    const uploadAuth = { authorization: uploader.headers.get('authorization') ?? '' };

    results.push(await load('GET /api/user/balance', { url: `${server.url}/api/user/balance`, headers: auth }));
    results.push(await load('GET /api/user/orders (20 orders)', { url: `${server.url}/api/user/orders`, headers: auth }));
    let seq = 0;
    const run = Date.now() % 1_000_000;
    results.push(
      await load('POST /api/user/orders (fresh numbers)', {
        url: `${server.url}/api/user/orders`,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => ({
              ...req,
              headers: { ...uploadAuth, 'content-type': 'text/plain' },
              body: withLuhnCheckDigit(`7${run}${String(seq++).padStart(9, '0')}`),
            }),
          },
        ],
      }),
    );
    results.push(
      await load('POST /api/user/login (argon2id)', {
        url: `${server.url}/api/user/login`,
        method: 'POST',
        headers: json,
        body: JSON.stringify({ login: 'bench', password: 'bench-password' }),
      }),
    );
    const rss = server.peakRssMb();
    const ceiling = pgbenchCeiling();
    printTable(
      `Loyalty service on PostgreSQL (${DURATION}s per scenario, 32 connections)`,
      results.map((r) => ({
        scenario: r.scenario,
        'req/s': r.rps,
        'p50 ms': r.p50,
        'p99 ms': r.p99,
        errors: r.errors,
        non2xx: r.non2xx,
        target: targets[r.scenario] ?? '',
      })),
    );
    printTable('Process and database ceiling', [
      { measure: 'server peak RSS (MB)', value: rss, target: '≤ 90' },
      { measure: 'pgbench -S (tps, 8 clients, 10 s)', value: ceiling.selectOnly, target: '' },
      { measure: 'pgbench -N (tps, 8 clients, 10 s)', value: ceiling.simpleUpdate, target: '' },
    ]);
  } finally {
    await server.stop();
    await dropDatabase(DB);
  }
}

await main();
