/** How many failed logins are allowed, over how long. */
export interface LoginLimits {
  /** Failed logins for one login from one client address. */
  perPair: number;
  /** Failed logins from one client address over all logins. */
  perAddress: number;
  windowMs: number;
}

/** SPEC's numbers: 10 per (login, address) and 100 per address, each per 15 minutes. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perPair: 10, perAddress: 100, windowMs: 15 * 60_000 };

/** One failed login (or one attempt in flight) recorded from a client address. */
export interface RecordedFailure {
  loginKey: string;
  atMs: number;
  /** A later successful login of this pair cleared it from the pair's count; it still counts for the address. */
  pairCleared: boolean;
}

/** Milliseconds until the oldest of the failures holding a count at its limit leaves the window; 0 when under it. */
function waitFor(failuresOldestFirst: readonly RecordedFailure[], limit: number, windowMs: number, nowMs: number): number {
  if (failuresOldestFirst.length < limit) return 0;
  // the count falls below the limit once this many of the oldest have left the window
  const freeing = failuresOldestFirst[failuresOldestFirst.length - limit];
  return freeing === undefined ? 0 : Math.max(1, freeing.atMs + windowMs - nowMs);
}

/**
 * The sliding-window rule: an attempt may go ahead when, over the last `windowMs`, fewer than
 * `perPair` failures of this pair and fewer than `perAddress` failures from this address are
 * recorded. Returns 0 then, else how long until it may (the larger of the two waits).
 * `failures` are the address's, oldest first, already limited to the window.
 */
export function lockedForMs(failures: readonly RecordedFailure[], loginKey: string, limits: LoginLimits, nowMs: number): number {
  const pair = failures.filter((f) => f.loginKey === loginKey && !f.pairCleared);
  return Math.max(waitFor(pair, limits.perPair, limits.windowMs, nowMs), waitFor(failures, limits.perAddress, limits.windowMs, nowMs));
}
