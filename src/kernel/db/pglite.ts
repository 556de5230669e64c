import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { StartupError } from '../startup.js';
import { parseInt8, type Database, type Queryable, type Row } from './database.js';

import { IN_MEMORY } from './open.js';

export { IN_MEMORY };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite unpacks its initial cluster with every file `rw-rw-rw-` (pg_hba.conf and
 * postgresql.conf included); files it creates later follow the umask. The directory is the
 * database's alone, as PostgreSQL itself requires: owner-only, nothing group or world
 * accessible. Symbolic links are left alone (chmod would follow them out of the directory).
 */
export function restrictToOwner(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  if ((stat.mode & 0o077) !== 0) chmodSync(path, stat.mode & 0o700);
  if (stat.isDirectory()) for (const name of readdirSync(path)) restrictToOwner(join(path, name));
}

/**
 * PGlite lets two processes open one data directory and silently diverge; a pid lock file
 * turns that into a clear start-up error. A lock left by a dead process is taken over.
 */
function acquireDirLock(dir: string): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lockPath = join(dir, 'gophermart.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new StartupError(
          `embedded database directory ${dir} is in use by process ${owner} (another instance running? stop it or choose another DATA_DIR)`,
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new StartupError(`cannot lock embedded database directory ${dir}`);
}

function wrap(pg: Pick<PGlite, 'query' | 'exec'>): Queryable {
  return {
    async query<R extends Row>(text: string, params: readonly unknown[] = []): Promise<R[]> {
      const result = await pg.query<R>(text, params as unknown[]);
      return result.rows;
    },
    async exec(text: string): Promise<void> {
      await pg.exec(text);
    },
  };
}

/**
 * Embedded PostgreSQL. One instance per process (each costs ~300 MB that close() does not
 * return), shared by every service of the process, each in its own schema.
 */
export async function openEmbedded(dataDir: string): Promise<Database> {
  const release = dataDir === IN_MEMORY ? () => undefined : acquireDirLock(dataDir);
  let pg: PGlite;
  try {
    pg = await PGlite.create(dataDir === IN_MEMORY ? undefined : dataDir, {
      parsers: { [types.INT8]: (v: string) => parseInt8(v) },
    });
  } catch (err) {
    release();
    throw err;
  }
  if (dataDir !== IN_MEMORY) {
    try {
      restrictToOwner(dataDir);
    } catch (err) {
      await pg.close();
      release();
      throw err;
    }
  }
  const base = wrap(pg);
  let closed = false;
  return {
    kind: 'embedded',
    query: base.query,
    exec: base.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pg.transaction((tx) => fn(wrap(tx)));
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pg.close();
      release();
    },
  };
}
