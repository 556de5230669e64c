import { chmodSync, closeSync, existsSync, fsyncSync, lstatSync, openSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { StartupError } from '../startup.js';
import { acquireDirLock, LOCK_PREFIX } from './dir-lock.js';
import { parseInt8, type Database, type Queryable, type Row } from './database.js';

import { IN_MEMORY } from './open.js';

export { IN_MEMORY };

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
 * Present while a database is being made in a directory that held nothing else. PGlite's
 * initdb writes a few dozen files over seconds, PG_VERSION not first; a process killed in
 * between left a directory that every later start refused (files but no PG_VERSION) or could
 * not open, so a first start cut short by a kill -9 needed someone to empty the directory by
 * hand. With the mark, the next start knows those files are an unfinished creation that holds
 * nothing yet, clears them and makes the database again.
 */
export const CREATING_MARK = 'gophermart.creating';

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Clears what an unfinished creation left (the lock and the mark stay). */
function clearUnfinishedCreation(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (name.startsWith(LOCK_PREFIX) || name === CREATING_MARK) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/**
 * What a data directory may hold before a database is made in it: nothing but the lock. A
 * directory with other files and no `PG_VERSION` is not a database of ours, or a damaged one:
 * PGlite would make a fresh, empty database over it (every user, order and wallet gone, yet a
 * normal start), and restrictToOwner would take the group's and others' access to every file
 * in it. Refused, with nothing changed. Returns whether the database is still to be made.
 */
function checkDataDir(dir: string): boolean {
  const names = readdirSync(dir).filter((name) => !name.startsWith(LOCK_PREFIX));
  if (names.length === 0) return true;
  if (names.includes('PG_VERSION')) return false;
  throw new StartupError(
    `${dir} holds files but no embedded database (no PG_VERSION): not a data directory of this platform, or a damaged one; nothing was changed (choose an empty or new DATA_DIR, or restore the directory)`,
  );
}

/**
 * PGlite's own failures on a damaged directory say `Aborted()` or `PGlite failed to initialize
 * properly`: the operator is told which directory, and what to do. Errors with a system code
 * (no permission, a read-only disk) and ours keep their words.
 */
function openFailure(err: unknown, dataDir: string): unknown {
  if (err instanceof StartupError || (typeof err === 'object' && err !== null && 'code' in err)) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new StartupError(
    `embedded database in ${dataDir} cannot be opened (${reason}): a damaged data directory? restore it from a copy, or choose another DATA_DIR`,
  );
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
  const mark = join(dataDir, CREATING_MARK);
  let creating = false;
  try {
    if (dataDir !== IN_MEMORY) {
      // the mark is written only into an otherwise empty directory, so whatever stands beside it is PGlite's unfinished work
      if (existsSync(mark)) {
        clearUnfinishedCreation(dataDir);
        creating = true;
      } else if (checkDataDir(dataDir)) {
        closeSync(openSync(mark, 'w', 0o600));
        syncDir(dataDir);
        creating = true;
      }
    }
    pg = await PGlite.create(dataDir === IN_MEMORY ? undefined : dataDir, {
      parsers: { [types.INT8]: (v: string) => parseInt8(v) },
    });
    if (creating) {
      rmSync(mark);
      syncDir(dataDir);
    }
  } catch (err) {
    release();
    throw openFailure(err, dataDir);
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
