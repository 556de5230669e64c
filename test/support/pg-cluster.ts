import { execFile, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freePort } from './process.js';

const run = promisify(execFile);
const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

export type StopMode = 'fast' | 'immediate';

export interface PgCluster {
  readonly port: number;
  /** A URL for `database` on this cluster (superuser `postgres`, trust auth). */
  url(database?: string): string;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  start(): Promise<void>;
  /** `fast`: clients are told and disconnected; `immediate`: the server's processes just go. */
  stop(mode: StopMode): Promise<void>;
  /** Stops the server (immediately) and removes its directory; safe to call twice. */
  destroy(): Promise<void>;
}

/** Commands run as the `postgres` OS user when we are root (initdb and postgres refuse root). */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', OS_USER, '--', command, ...args]] : [command, args];
}

const live = new Set<{ dir: string; stopSync(): void }>();
process.on('exit', () => {
  // a test that failed or was interrupted must not leave a server or its directory behind
  for (const cluster of live) cluster.stopSync();
});

/**
 * A throwaway PostgreSQL server for fault tests: its own data directory in a temp dir, its own
 * port on 127.0.0.1, trust auth, fsync off (safe: the tests stop the server, never the
 * machine; synchronous_commit stays on, or an immediate stop would lose acknowledged commits). Tests stop and start it at will; the machine's own
 * server is never touched.
 */
export async function createPgCluster(): Promise<PgCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'gm-pg-'));
  const dataDir = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { uid, gid } = osUser();
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  const pgCtl = async (...args: string[]): Promise<void> => {
    const [cmd, argv] = asPostgres(join(BIN, 'pg_ctl'), ['-D', dataDir, ...args]);
    await run(cmd, argv, { timeout: 60_000 });
  };
  let running = false;
  const entry = {
    dir,
    stopSync() {
      if (running) {
        const [cmd, argv] = asPostgres(join(BIN, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
        spawnSync(cmd, argv, { stdio: 'ignore', timeout: 20_000 });
        running = false;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(entry);
  try {
    const [cmd, argv] = asPostgres(join(BIN, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    await run(cmd, argv, { timeout: 120_000 });
  } catch (err) {
    entry.stopSync();
    live.delete(entry);
    throw err;
  }
  const url = (database = 'postgres'): string => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const cluster: PgCluster = {
    port,
    url,
    async createDatabase(name) {
      const admin = postgres(url(), { max: 1, onnotice: () => undefined });
      try {
        await admin.unsafe(`create database ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    async start() {
      await pgCtl('-w', '-l', join(dir, 'server.log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c max_connections=200`, 'start');
      running = true;
    },
    async stop(mode) {
      await pgCtl('-m', mode, '-w', 'stop');
      running = false;
    },
    async destroy() {
      if (!live.has(entry)) return;
      live.delete(entry);
      entry.stopSync();
    },
  };
  return cluster;
}

function osUser(): { uid: number; gid: number } {
  const out = spawnSync('id', ['-u', OS_USER], { encoding: 'utf8' });
  const grp = spawnSync('id', ['-g', OS_USER], { encoding: 'utf8' });
  const uid = Number(out.stdout.trim());
  const gid = Number(grp.stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || out.status !== 0) throw new Error(`no OS user ${OS_USER} to run PostgreSQL as`);
  return { uid, gid };
}
