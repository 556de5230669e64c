/**
 * Drain benchmark of the accrual poller (issue 4): N orders registered in the real bin/accrual,
 * uploaded to the real bin/gophermart; how long until every one is PROCESSED and credited, how
 * many 429s, how many double credits. Runs with RATE_LIMIT=6000 (the target: ≥ 95 orders/s, at
 * most one 429 per minute window after the first) and with the limit off (where is the limit?).
 *
 * Then the member's wait (issue 13): orders uploaded at a steady rate, each finished by the
 * accrual service PROCESSING_DELAY after it learns of it — 30 % learn of theirs only 5 s after
 * the upload — and the time from upload, and from the accrual service finishing, to the credit,
 * as p50/p99, with the budget ample (RATE_LIMIT far above the order rate) and scarce (below it).
 *
 *   node --import tsx bench/drain.ts   (DRAIN_ORDERS=10000; DRAIN_SCENARIOS=6000:live,0:live,0:preload or none;
 *                                       DRAIN_LATENCY=6000:5:20,120:5:10 = RATE_LIMIT:orders per second:seconds, or none)
 */
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { withLuhnCheckDigit } from '../src/kernel/luhn.js';
import { call, signUp } from '../test/support/http.js';
import { freshDatabase } from '../test/support/postgres.js';
import { startBin, type ServiceProcess } from '../test/support/process.js';

const ORDERS = Number(process.env.DRAIN_ORDERS ?? 10_000);
/**
 * Scenarios `limit:mode`. live: orders are uploaded to the polling service and the clock runs from
 * the first upload (the measurement). preload: orders are uploaded through an instance
 * with its poller off, then a polling instance starts and the clock runs from its start — the
 * poller's own throughput, without the upload path competing for the two cores.
 */
const scenarioList = process.env.DRAIN_SCENARIOS ?? '6000:live,0:live,0:preload';
const SCENARIOS = (scenarioList === 'none' ? [] : scenarioList.split(',')).map((s) => {
  const [limit, mode] = s.split(':');
  return { limit: Number(limit), mode: mode === 'preload' ? ('preload' as const) : ('live' as const) };
});
const CLIENTS = 32;
const TIMEOUT_MS = Number(process.env.DRAIN_TIMEOUT_MS ?? 600_000);

/** Runs `fn` over `items` with `width` in flight. */
async function pool<T>(items: readonly T[], width: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function metric(text: string, pattern: RegExp): number {
  return Number(pattern.exec(text)?.[1] ?? 0);
}

interface Result {
  limit: number;
  mode: 'live' | 'preload';
  seconds: number;
  ordersPerSecond: number;
  requests: number;
  rateLimited: number;
  limitedAt: number[];
  doubleCredits: number;
  wrongAccruals: number;
  cpu: { gophermart: number; accrual: number; postgres: number };
}

async function postgresCpu(sql: postgres.Sql, dbName: string): Promise<number> {
  const rows = await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${dbName}`;
  return rows.reduce((s, r) => s + cpuSeconds(r.pid), 0);
}

async function drain(limit: number, mode: 'live' | 'preload'): Promise<Result> {
  const db = await freshDatabase('gm_drain');
  const dbName = new URL(db.url).pathname.slice(1);
  let accrual: ServiceProcess | undefined;
  let gm: ServiceProcess | undefined;
  const sql = postgres(db.url, { max: 2, onnotice: () => undefined });
  try {
    accrual = await startBin('accrual', { DATABASE_URI: db.url, RATE_LIMIT: String(limit), PROCESSING_DELAY: '0', LOG_LEVEL: 'warn' });
    // DRAIN_GOPHERMART_ENV='{"POLL_CONCURRENCY":"32"}' tries other poller settings.
    const extra = JSON.parse(process.env.DRAIN_GOPHERMART_ENV ?? '{}') as Record<string, string>;
    const gmEnv = { DATABASE_URI: db.url, ACCRUAL_SYSTEM_ADDRESS: accrual.url, LOG_LEVEL: 'warn', ...extra };
    gm = await startBin('gophermart', mode === 'preload' ? { ...gmEnv, POLL_CONCURRENCY: '0' } : gmEnv);

    const rule = await call(accrual.url, 'POST', '/api/goods', { body: { match: 'Bork', reward: 10, reward_type: '%' } });
    if (rule.status !== 200) throw new Error(`POST /api/goods: ${rule.status} ${rule.text}`);
    const numbers = Array.from({ length: ORDERS }, (_, i) => withLuhnCheckDigit(`7${String(Date.now() % 1e6).padStart(6, '0')}${String(i).padStart(8, '0')}`));
    // price 100.00 … 149.00 → accrual 10.00 … 14.90
    const expected = (i: number): number => (100 + (i % 50)) * 10;
    const tr = Date.now();
    await pool(numbers, CLIENTS, async (n, i) => {
      const r = await call(accrual!.url, 'POST', '/api/orders', { body: { order: n, goods: [{ description: 'Чайник Bork', price: 100 + (i % 50) }] } });
      if (r.status !== 202) throw new Error(`POST /api/orders: ${r.status} ${r.text}`);
    });
    console.log(`  registered ${ORDERS} orders in bin/accrual in ${((Date.now() - tr) / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, 2000)); // let the accrual processor finish them

    const token = await signUp(gm.url, `drain-${limit}-${process.pid}`);
    let t0 = Date.now();
    let uploadedAt = 0;
    const uploading = pool(numbers, CLIENTS, async (n) => {
      const r = await call(gm!.url, 'POST', '/api/user/orders', { body: n, token, headers: { 'content-type': 'text/plain' } });
      if (r.status !== 202) throw new Error(`upload: ${r.status} ${r.text}`);
    }).then(() => (uploadedAt = Date.now()));
    if (mode === 'preload') {
      await uploading;
      await gm.stop();
      gm = await startBin('gophermart', gmEnv);
      t0 = Date.now();
    }
    const uploads = uploading;
    const cpu0 = { gophermart: cpuSeconds(gm.proc.pid), accrual: cpuSeconds(accrual.proc.pid), postgres: await postgresCpu(sql, dbName) };
    let done = 0;
    let lastReport = t0;
    while (done < ORDERS) {
      await new Promise((r) => setTimeout(r, 200));
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from gophermart.orders where status = 'PROCESSED'`;
      done = row?.n ?? 0;
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        console.log(`  ${((lastReport - t0) / 1000).toFixed(0)} s: ${done} processed`);
      }
      if (Date.now() - t0 > TIMEOUT_MS) throw new Error(`not drained after ${TIMEOUT_MS} ms: ${done}/${ORDERS}`);
    }
    const seconds = (Date.now() - t0) / 1000;
    await uploads;
    const cpu1 = { gophermart: cpuSeconds(gm.proc.pid), accrual: cpuSeconds(accrual.proc.pid), postgres: await postgresCpu(sql, dbName) };
    if (mode === 'live') console.log(`  uploads took ${((uploadedAt - t0) / 1000).toFixed(1)} s`);

    const metrics = (await call(gm.url, 'GET', '/metrics')).text;
    const rateLimited = metric(metrics, /gophermart_accrual_requests_total\{outcome="rate_limited"[^}]*\} (\d+)/);
    const requests = [...metrics.matchAll(/gophermart_accrual_requests_total\{[^}]*\} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
    const limitedAt = gm
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{') && l.includes('accrual service rate limit'))
      .map((l) => (Date.parse(/"time":"([^"]+)"/.exec(l)?.[1] ?? '') - t0) / 1000)
      .filter((t) => Number.isFinite(t));

    // Exactly-once: the balance is the sum of expected accruals, and every order holds its own.
    const [bal] = await sql<{ balance: string }[]>`select balance::text from gophermart.users`;
    const want = numbers.reduce((s, _, i) => s + expected(i), 0);
    const rows = await sql<{ number: string; accrual: string }[]>`select number, accrual::text from gophermart.orders`;
    const index = new Map(numbers.map((n, i) => [n, i]));
    const wrongAccruals = rows.filter((r) => Number(r.accrual) !== expected(index.get(r.number) ?? -1)).length;
    const doubleCredits = Math.round((Number(bal?.balance ?? 0) - want) / 1000); // one credit is 10.00–14.90
    return {
      limit,
      mode,
      seconds,
      ordersPerSecond: ORDERS / seconds,
      requests,
      rateLimited,
      limitedAt,
      doubleCredits: Number(bal?.balance ?? 0) === want ? 0 : doubleCredits,
      wrongAccruals,
      cpu: { gophermart: cpu1.gophermart - cpu0.gophermart, accrual: cpu1.accrual - cpu0.accrual, postgres: cpu1.postgres - cpu0.postgres },
    };
  } finally {
    await gm?.stop();
    await accrual?.stop();
    await sql.end({ timeout: 1 });
    await db.drop();
  }
}

interface LatencyResult {
  limit: number;
  perSecond: number;
  orders: number;
  /** upload → credited, and accrual finished → credited, in seconds, per order */
  fromUpload: number[];
  fromFinish: number[];
  lateFromFinish: number[];
  requests: number;
  rateLimited: number;
  doubleCredits: number;
}

const LATENCY =
  (process.env.DRAIN_LATENCY ?? '6000:5:20,120:5:10') === 'none'
    ? []
    : (process.env.DRAIN_LATENCY ?? '6000:5:20,120:5:10').split(',').map((s) => {
        const [limit, perSecond, seconds] = s.split(':').map(Number);
        return { limit: limit ?? 0, perSecond: perSecond ?? 1, seconds: seconds ?? 10 };
      });
/** The accrual service finishes an order this long after it learns of it. */
const PROCESSING_DELAY_MS = 1000;
/** Late orders are registered in the accrual service this long after their upload. */
const LATE_MS = 5000;
/** How often the credited orders are looked for: the resolution of every latency figure. */
const SAMPLE_MS = 100;

/** Nearest-rank percentile of `values` (seconds). */
function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

async function latency(limit: number, perSecond: number, seconds: number): Promise<LatencyResult> {
  const db = await freshDatabase('gm_latency');
  let accrual: ServiceProcess | undefined;
  let gm: ServiceProcess | undefined;
  const sql = postgres(db.url, { max: 2, onnotice: () => undefined });
  try {
    accrual = await startBin('accrual', { DATABASE_URI: db.url, RATE_LIMIT: String(limit), PROCESSING_DELAY: String(PROCESSING_DELAY_MS), LOG_LEVEL: 'warn' });
    const extra = JSON.parse(process.env.DRAIN_GOPHERMART_ENV ?? '{}') as Record<string, string>;
    gm = await startBin('gophermart', { DATABASE_URI: db.url, ACCRUAL_SYSTEM_ADDRESS: accrual.url, LOG_LEVEL: 'warn', ...extra });
    const rule = await call(accrual.url, 'POST', '/api/goods', { body: { match: 'Bork', reward: 10, reward_type: '%' } });
    if (rule.status !== 200) throw new Error(`POST /api/goods: ${rule.status} ${rule.text}`);
    const token = await signUp(gm.url, `latency-${limit}-${process.pid}`);
    const count = perSecond * seconds;
    const numbers = Array.from({ length: count }, (_, i) => withLuhnCheckDigit(`8${String(Date.now() % 1e6).padStart(6, '0')}${String(i).padStart(8, '0')}`));
    const late = (i: number): boolean => i % 10 < 3;
    const uploadedAt = new Map<string, number>();
    const credited = new Map<string, number>();
    const register = async (n: string): Promise<void> => {
      const r = await call(accrual!.url, 'POST', '/api/orders', { body: { order: n, goods: [{ description: 'Чайник Bork', price: 100 }] } });
      if (r.status !== 202) throw new Error(`POST /api/orders: ${r.status} ${r.text}`);
    };
    const lateRegistrations: Promise<void>[] = [];
    const t0 = Date.now();
    const uploads = (async () => {
      for (const [i, n] of numbers.entries()) {
        const due = t0 + (i * 1000) / perSecond;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        if (!late(i)) await register(n);
        uploadedAt.set(n, Date.now());
        const r = await call(gm!.url, 'POST', '/api/user/orders', { body: n, token, headers: { 'content-type': 'text/plain' } });
        if (r.status !== 202) throw new Error(`upload: ${r.status} ${r.text}`);
        if (late(i)) lateRegistrations.push(new Promise((res) => setTimeout(res, LATE_MS)).then(() => register(n)));
      }
    })();
    while (credited.size < count) {
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
      const rows = await sql<{ number: string }[]>`select number from gophermart.orders where status = 'PROCESSED'`;
      const now = Date.now();
      for (const r of rows) if (!credited.has(r.number)) credited.set(r.number, now);
      if (Date.now() - t0 > TIMEOUT_MS) throw new Error(`not credited after ${TIMEOUT_MS} ms: ${credited.size}/${count}`);
    }
    await uploads;
    await Promise.all(lateRegistrations);
    const finished = new Map(
      (await sql<{ number: string; finished_at: Date }[]>`select number, finished_at from accrual.orders where finished_at is not null`).map((r) => [
        r.number,
        r.finished_at.getTime(),
      ]),
    );
    const metrics = (await call(gm.url, 'GET', '/metrics')).text;
    const [bal] = await sql<{ balance: string }[]>`select balance::text from gophermart.users`;
    const fromFinish = (n: string): number => ((credited.get(n) ?? Number.NaN) - (finished.get(n) ?? Number.NaN)) / 1000;
    return {
      limit,
      perSecond,
      orders: count,
      fromUpload: numbers.map((n) => ((credited.get(n) ?? Number.NaN) - (uploadedAt.get(n) ?? Number.NaN)) / 1000),
      fromFinish: numbers.map(fromFinish),
      lateFromFinish: numbers.filter((_, i) => late(i)).map(fromFinish),
      requests: [...metrics.matchAll(/gophermart_accrual_requests_total\{[^}]*\} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0),
      rateLimited: metric(metrics, /gophermart_accrual_requests_total\{outcome="rate_limited"[^}]*\} (\d+)/),
      doubleCredits: Math.round((Number(bal?.balance ?? 0) - count * 1000) / 1000),
    };
  } finally {
    await gm?.stop();
    await accrual?.stop();
    await sql.end({ timeout: 1 });
    await db.drop();
  }
}

const results: Result[] = [];
for (const { limit, mode } of SCENARIOS) {
  console.log(`\ndrain: ${ORDERS} orders, RATE_LIMIT=${limit}, ${mode}`);
  results.push(await drain(limit, mode));
}
if (results.length > 0) {
  console.log(
    '\n| RATE_LIMIT | mode | orders | drain s | orders/s | accrual requests | 429s | 429 at (s) | double credits | wrong accruals | CPU s gophermart / accrual / postgres |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const at =
      r.limitedAt.length > 12
        ? `${r.limitedAt
            .slice(0, 12)
            .map((t) => t.toFixed(1))
            .join(', ')} …`
        : r.limitedAt.map((t) => t.toFixed(1)).join(', ');
    console.log(
      `| ${r.limit || 'off'} | ${r.mode} | ${ORDERS} | ${r.seconds.toFixed(1)} | ${r.ordersPerSecond.toFixed(1)} | ${r.requests} | ${r.rateLimited} | ${at || '—'} | ${r.doubleCredits} | ${r.wrongAccruals} | ${r.cpu.gophermart.toFixed(1)} / ${r.cpu.accrual.toFixed(1)} / ${r.cpu.postgres.toFixed(1)} |`,
    );
  }
}
const latencies: LatencyResult[] = [];
for (const { limit, perSecond, seconds } of LATENCY) {
  console.log(
    `\nlatency: ${perSecond} orders/s for ${seconds} s, RATE_LIMIT=${limit}, PROCESSING_DELAY=${PROCESSING_DELAY_MS}, 30 % learnt ${LATE_MS / 1000} s late`,
  );
  latencies.push(await latency(limit, perSecond, seconds));
}
if (latencies.length > 0) {
  const ps = (v: readonly number[]): string => `${percentile(v, 50).toFixed(1)} / ${percentile(v, 99).toFixed(1)}`;
  console.log(
    `\n| RATE_LIMIT | orders/s | orders | budget | upload → credited p50 / p99 s | accrual finished → credited p50 / p99 s | same, orders learnt ${LATE_MS / 1000} s late | accrual requests | 429s | double credits |`,
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of latencies) {
    const budget = r.limit === 0 || r.limit / 60 > r.perSecond * 2 ? 'ample' : 'scarce';
    console.log(
      `| ${r.limit || 'off'} | ${r.perSecond} | ${r.orders} | ${budget} | ${ps(r.fromUpload)} | ${ps(r.fromFinish)} | ${ps(r.lateFromFinish)} | ${r.requests} | ${r.rateLimited} | ${r.doubleCredits} |`,
    );
  }
  console.log(`(credits are looked for every ${SAMPLE_MS} ms: figures are up to that much late)`);
}
const bad = results.filter((r) => r.doubleCredits !== 0 || r.wrongAccruals !== 0);
const badLatency = latencies.filter((r) => r.doubleCredits !== 0);
process.exit(bad.length || badLatency.length ? 1 : 0);
