import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StartupError } from '../startup.js';

/** Every file the lock uses starts with this (the lock, its takeover lock, a lock being written). */
export const LOCK_PREFIX = 'gophermart.lock';
const LOCK = LOCK_PREFIX;
/** Held for the instant a stale lock is replaced, so two starts cannot both replace it. */
const TAKEOVER = `${LOCK_PREFIX}.takeover`;

/**
 * Who holds a lock: the pid, and where the system tells, when that process started (clock
 * ticks since boot) and which boot it belongs to. A pid alone is reused: after a reboot, or a
 * crash and enough new processes, it can name a live process that has nothing to do with the
 * lock.
 */
interface Holder {
  pid: number;
  started?: string;
  boot?: string;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Process `pid`'s state and start time from /proc (Linux), or undefined where there is none. */
function statOf(pid: number): { state: string; started: string } | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // the command name in parentheses may hold spaces: the fields count from its closing one
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', started: fields[19] ?? '' };
}

function bootId(): string | undefined {
  return readOrUndefined('/proc/sys/kernel/random/boot_id');
}

function me(): Holder {
  return { pid: process.pid, started: statOf(process.pid)?.started, boot: bootId() };
}

/** `pid started boot`, or a bare pid (what earlier versions wrote). */
function parseHolder(text: string | undefined): Holder | undefined {
  const [pid, started, boot] = (text ?? '').split(/\s+/);
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  return { pid: n, ...(started ? { started } : {}), ...(boot ? { boot } : {}) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process that wrote the lock still runs: its pid is alive (not a zombie) and, where known, is the same process (same boot, same start). */
function holds(holder: Holder): boolean {
  if (holder.pid === process.pid || !isAlive(holder.pid)) return false;
  if (holder.boot !== undefined && bootId() !== undefined && holder.boot !== bootId()) return false;
  const stat = statOf(holder.pid);
  // killed but not yet reaped by its parent: it holds nothing any more
  if (stat?.state === 'Z' || stat?.state === 'X') return false;
  return holder.started === undefined || stat === undefined || holder.started === stat.started;
}

/**
 * Creates `path` holding `text` if it does not exist; false when it does. Written aside and
 * linked into place, so nobody ever reads it half written (an empty lock would look stale).
 */
function createExclusive(path: string, text: string): boolean {
  const aside = `${path}.${process.pid}`;
  const fd = openSync(aside, 'w', 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(aside, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(aside, { force: true });
  }
}

function inUse(dir: string, holder: Holder): StartupError {
  return new StartupError(
    `embedded database directory ${dir} is in use by process ${holder.pid} (another instance running? stop it or choose another DATA_DIR)`,
  );
}

/**
 * PGlite lets two processes open one data directory and silently diverge; a lock file naming
 * its process turns that into a clear start-up error. A lock whose process is gone (killed, a
 * reboot) is taken over, by one start at a time: the takeover lock makes "is it still the stale
 * lock? then replace it" one step, so two starts that both found it stale cannot both replace
 * it. Returns the release.
 */
export function acquireDirLock(dir: string): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lockPath = join(dir, LOCK);
  const takeoverPath = join(dir, TAKEOVER);
  const mine = me();
  const text = [mine.pid, mine.started ?? '', mine.boot ?? ''].join(' ').trim();
  const release = () => rmSync(lockPath, { force: true });
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createExclusive(lockPath, text)) return release;
    const seen = readOrUndefined(lockPath);
    const holder = parseHolder(seen);
    if (holder && holds(holder)) throw inUse(dir, holder);
    // stale (or unreadable, being written): replace it, under the takeover lock
    if (createExclusive(takeoverPath, text)) {
      try {
        if (readOrUndefined(lockPath) === seen) rmSync(lockPath, { force: true });
      } finally {
        rmSync(takeoverPath, { force: true });
      }
      continue;
    }
    const taker = parseHolder(readOrUndefined(takeoverPath));
    // a start that died in the instant it held the takeover lock leaves it behind
    if (taker && !holds(taker)) rmSync(takeoverPath, { force: true });
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  throw new StartupError(`cannot lock embedded database directory ${dir}`);
}
