import { availableParallelism } from 'node:os';

/**
 * One of OWASP's equivalent argon2id minimums: m = 7 MiB, t = 5, p = 1 (the cheat sheet lists it
 * beside m = 19 MiB, t = 2 as "an equal level of defense"). Each hash in flight holds 7 MiB of
 * resident memory instead of 19, for a little less CPU (docs/performance.md). Hashes made with other parameters still verify: each stored hash names
 * its own. Runs on libuv's pool, off the event loop.
 */
const PARAMS = { memoryCost: 7_168, timeCost: 5, parallelism: 1 } as const;

type Argon2 = typeof import('@node-rs/argon2');
/**
 * Loaded on the first register or login, not at start-up: the native module costs ≈ 5 MB of
 * resident memory that a process serving only signed-in readers never needs.
 */
let argon2: Promise<Argon2> | undefined;
function loadArgon2(): Promise<Argon2> {
  argon2 ??= import('@node-rs/argon2');
  return argon2;
}

async function hash(password: string): Promise<string> {
  const { Algorithm, hash } = await loadArgon2();
  return hash(password, { ...PARAMS, algorithm: Algorithm.Argon2id });
}

async function verify(storedHash: string, password: string): Promise<boolean> {
  return (await loadArgon2()).verify(storedHash, password);
}

/**
 * Each hash holds 7 MiB while it runs; more hashes at once than cores buys no throughput and
 * only memory, so they queue here.
 */
const MAX_CONCURRENT = Math.max(1, Math.min(2, availableParallelism()));
let running = 0;
const waiting: Array<() => void> = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function hashPassword(password: string): Promise<string> {
  return limited(() => hash(password));
}

/** A valid hash of a random password, verified against when a login is unknown so timing does not reveal it. */
let decoyHash: Promise<string> | undefined;

export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (storedHash === undefined) {
    decoyHash ??= hashPassword(`decoy-${Math.random()}`);
    const decoy = await decoyHash;
    await limited(() => verify(decoy, password)).catch(() => false);
    return false;
  }
  try {
    return await limited(() => verify(storedHash, password));
  } catch {
    return false;
  }
}
