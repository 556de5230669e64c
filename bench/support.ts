import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import postgres from 'postgres';

export const ROOT = resolve(import.meta.dirname, '..');
export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Seconds per scenario; the figures use 15. */
export const DURATION = Number(process.env.BENCH_DURATION ?? 15);

export async function createDatabase(name: string): Promise<string> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
}

export interface Server {
  url: string;
  proc: ChildProcess;
  /** Peak resident set size so far, MB (VmHWM). */
  peakRssMb(): number;
  /** Resident set size now, MB (VmRSS). */
  rssMb(): number;
  stop(): Promise<void>;
}

/** Starts bin/<name> pinned to CPU `cpu` (taskset), leaving the other core to the load generator. */
export async function startServer(name: string, port: number, env: Record<string, string>, cpu = '0', nodeArgs: readonly string[] = []): Promise<Server> {
  // with node flags (profiles, heap settings) the built entry point is run by node directly
  const command = nodeArgs.length > 0 ? [process.execPath, ...nodeArgs, resolve(ROOT, 'dist', 'bin', `${name}.js`)] : [resolve(ROOT, 'bin', name)];
  const proc = spawn('taskset', ['-c', cpu, ...command], {
    env: { PATH: process.env.PATH ?? '', RUN_ADDRESS: `127.0.0.1:${port}`, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    proc,
    peakRssMb: () => statusMb(proc, 'VmHWM'),
    rssMb: () => statusMb(proc, 'VmRSS'),
    stop: () =>
      new Promise((res) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return res();
        proc.once('exit', () => res());
        proc.kill('SIGTERM');
      }),
  };
}

function statusMb(proc: ChildProcess, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

export interface LoadResult {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export async function load(scenario: string, options: autocannon.Options): Promise<LoadResult> {
  const result = await autocannon({ connections: 32, duration: DURATION, ...options });
  return {
    scenario,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/** pgbench on a database of its own (scale 10, 8 clients, 10 s a run), on every core whatever this process is pinned to. */
export interface Pgbench {
  /** tps of one 10-second run: `-S` select-only, `-N` simple update. */
  run(mode: '-S' | '-N'): number;
  /** The day's ceiling: one `-S` run, then one `-N`. */
  ceiling(): { selectOnly: number; simpleUpdate: number };
  drop(): void;
}

export function openPgbench(): Pgbench {
  const db = 'gm_bench_pgbench';
  const admin = new URL(ADMIN_URL);
  const common = ['-h', admin.hostname, '-p', admin.port || '5432', '-U', admin.username || 'postgres'];
  // started after pinLoadGenerator, pgbench would inherit the load generator's one core; the
  // bench pins to CPUs 0 and 1 by number, so it assumes CPUs numbered from 0 like this machine's
  const everyCore = ['-c', `0-${availableParallelism() - 1}`];
  spawnSync('psql', [...common, '-qc', `drop database if exists ${db}`, '-c', `create database ${db}`], { stdio: 'ignore' });
  spawnSync('pgbench', [...common, '-i', '-q', '-s', '10', db], { stdio: 'ignore' });
  return {
    run(mode) {
      const run = spawnSync('taskset', [...everyCore, 'pgbench', ...common, mode, '-c', '8', '-j', '2', '-T', '10', db], { encoding: 'utf8' });
      const tps = Math.round(Number(/tps = ([\d.]+)/.exec(run.stdout)?.[1] ?? 0));
      // a ceiling of 0 would make every ratio infinite and every target met
      if (!(tps > 0)) throw new Error(`pgbench ${mode} measured nothing (exit ${run.status}): ${run.stderr.trim().split('\n').at(-1) ?? ''}`);
      return tps;
    },
    ceiling() {
      return { selectOnly: this.run('-S'), simpleUpdate: this.run('-N') };
    },
    drop() {
      spawnSync('psql', [...common, '-qc', `drop database if exists ${db}`], { stdio: 'ignore' });
    },
  };
}

/** The PostgreSQL ceiling of the day, so figures from different days compare as ratios. */
export function pgbenchCeiling(): { selectOnly: number; simpleUpdate: number } {
  const pgbench = openPgbench();
  try {
    return pgbench.ceiling();
  } finally {
    pgbench.drop();
  }
}

/**
 * Pins this process (every thread, and what it starts from now on) to CPU `cpu`: the load
 * generator's core, apart from the servers' (startServer). Call it after pgbenchCeiling, which
 * measures the machine as it is.
 */
export function pinLoadGenerator(cpu = '1'): void {
  spawnSync('taskset', ['-a', '-p', '-c', cpu, String(process.pid)], { stdio: 'ignore' });
}

export function printTable(title: string, rows: Array<Record<string, string | number>>): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i]!)).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(cols));
  console.log(`|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(cols.map((c) => String(r[c]))));
}
