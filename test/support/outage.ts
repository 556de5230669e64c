import assert from 'node:assert/strict';
import type { PgCluster, StopMode } from './pg-cluster.js';
import type { ServiceProcess } from './process.js';

/** Polls `check` until it holds; resolves with the milliseconds it took, rejects past the deadline. */
export async function msUntil(what: string, deadlineMs: number, check: () => Promise<boolean>, everyMs = 20): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check().catch(() => false)) return performance.now() - started;
    if (performance.now() - started > deadlineMs) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** What an answer during an outage must be, exactly. */
export const UNAVAILABLE_BODY = '{"error":"database unavailable"}';
/** Longest answer allowed while the database is away. */
export const ANSWER_WITHIN_MS = 2000;
/** Longest time from the database's return to normal answers. */
export const RECOVER_WITHIN_MS = 5000;

export interface Sample {
  op: string;
  /** performance.now() when the request was sent. */
  at: number;
  ms: number;
  /** HTTP status, or 0 when the request failed without an answer. */
  status: number;
  body: string;
}

/** One request of a load: its HTTP answer, recorded with its timing. */
export class Recorder {
  readonly samples: Sample[] = [];

  async time(op: string, send: () => Promise<Response>): Promise<{ status: number; body: string }> {
    const at = performance.now();
    let status = 0;
    let body = '';
    try {
      const res = await send();
      status = res.status;
      body = await res.text();
    } catch (err) {
      body = String(err);
    }
    this.samples.push({ op, at, ms: performance.now() - at, status, body });
    return { status, body };
  }
}

export interface Window {
  mode: StopMode;
  /** The server was stopped (pg_ctl returned). */
  stopped: number;
  /** pg_ctl start was run. */
  starting: number;
  /** pg_ctl start returned: the server accepts connections. */
  up: number;
  /** Every service answered normally again. */
  recovered: number;
}

export interface OutageFigures {
  mode: StopMode;
  longestAnswerDuringOutageMs: number;
  answersDuringOutage: number;
  unavailableAnswers: number;
  readyz503WithinMs: number;
  recoveredMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function status(url: string): Promise<{ status: number; body: string; ms: number }> {
  const at = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text(), ms: performance.now() - at };
  } catch (err) {
    return { status: 0, body: String(err), ms: performance.now() - at };
  }
}

export function assertAlive(procs: readonly ServiceProcess[]): void {
  for (const p of procs)
    assert.ok(p.proc.exitCode === null && p.proc.signalCode === null, `${p.url} exited (${p.proc.exitCode ?? p.proc.signalCode}):\n${p.output().slice(-3000)}`);
}

/**
 * Stops the cluster for `outageMs` while the caller's load runs, watching every service's
 * /healthz (always 200) and /readyz (503 while away, each answer within 2 s), then starts it
 * again and waits until `normal()` holds for every service. Returns the window's times.
 */
export async function outage(options: {
  cluster: PgCluster;
  mode: StopMode;
  services: readonly ServiceProcess[];
  outageMs: number;
  /** One normal request per service (true when it got its normal answer). */
  normal: () => Promise<boolean>;
}): Promise<{ window: Window; readyz503WithinMs: number }> {
  const { cluster, mode, services } = options;
  await cluster.stop(mode);
  const stopped = performance.now();
  let readyz503WithinMs = 0;
  const seen503 = new Set<string>();
  while (performance.now() - stopped < options.outageMs) {
    for (const s of services) {
      const [ready, health] = await Promise.all([status(`${s.url}/readyz`), status(`${s.url}/healthz`)]);
      assert.equal(health.status, 200, `${s.url}/healthz during the outage: ${health.status} ${health.body}`);
      assert.ok(ready.ms < ANSWER_WITHIN_MS, `${s.url}/readyz took ${Math.round(ready.ms)} ms during the outage`);
      if (ready.status === 503) {
        assert.equal(ready.body, UNAVAILABLE_BODY);
        if (!seen503.has(s.url)) readyz503WithinMs = Math.max(readyz503WithinMs, performance.now() - stopped);
        seen503.add(s.url);
      } else assert.equal(ready.status, 200, `${s.url}/readyz: ${ready.status} ${ready.body}`);
    }
    assertAlive(services);
    await sleep(100);
  }
  for (const s of services) assert.ok(seen503.has(s.url), `${s.url}/readyz never answered 503 during the outage`);
  const starting = performance.now();
  await cluster.start();
  const up = performance.now();
  for (;;) {
    const ready = await Promise.all(services.map((s) => status(`${s.url}/readyz`)));
    if (ready.every((r) => r.status === 200) && (await options.normal())) break;
    assert.ok(performance.now() - up < RECOVER_WITHIN_MS, `not answering normally ${RECOVER_WITHIN_MS} ms after PostgreSQL returned`);
    await sleep(50);
  }
  const recovered = performance.now();
  assertAlive(services);
  return { window: { mode, stopped, starting, up, recovered }, readyz503WithinMs };
}

/**
 * Judges the load's answers against one outage window: while the database was away (from the
 * stop until its return) every answer came within 2 s and was either a normal answer from
 * `normalStatuses` or the exact 503; nothing was ever a 500 or a dropped connection.
 */
export function judge(samples: readonly Sample[], window: Window, normalStatuses: readonly number[], readyz503WithinMs: number): OutageFigures {
  for (const s of samples) {
    assert.ok(s.status !== 0, `${s.op}: no answer (${s.body})`);
    assert.ok(s.status < 500 || s.status === 503, `${s.op}: ${s.status} ${s.body}`);
    if (s.status === 503) assert.equal(s.body, UNAVAILABLE_BODY, `${s.op}: 503 body`);
    else assert.ok(normalStatuses.includes(s.status), `${s.op}: unexpected ${s.status} ${s.body}`);
  }
  const during = samples.filter((s) => s.at + s.ms >= window.stopped && s.at <= window.starting);
  let longest = 0;
  for (const s of during) {
    longest = Math.max(longest, s.ms);
    assert.ok(s.ms < ANSWER_WITHIN_MS, `${s.op} took ${Math.round(s.ms)} ms during the ${window.mode} outage (${s.status})`);
  }
  const unavailable = during.filter((s) => s.status === 503).length;
  assert.ok(unavailable > 0, `no request met the ${window.mode} outage`);
  return {
    mode: window.mode,
    longestAnswerDuringOutageMs: Math.round(longest),
    answersDuringOutage: during.length,
    unavailableAnswers: unavailable,
    readyz503WithinMs: Math.round(readyz503WithinMs),
    recoveredMs: Math.round(window.recovered - window.up),
  };
}

/**
 * The outage protocol of the services' db-outage tests: with the caller's load running, 1.5 s
 * of normal service, then PostgreSQL stopped for 5 s in each mode (fast, then immediate), the
 * load going on 1 s after each return for the answers after recovery; each round judged
 * against `normalStatuses`. `stopLoad` ends the load and waits for it, whatever happened.
 */
export async function outageRounds(options: {
  cluster: PgCluster;
  services: readonly ServiceProcess[];
  normal: () => Promise<boolean>;
  recorder: Recorder;
  normalStatuses: readonly number[];
  stopLoad: () => Promise<void>;
}): Promise<OutageFigures[]> {
  const { cluster, services, normal } = options;
  const figures: OutageFigures[] = [];
  try {
    await sleep(1500);
    for (const mode of ['fast', 'immediate'] as const) {
      const { window, readyz503WithinMs } = await outage({ cluster, mode, services, outageMs: 5000, normal });
      // the load goes on a while after the return, for the answers after recovery
      await sleep(1000);
      figures.push(judge(options.recorder.samples, window, options.normalStatuses, readyz503WithinMs));
    }
  } finally {
    await options.stopLoad();
  }
  return figures;
}
