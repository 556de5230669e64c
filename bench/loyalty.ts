/**
 * Loyalty service throughput on real PostgreSQL at default settings (LOG_LEVEL=info, one line per
 * request), plus the balance read at LOG_LEVEL=warn and bin/accrual's order read. 32 connections,
 * BENCH_DURATION seconds per scenario (default 15), each server pinned to CPU 0 and the load
 * generator to CPU 1. Every figure is set against `pgbench` of the same run (`-S` for reads, `-N`
 * for the upload, run again right after it), because the machine's speed drifts between runs
 * and within one.
 */
import { withLuhnCheckDigit } from '../src/kernel/luhn.js';
import {
  DURATION,
  createDatabase,
  dropDatabase,
  load,
  openPgbench,
  pinLoadGenerator,
  type Pgbench,
  printTable,
  startServer,
  type LoadResult,
  type Server,
} from './support.js';

const DB = 'gm_bench_loyalty';
const ACCRUAL_DB = 'gm_bench_loyalty_accrual';
const json = { 'content-type': 'application/json' };

interface Scenario {
  result: LoadResult;
  /** Which pgbench figure the scenario is set against. */
  against: 'S' | 'N';
  /** Least ratio to that figure the issue asks for (0: reported only). */
  target: number;
  /** That figure measured next to this scenario, when it was (else the run's first). */
  ceiling?: number;
  p99Target?: number;
}

/** Registers a user and returns its Authorization header value. */
async function signUp(url: string, login: string): Promise<string> {
  const reply = await fetch(`${url}/api/user/register`, { method: 'POST', headers: json, body: JSON.stringify({ login, password: `${login}-password` }) });
  if (reply.status !== 200) throw new Error(`register ${login}: ${reply.status}`);
  return reply.headers.get('authorization') ?? '';
}

/** A user with 20 orders, then the read and write scenarios; returns the scenarios and the server's idle RSS. */
async function gophermartScenarios(server: Server, warnServer: Server, pgbench: Pgbench): Promise<{ scenarios: Scenario[]; idleRss: number }> {
  const reader = await signUp(server.url, 'bench');
  for (let i = 0; i < 20; i++) {
    await fetch(`${server.url}/api/user/orders`, {
      method: 'POST',
      headers: { authorization: reader, 'content-type': 'text/plain' },
      body: withLuhnCheckDigit(`9${String(i).padStart(10, '0')}`),
    });
  }
  const uploader = await signUp(server.url, 'uploader');
  const warnReader = await signUp(warnServer.url, 'bench-warn');
  const idleRss = server.rssMb();

  const scenarios: Scenario[] = [];
  const balance = await load('GET /api/user/balance', { url: `${server.url}/api/user/balance`, headers: { authorization: reader } });
  scenarios.push({ result: balance, against: 'S', target: 0.5, p99Target: 10 });
  const warn = await load('GET /api/user/balance at LOG_LEVEL=warn', { url: `${warnServer.url}/api/user/balance`, headers: { authorization: warnReader } });
  scenarios.push({ result: warn, against: 'S', target: 0 });
  const orders = await load('GET /api/user/orders (20 orders)', { url: `${server.url}/api/user/orders`, headers: { authorization: reader } });
  scenarios.push({ result: orders, against: 'S', target: 0.27 });
  let seq = 0;
  const run = Date.now() % 1_000_000;
  const upload = await load('POST /api/user/orders (fresh numbers)', {
    url: `${server.url}/api/user/orders`,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => ({
          ...req,
          headers: { authorization: uploader, 'content-type': 'text/plain' },
          body: withLuhnCheckDigit(`7${run}${String(seq++).padStart(9, '0')}`),
        }),
      },
    ],
  });
  // The upload is set against a -N run made right after it: the hour's speed moves within a
  // run too, and two minutes after the first -N one run of the same build read 0.70 and another 1.22.
  scenarios.push({ result: upload, against: 'N', target: 1, ceiling: pgbench.run('-N') });
  return { scenarios, idleRss };
}

/** bin/accrual's GET /api/orders/{number} for a processed order, rate limit off. */
async function accrualScenario(): Promise<{ result: LoadResult; peakRss: number }> {
  const url = await createDatabase(ACCRUAL_DB);
  const accrual = await startServer('accrual', 18481, {
    DATABASE_URI: url,
    DATABASE_POOL_SIZE: '16',
    RATE_LIMIT: '0',
    PROCESSING_DELAY: '0',
    LOG_LEVEL: 'info',
  });
  try {
    const number = withLuhnCheckDigit('12345678903');
    await fetch(`${accrual.url}/api/goods`, { method: 'POST', headers: json, body: JSON.stringify({ match: 'Bench', reward: 10, reward_type: '%' }) });
    await fetch(`${accrual.url}/api/orders`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ order: number, goods: [{ description: 'Bench chair', price: 1234.5 }] }),
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const reply = await fetch(`${accrual.url}/api/orders/${number}`);
      if (reply.status === 200 && ((await reply.json()) as { status?: string }).status === 'PROCESSED') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const result = await load('accrual GET /api/orders/{number}', { url: `${accrual.url}/api/orders/${number}` });
    return { result, peakRss: accrual.peakRssMb() };
  } finally {
    await accrual.stop();
    await dropDatabase(ACCRUAL_DB);
  }
}

async function main(): Promise<void> {
  const pgbench = openPgbench();
  try {
    await measure(pgbench);
  } finally {
    pgbench.drop();
  }
}

async function measure(pgbench: Pgbench): Promise<void> {
  const ceiling = pgbench.ceiling();
  pinLoadGenerator();
  const url = await createDatabase(DB);
  const env = { DATABASE_URI: url, DATABASE_POOL_SIZE: '16', ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9' };
  const server = await startServer('gophermart', 18480, { ...env, LOG_LEVEL: 'info' });
  const warnServer = await startServer('gophermart', 18482, { ...env, LOG_LEVEL: 'warn' });
  let peakRss = 0;
  let loginRss = 0;
  let idleRss = 0;
  const rows: Scenario[] = [];
  try {
    const measured = await gophermartScenarios(server, warnServer, pgbench);
    rows.push(...measured.scenarios);
    idleRss = measured.idleRss;
    peakRss = server.peakRssMb();
    await warnServer.stop();
    // after the peak above is read: each argon2 hash holds 7 MiB while it runs
    const login = await load('POST /api/user/login (argon2id)', {
      url: `${server.url}/api/user/login`,
      method: 'POST',
      headers: json,
      body: JSON.stringify({ login: 'bench', password: 'bench-password' }),
    });
    rows.push({ result: login, against: 'S', target: 0 });
    loginRss = server.peakRssMb();
  } finally {
    await server.stop();
    await warnServer.stop();
    await dropDatabase(DB);
  }
  const accrual = await accrualScenario();
  rows.push({ result: accrual.result, against: 'S', target: 0 });

  const ratio = (s: Scenario) => s.result.rps / (s.ceiling ?? (s.against === 'S' ? ceiling.selectOnly : ceiling.simpleUpdate));
  printTable(
    `Loyalty and accrual services on PostgreSQL (${DURATION}s per scenario, 32 connections, LOG_LEVEL=info unless named)`,
    rows.map((s) => {
      const met = ratio(s) >= s.target && (s.p99Target === undefined || s.result.p99 <= s.p99Target);
      return {
        scenario: s.result.scenario,
        'req/s': s.result.rps,
        ratio: `${ratio(s).toFixed(2)} × -${s.against}`,
        'p50 ms': s.result.p50,
        'p99 ms': s.result.p99,
        errors: s.result.errors,
        non2xx: s.result.non2xx,
        target: s.target > 0 ? `≥ ${s.target.toFixed(2)} × -${s.against}${s.p99Target ? `, p99 ≤ ${s.p99Target} ms` : ''}` : '',
        met: s.target > 0 ? (met ? 'yes' : 'NO') : '',
      };
    }),
  );
  printTable('Memory and database ceiling', [
    { measure: 'gophermart RSS idle, after set-up (MB)', value: idleRss, target: '≤ 70', met: idleRss <= 70 ? 'yes' : 'NO' },
    { measure: 'gophermart peak RSS, scenarios above the login (MB)', value: peakRss, target: '≤ 90', met: peakRss <= 90 ? 'yes' : 'NO' },
    { measure: 'gophermart peak RSS, login included (MB)', value: loginRss, target: '', met: '' },
    { measure: 'accrual peak RSS (MB)', value: accrual.peakRss, target: '', met: '' },
    { measure: 'pgbench -S (tps, 8 clients, 10 s)', value: ceiling.selectOnly, target: '', met: '' },
    { measure: 'pgbench -N (tps, 8 clients, 10 s)', value: ceiling.simpleUpdate, target: '', met: '' },
    ...rows
      .filter((s) => s.ceiling !== undefined)
      .map((s) => ({
        measure: `pgbench -${s.against} right after "${s.result.scenario}" (tps; its ratio's base)`,
        value: s.ceiling ?? 0,
        target: '',
        met: '',
      })),
  ]);
}

await main();
